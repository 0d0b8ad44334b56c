"""Plan-time fusion (fastconv/plan/fusion.py): BatchNorm folded into Conv / ConvTranspose weights, residual Add
and activations fused into the conv epilogue. Each pattern must fuse (the plan has fewer steps) and still
match onnxruntime; patterns that must not fuse are checked too."""
import numpy as np
import pytest
from onnx import helper

import fastconv
from tests.util import assert_matches_ort, make_model, rand

C = 8


def _conv(x, y, w="w", b="b", **attrs):
    return helper.make_node("Conv", [x, w] + ([b] if b else []), [y], pads=[1, 1, 1, 1], **attrs)


def _bn(x, y):
    return helper.make_node("BatchNormalization", [x, "s", "bb", "mu", "var"], [y], epsilon=1e-3)


def _inits(seed=0):
    rng = np.random.default_rng(seed)
    return {"w": rand(C, C, 3, 3, seed=seed) * 0.3, "b": rand(C, seed=seed + 1),
            "s": rng.uniform(0.5, 2, C).astype(np.float32), "bb": rand(C, seed=seed + 2),
            "mu": rand(C, seed=seed + 3), "var": rng.uniform(0.1, 3, C).astype(np.float32),
            "lo": np.array(-0.5, np.float32), "hi": np.array(0.8, np.float32)}


def _check(nodes, steps, extra_inputs=(), outputs=("y",), threads=2, inits=None):
    x = rand(2, C, 11, 13, seed=7)
    feeds = {"x": x}
    ins = [("x", np.float32, list(x.shape))]
    for k, name in enumerate(extra_inputs):
        feeds[name] = rand(2, C, 11, 13, seed=20 + k)
        ins.append((name, np.float32, list(x.shape)))
    model = make_model(nodes, ins, [(o, np.float32, None) for o in outputs], inits or _inits())
    # BatchNorm folded in float64 then rounded: the weights differ from ORT's by an ulp, hence atol 3e-5
    assert_matches_ort(model, feeds, rtol=1e-4, atol=3e-5, num_threads=threads)
    # the plan's fusion structure, without the layout pass's reorders (tests/runtime/test_layout.py covers those)
    sess = fastconv.InferenceSession(model, num_threads=threads, layout=False)
    plan = sess.plan_for({k: v.shape for k, v in feeds.items()})
    assert len(plan.steps) == steps, [s.node.op_type for s in plan.steps]
    unfused = fastconv.InferenceSession(model, num_threads=threads, fuse=False)
    for a, b in zip(sess.run(None, feeds), unfused.run(None, feeds)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=3e-5)
    return plan


def test_resnet_block_conv_bn_add_relu_is_one_step():
    plan = _check([_conv("x", "c", b=""), _bn("c", "n"), helper.make_node("Add", ["n", "x"], ["a"]),
                   helper.make_node("Relu", ["a"], ["y"])], steps=1)
    node = plan.steps[0].node
    assert [n.op_type for n in node.fused_from] == ["Conv", "BatchNormalization", "Add", "Relu"]
    assert node.op.epilogue.describe() == "+residual,Relu"


def test_residual_on_either_side_of_add():
    _check([_conv("x", "c"), helper.make_node("Add", ["r", "c"], ["y"])], steps=1, extra_inputs=["r"])


@pytest.mark.parametrize("act,attrs,inputs", [
    ("Relu", {}, []), ("LeakyRelu", {"alpha": 0.2}, []), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, []),
    ("HardSwish", {}, []), ("Sigmoid", {}, []), ("Tanh", {}, []), ("Clip", {}, ["lo", "hi"]),
    ("Clip", {}, ["", "hi"]), ("Clip", {}, ["lo"]),
])
def test_each_activation_fuses(act, attrs, inputs):
    _check([_conv("x", "c"), helper.make_node(act, ["c"] + inputs, ["y"], **attrs)], steps=1)


def test_conv_transpose_bn_relu():
    inits = _inits()
    inits["wt"] = rand(C, C // 2, 2, 2, seed=9)  # group 2: C in, C out
    nodes = [helper.make_node("ConvTranspose", ["x", "wt"], ["c"], strides=[2, 2], group=2), _bn("c", "n"),
             helper.make_node("Relu", ["n"], ["y"])]
    x = rand(1, C, 5, 6, seed=3)
    model = make_model(nodes, [("x", np.float32, [1, C, 5, 6])], [("y", np.float32, None)], inits)
    assert_matches_ort(model, {"x": x}, rtol=1e-4, atol=3e-5)
    assert len(fastconv.InferenceSession(model, layout=False).plan_for({"x": x.shape}).steps) == 1


def test_not_fused_when_conv_output_is_read_twice_or_is_a_graph_output():
    # c feeds both Relu and Add: nothing may be fused into the conv
    _check([_conv("x", "c"), helper.make_node("Relu", ["c"], ["r"]), helper.make_node("Add", ["c", "r"], ["y"])],
           steps=3)
    # c is a graph output
    _check([_conv("x", "c"), helper.make_node("Relu", ["c"], ["y"])], steps=2, outputs=("c", "y"))


def test_not_fused_when_add_broadcasts_or_follows_the_activation():
    inits = _inits()
    inits["row"] = rand(13, seed=4)
    _check([_conv("x", "c"), helper.make_node("Add", ["c", "row"], ["y"])], steps=2, inits=inits)
    # Relu then Add: the epilogue order is residual-then-activation, so only the Relu fuses
    _check([_conv("x", "c"), helper.make_node("Relu", ["c"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"])],
           steps=2)


def test_clip_with_runtime_bounds_is_not_fused():
    x = rand(1, C, 6, 6, seed=1)
    nodes = [_conv("x", "c"), helper.make_node("Clip", ["c", "lo_in"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [1, C, 6, 6]), ("lo_in", np.float32, [])],
                       [("y", np.float32, None)], _inits())
    feeds = {"x": x, "lo_in": np.array(0.1, np.float32)}
    assert_matches_ort(model, feeds, rtol=1e-4, atol=3e-5)
    assert len(fastconv.InferenceSession(model, layout=False).plan_for({"x": x.shape, "lo_in": ()}).steps) == 2


def test_graph_is_not_modified_by_fusion():
    nodes = [_conv("x", "c"), _bn("c", "n"), helper.make_node("Relu", ["n"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [1, C, "h", "w"])], [("y", np.float32, None)], _inits())
    sess = fastconv.InferenceSession(model, layout=False)
    for h in (5, 9):  # two plans from one graph
        x = rand(1, C, h, 7, seed=h)
        assert len(sess.plan_for({"x": x.shape}).steps) == 1
        assert_matches_ort(model, {"x": x}, rtol=1e-4, atol=3e-5)
    assert [n.op_type for n in sess.graph.nodes] == ["Conv", "BatchNormalization", "Relu"]
    assert sess.graph.nodes[0].op.epilogue.is_identity


def test_per_channel_mul_add_fold_into_the_conv():
    """BatchNorm as Mul + Add by per-channel constants (Inception v2, DenseNet exports), any broadcast form."""
    inits = _inits()
    inits["k"] = rand(C, 1, 1, seed=11)
    inits["t"] = rand(1, C, 1, 1, seed=12)
    inits["s0"] = np.array(0.7, np.float32)
    nodes = [_conv("x", "c"), helper.make_node("Mul", ["k", "c"], ["m"]), helper.make_node("Add", ["m", "t"], ["a"]),
             helper.make_node("Mul", ["a", "s0"], ["z"]), helper.make_node("Relu", ["z"], ["y"])]
    _check(nodes, steps=1, inits=inits)


def test_sum_of_two_is_a_residual_add():
    _check([_conv("x", "c"), helper.make_node("Sum", ["c", "r"], ["y"])], steps=1, extra_inputs=["r"])


def test_not_folded_when_the_constant_varies_over_space_or_is_not_constant():
    inits = _inits()
    inits["sp"] = rand(1, 1, 11, 13, seed=13)  # per pixel, not per channel
    _check([_conv("x", "c"), helper.make_node("Mul", ["c", "sp"], ["y"])], steps=2, inits=inits)
    # a fed tensor of the output's shape: Mul is no residual
    _check([_conv("x", "c"), helper.make_node("Mul", ["c", "r"], ["y"])], steps=2, extra_inputs=["r"])
    # Sum of three is no residual Add
    _check([_conv("x", "c"), helper.make_node("Sum", ["c", "r", "x"], ["y"])], steps=2, extra_inputs=["r"])


@pytest.mark.parametrize("form", ["silu", "hardsigmoid", "clip_div", "clip_mul"])
def test_decomposed_activations_fuse(form):
    inits = _inits()
    inits.update({"three": np.array(3.0, np.float32), "zero": np.array(0.0, np.float32),
                  "six": np.array(6.0, np.float32), "sixth": np.array(1 / 6, np.float32)})
    nodes = [_conv("x", "c"), helper.make_node("Add", ["x", "c"], ["u"])]  # residual, then the activation
    if form == "silu":
        nodes += [helper.make_node("Sigmoid", ["u"], ["g"]), helper.make_node("Mul", ["g", "u"], ["y"])]
    elif form == "hardsigmoid":
        nodes += [helper.make_node("HardSigmoid", ["u"], ["g"], alpha=1 / 6, beta=0.5),
                  helper.make_node("Mul", ["u", "g"], ["y"])]
    else:
        nodes += [helper.make_node("Add", ["u", "three"], ["a"]), helper.make_node("Clip", ["a", "zero", "six"], ["k"]),
                  helper.make_node("Mul", ["u", "k"], ["m"]),
                  helper.make_node("Div", ["m", "six"], ["y"]) if form == "clip_div" else
                  helper.make_node("Mul", ["m", "sixth"], ["y"])]
    plan = _check(nodes, steps=1, inits=inits)
    assert plan.steps[0].node.op.epilogue.describe() == ("+residual," + ("Silu" if form == "silu" else "HardSwish"))


def test_decomposed_activation_not_fused_when_an_inner_value_is_read_elsewhere():
    inits = _inits()
    nodes = [_conv("x", "c"), helper.make_node("Sigmoid", ["c"], ["g"]), helper.make_node("Mul", ["g", "c"], ["m"]),
             helper.make_node("Add", ["m", "g"], ["y"])]  # g also feeds the Add
    _check(nodes, steps=4, inits=inits)


# ---- chains of per-channel affine ops not after a conv: ChannelAffine (fuse_channel_affine) ----


def _vec(name, k, seed):
    return {name: (rand(1, C, 1, 1, seed=seed) + (2.0 if k == "scale" else 0.0)).astype(np.float32)}


@pytest.mark.parametrize("act", [None, "Relu", "Sigmoid", "LeakyRelu", "Clip"])
def test_pre_activation_chain_is_one_pass(act):
    """DenseNet's BN -> Mul -> Add -> Relu on a tensor no conv produced: one ChannelAffine step."""
    inits = {**_inits(), **_vec("k", "scale", 3), **_vec("t", "shift", 4)}
    nodes = [_bn("x", "n"), helper.make_node("Mul", ["k", "n"], ["m"]), helper.make_node("Add", ["m", "t"], ["a"])]
    if act == "Clip":
        nodes.append(helper.make_node("Clip", ["a", "lo", "hi"], ["y"]))
    elif act == "LeakyRelu":
        nodes.append(helper.make_node("LeakyRelu", ["a"], ["y"], alpha=0.2))
    elif act:
        nodes.append(helper.make_node(act, ["a"], ["y"]))
    else:
        nodes[-1] = helper.make_node("Add", ["m", "t"], ["y"])
    plan = _check(nodes, steps=1, inits=inits)
    node = plan.steps[0].node
    assert node.op_type == "ChannelAffine" and len(node.fused_from) == len(nodes)
    assert getattr(plan.steps[0].fn, "accepts_out", False)


def test_sub_div_chain_and_a_lone_bn_fuse():
    inits = {**_inits(), **_vec("k", "scale", 5), **_vec("t", "shift", 6)}
    _check([helper.make_node("Sub", ["x", "t"], ["s1"]), helper.make_node("Div", ["s1", "k"], ["y"])], steps=1,
           inits=inits)
    plan = _check([_bn("x", "y")], steps=1)
    assert plan.steps[0].node.op_type == "ChannelAffine"


def test_affine_chains_that_must_not_fuse():
    inits = {**_inits(), **_vec("k", "scale", 5), "full": rand(1, C, 11, 13, seed=9),
             "t": rand(1, C, 1, 1, seed=6)}
    # a lone per-channel Mul stays a Mul (numpy does it in one pass)
    plan = _check([helper.make_node("Mul", ["x", "k"], ["y"])], steps=1, inits=inits)
    assert plan.steps[0].node.op_type == "Mul"
    # a constant that is not per-channel ends the chain; so does an intermediate graph output; k / x is no affine
    _check([_bn("x", "n"), helper.make_node("Mul", ["n", "full"], ["y"])], steps=2, inits=inits)
    plan = _check([_bn("x", "n"), helper.make_node("Relu", ["n"], ["y"])], steps=2, outputs=("y", "n"),
                  inits=inits)
    assert [s.node.op_type for s in plan.steps] == ["ChannelAffine", "Relu"]
    _check([_bn("x", "n"), helper.make_node("Div", ["t", "n"], ["y"])], steps=2, inits=inits)
