"""Layout propagation (fastconv/plan/layout.py): convolutional trunks run on NCHWc buffers with reorders only at
their borders. Every case is checked against onnxruntime, and the plan's layout (blocked steps, reorders) is
asserted, so a pass that silently stops blocking (or blocks what it must not) fails here."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import helper

import fastconv
from fastconv.plan.layout import block_constant, unblock
from tests.util import assert_matches_ort, make_model, rand



def _width():
    from fastconv.platform import Platform

    return Platform.detect().simd_width


def _session_layout(model, threads=1, **kw):
    sess = fastconv.InferenceSession(model, num_threads=threads, **kw)
    (info,) = sess.layout_info().values()
    plan = next(iter(sess._executors.values())).plan
    kinds = {}   # ONNX node name -> layout of the step that runs it (fused nodes: the fused step's)
    for s in plan.steps:
        if s.node.op_type != "Reorder":
            for n in [s.node, *(s.node.fused_from or [])]:
                kinds[n.name] = "blocked" if s.node.op.layout else "plain"
    return sess, info, kinds


def _conv(x, y, name, k=3, pads=1, stride=1, residual=None, relu=True):
    nodes = [helper.make_node("Conv", [x, f"{name}_w", f"{name}_b"], [f"{name}_c"], name=name,
                              kernel_shape=[k, k], pads=[pads] * 4, strides=[stride] * 2)]
    cur = f"{name}_c"
    if residual:
        nodes.append(helper.make_node("Add", [cur, residual], [f"{name}_a"], name=f"{name}_add"))
        cur = f"{name}_a"
    if relu:
        nodes.append(helper.make_node("Relu", [cur], [y], name=f"{name}_relu"))
    else:
        nodes.append(helper.make_node("Identity", [cur], [y], name=f"{name}_id"))
    return nodes


def _conv_inits(name, cin, cout, k, seed):
    return {f"{name}_w": rand(cout, cin, k, k, seed=seed) * (2.0 / (cin * k * k)) ** 0.5,
            f"{name}_b": rand(cout, seed=seed + 1) * 0.1}


def _resnet_like(cin=3, c=32, batch=1, hw=20):
    nodes, inits = [], {}
    nodes += _conv("x", "s", "stem", k=3, stride=2)
    inits.update(_conv_inits("stem", cin, c, 3, 1))
    nodes.append(helper.make_node("MaxPool", ["s"], ["p"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                                  pads=[1, 1, 1, 1]))
    nodes += _conv("p", "a", "c1", k=1, pads=0)
    inits.update(_conv_inits("c1", c, 48, 1, 3))
    nodes += _conv("a", "b", "c2", k=3, residual=None)
    inits.update(_conv_inits("c2", 48, c, 3, 5))
    nodes += _conv("b", "r", "c3", k=3, residual="p")
    inits.update(_conv_inits("c3", c, c, 3, 7))
    nodes.append(helper.make_node("AveragePool", ["r"], ["q"], name="avg", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("GlobalAveragePool", ["q"], ["g"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["g"], ["f"], name="flat"))
    nodes.append(helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], name="fc", transB=1))
    inits.update({"fc_w": rand(10, c, seed=9), "fc_b": rand(10, seed=10)})
    x = rand(batch, cin, hw, hw, seed=11)
    model = make_model(nodes, [("x", np.float32, list(x.shape))], [("y", np.float32, None)], inits)
    return model, {"x": x}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch", [1, 2])
def test_resnet_like_trunk_is_blocked_with_one_reorder(threads, batch):
    model, feeds = _resnet_like(batch=batch)
    assert_matches_ort(model, feeds, num_threads=threads)
    _, info, kinds = _session_layout(model, threads)
    assert info["reorders"] == 1          # only before Flatten
    for name in ("stem", "pool", "c1", "c2", "c3", "avg", "gap"):
        assert kinds[name] == "blocked", name
    assert kinds["flat"] == kinds["fc"] == "plain"


def test_layout_off_plans_no_reorders_and_agrees():
    model, feeds = _resnet_like(batch=2)
    on = fastconv.InferenceSession(model, num_threads=1).run(None, feeds)[0]
    sess, info, kinds = _session_layout(model, layout=False)
    assert info["reorders"] == 0 and info["blocked_steps"] == 0
    np.testing.assert_allclose(sess.run(None, feeds)[0], on, rtol=1e-5, atol=1e-6)


def _trunk_then(extra_nodes, extra_inits, c, hw=9, batch=2, outputs=("y",)):
    """conv (3 -> c... plain input) -> t, then extra nodes reading t."""
    nodes = _conv("x", "t0", "first", k=3)
    nodes += _conv("t0", "t", "second", k=3)
    inits = {**_conv_inits("first", 16, c, 3, 1), **_conv_inits("second", c, c, 3, 2), **extra_inits}
    x = rand(batch, 16, hw, hw + 2, seed=3)
    model = make_model(nodes + extra_nodes, [("x", np.float32, list(x.shape))],
                       [(o, np.float32, None) for o in outputs], inits)
    return model, {"x": x}


@pytest.mark.parametrize("c", [16, 52, 64])  # 52: 12 padding lanes in the last block at W=16 (4 at W=8)
def test_elementwise_followers_with_constants_and_padding_lanes(c):
    rng = np.random.default_rng(0)
    per_channel = rng.uniform(0.5, 2.0, (1, c, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Sigmoid", ["t"], ["s1"], name="sig"),
        helper.make_node("Div", ["s1", "k_div"], ["d"], name="div"),                  # per-channel divisor
        helper.make_node("Mul", ["d", "k_mul"], ["m"], name="mul"),                    # (C, 1, 1) constant
        helper.make_node("Add", ["m", "k_one"], ["a"], name="add"),                    # scalar
        helper.make_node("Clip", ["a", "lo", "hi"], ["cl"], name="clip"),
        helper.make_node("Sub", ["k_plane", "cl"], ["sb"], name="sub"),                # (1, 1, H, W) constant first
        helper.make_node("Conv", ["sb", "last_w"], ["y"], name="last", kernel_shape=[1, 1]),
    ]
    inits = {"k_div": per_channel, "k_mul": rand(c, 1, 1, seed=4), "k_one": np.array(1.5, np.float32),
             "lo": np.array(-0.5, np.float32), "hi": np.array(2.0, np.float32),
             "k_plane": rand(1, 1, 9, 11, seed=5), "last_w": rand(16, c, 1, 1, seed=6) * 0.2}
    model, feeds = _trunk_then(nodes, inits, c)
    got = assert_matches_ort(model, feeds, num_threads=2)
    assert np.isfinite(got[0]).all()
    _, info, kinds = _session_layout(model)
    for name in ("sig", "div", "mul", "add", "clip", "sub", "last"):
        assert kinds[name] == "blocked", name
    assert info["reorders"] == 1


@pytest.mark.parametrize("c", [16, 52])
@pytest.mark.parametrize("threads", [1, 2])
def test_per_channel_prelu_runs_blocked(c, threads):
    """A PRelu with one slope per channel after a fused conv becomes a ChannelAffine with `slope`
    (plan/fusion.py); on a blocked trunk it runs blocked (no reorder pair around it), padding lanes finite.
    The BatchNorm in front makes it a real affine pass; the input is large enough (2 x 52 x 40 x 42) for the
    parallel split at 2 threads."""
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("Add", ["t", "t"], ["tt"], name="double"),
        helper.make_node("BatchNormalization", ["tt", "s", "bb", "mu", "var"], ["n"], name="bn", epsilon=1e-3),
        helper.make_node("PRelu", ["n", "slope"], ["pr"], name="prelu"),
        helper.make_node("Conv", ["pr", "last_w"], ["y"], name="last", kernel_shape=[1, 1]),
    ]
    inits = {"s": rng.uniform(0.5, 2, c).astype(np.float32), "bb": rand(c, seed=3), "mu": rand(c, seed=4),
             "var": rng.uniform(0.1, 3, c).astype(np.float32),
             "slope": rng.uniform(-0.5, 0.7, (c, 1, 1)).astype(np.float32),
             "last_w": rand(16, c, 1, 1, seed=6) * 0.2}
    model, feeds = _trunk_then(nodes, inits, c, hw=40)
    got = assert_matches_ort(model, feeds, num_threads=threads)
    assert np.isfinite(got[0]).all()
    sess, info, kinds = _session_layout(model, threads=threads)
    assert kinds["prelu"] == kinds["bn"] == kinds["last"] == "blocked"
    plan = next(iter(sess._executors.values())).plan
    affine = [s.node.op for s in plan.steps if s.node.op_type == "ChannelAffine"]
    assert len(affine) == 1 and affine[0].slope is not None
    assert info["reorders"] == 1


def test_squeeze_excitation_gate_and_shared_plain_reorder():
    c = 32
    nodes = [
        helper.make_node("GlobalAveragePool", ["t"], ["g"], name="gap"),
        helper.make_node("Conv", ["g", "se1_w", "se1_b"], ["h"], name="se1", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["h"], ["hr"], name="se1_relu"),
        helper.make_node("Conv", ["hr", "se2_w", "se2_b"], ["e"], name="se2", kernel_shape=[1, 1]),
        helper.make_node("HardSigmoid", ["e"], ["gate"], name="hsig"),
        helper.make_node("Mul", ["t", "gate"], ["y"], name="scale"),
        # a plain consumer and a second output on a blocked value: one shared reorder serves both
        helper.make_node("Transpose", ["t"], ["tt"], name="tr", perm=[0, 2, 3, 1]),
    ]
    inits = {**_conv_inits("se1", c, 16, 1, 7), **_conv_inits("se2", 16, c, 1, 8)}
    model, feeds = _trunk_then(nodes, inits, c, outputs=("y", "tt", "t"))
    assert_matches_ort(model, feeds, num_threads=2)
    _, info, kinds = _session_layout(model)
    assert kinds["scale"] == kinds["gap"] == kinds["se1"] == kinds["se2"] == "blocked"
    assert kinds["tr"] == "plain"
    assert info["reorders"] == 2       # t (Transpose, graph output) and y


def test_plain_full_size_operand_is_reordered_in():
    c = 32
    nodes = [helper.make_node("Add", ["z", "t"], ["y"], name="add")]
    model, feeds = _trunk_then(nodes, {}, c)
    z = rand(2, c, 9, 11, seed=12)
    model.graph.input.append(helper.make_tensor_value_info("z", 1, list(z.shape)))
    feeds["z"] = z
    assert_matches_ort(model, feeds)
    _, info, kinds = _session_layout(model)
    assert kinds["add"] == "blocked" and info["reorders"] == 2


@settings(max_examples=12, deadline=None)
@given(c1=st.sampled_from([16, 32, 20, 48]), c2=st.sampled_from([16, 12, 32]), hw=st.integers(3, 12),
       batch=st.integers(1, 2))
def test_concat_on_block_boundaries(c1, c2, hw, batch):
    width = _width()
    nodes = _conv("x", "u", "a", k=3) + _conv("x", "v", "b", k=1, pads=0) + [
        helper.make_node("Concat", ["u", "v"], ["cat"], name="cat", axis=1),
        helper.make_node("MaxPool", ["cat"], ["y"], name="pool", kernel_shape=[2, 2], ceil_mode=1)]
    inits = {**_conv_inits("a", 16, c1, 3, 1), **_conv_inits("b", 16, c2, 1, 2)}
    x = rand(batch, 16, hw, hw + 1, seed=hw)
    model = make_model(nodes, [("x", np.float32, list(x.shape))], [("y", np.float32, None)], inits)
    assert_matches_ort(model, {"x": x})
    _, info, kinds = _session_layout(model)
    pad_ok = all(-(-c // width) * width <= 1.25 * c for c in (16, c1))
    if pad_ok and c1 % width == 0 and kinds["b"] == "blocked":
        assert kinds["cat"] == "blocked"
    if c1 % width:
        assert kinds["cat"] == "plain"


def test_block_constant_and_unblock_roundtrip():
    width = _width()
    c = width + 3
    x = rand(2, c, 4, 5, seed=1)
    from fastconv.kernels.numba.layout import reorder_nchw_to_nchwc

    xb = reorder_nchw_to_nchwc(x, width)
    np.testing.assert_array_equal(unblock(xb, c), x)
    k = rand(c, 1, 1, seed=2)
    kb = block_constant(k, x.shape, width)
    np.testing.assert_allclose(unblock(np.ascontiguousarray(np.broadcast_to(xb * kb, xb.shape)), c), x * k,
                               rtol=1e-6)
    assert (kb.reshape(-1, width)[-1, 3:] == 1.0).all()     # padding lanes: 1.0 (finite under Div)


RESIZE_CASES = [  # (mode, coordinate mode, nearest mode, scales or None, sizes or None)
    ("nearest", "asymmetric", "floor", [1, 1, 2, 2], None),              # PP-OCR's and U-Net's 2x upsample
    ("nearest", "half_pixel", "round_prefer_ceil", [1, 1, 1.5, 0.75], None),
    ("linear", "half_pixel", None, [1, 1, 2, 2], None),
    ("linear", "align_corners", None, None, [2, 0, 13, 7]),             # sizes: C taken from the input below
    ("linear", "pytorch_half_pixel", None, [1, 1, 0.5, 1.0], None),      # only H resized
    ("cubic", "half_pixel", None, [1, 1, 1.7, 2.3], None),
]


@pytest.mark.parametrize("c", [16, 52])        # 52: padding lanes in the last block
@pytest.mark.parametrize("case", RESIZE_CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_resize_runs_blocked(case, c):
    mode, coord, nearest, scales, sizes = case
    attrs = {"mode": mode, "coordinate_transformation_mode": coord}
    if nearest:
        attrs["nearest_mode"] = nearest
    inits = {**_conv_inits("last", c, 16, 1, 6), "roi": np.zeros(0, np.float32)}
    if sizes:
        inits["sizes"] = np.array([sizes[0], c, *sizes[2:]], np.int64)
        ins = ["t", "roi", "", "sizes"]
    else:
        inits["scales"] = np.array(scales, np.float32)
        ins = ["t", "roi", "scales"]
    nodes = [helper.make_node("Resize", ins, ["r"], name="resize", **attrs)]
    nodes += _conv("r", "y", "last", k=1, pads=0)
    model, feeds = _trunk_then(nodes, inits, c)
    assert_matches_ort(model, feeds, num_threads=2)
    _, info, kinds = _session_layout(model)
    assert kinds["resize"] == kinds["last"] == "blocked"
    assert info["reorders"] == 1                     # the graph output only


def test_tf_crop_and_resize_stays_plain():
    c = 16
    inits = {"roi": np.array([0, 0, 0.1, 0.2, 1, 1, 1.2, 0.9], np.float32),
             "scales": np.array([1, 1, 1.5, 1.5], np.float32)}
    nodes = [helper.make_node("Resize", ["t", "roi", "scales"], ["y"], name="resize", mode="linear",
                              coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=2.5)]
    model, feeds = _trunk_then(nodes, inits, c)
    assert_matches_ort(model, feeds)
    _, _, kinds = _session_layout(model)
    assert kinds["resize"] == "plain"               # positions outside the crop box take extrapolation_value


@pytest.mark.parametrize("mode, blocks", [("DCR", 1), ("DCR", 2), ("CRD", 1)])
def test_depth_to_space(mode, blocks):
    b = 2
    c = b * b * 16 * blocks     # output channels: whole blocks at W = 4, 8, 16, and no stem conv after it
    nodes = [helper.make_node("DepthToSpace", ["t"], ["d"], name="d2s", blocksize=b, mode=mode)]
    nodes += _conv("d", "y", "last", k=3)
    inits = _conv_inits("last", c // (b * b), 16, 3, 6)
    model, feeds = _trunk_then(nodes, inits, c)
    assert_matches_ort(model, feeds, num_threads=2)
    _, info, kinds = _session_layout(model)
    # DCR moves whole channel blocks; CRD interleaves lanes and runs on NCHW (a reorder in front; the direct
    # conv after it reads NCHW itself)
    assert kinds["d2s"] == ("blocked" if mode == "DCR" else "plain")
    assert kinds["last"] == "blocked"
    assert info["reorders"] == (1 if mode == "DCR" else 2)


@pytest.mark.parametrize("stride, k, act", [(1, 3, "Relu"), (2, 3, "HardSwish"), (1, 5, None), (2, 5, "Relu")])
def test_mobilenet_block_runs_blocked(stride, k, act):
    """1x1 expand -> depthwise kxk (the NCHWc depthwise core) -> 1x1 project (+ residual at stride 1)."""
    c, e = 32, 64
    nodes = [helper.make_node("Conv", ["t", "ex_w", "ex_b"], ["ex"], name="expand", kernel_shape=[1, 1]),
             helper.make_node("Relu", ["ex"], ["exr"], name="expand_relu"),
             helper.make_node("Conv", ["exr", "dw_w", "dw_b"], ["dw"], name="dw", kernel_shape=[k, k], group=e,
                              pads=[k // 2] * 4, strides=[stride] * 2)]
    cur = "dw"
    if act:
        nodes.append(helper.make_node(act, ["dw"], ["dwa"], name="dw_act"))
        cur = "dwa"
    nodes.append(helper.make_node("Conv", [cur, "pr_w", "pr_b"], ["pr"], name="project", kernel_shape=[1, 1]))
    nodes.append(helper.make_node("Add", ["pr", "t"], ["y"], name="res") if stride == 1 else
                 helper.make_node("Identity", ["pr"], ["y"], name="id"))
    inits = {**_conv_inits("ex", c, e, 1, 3), "dw_w": rand(e, 1, k, k, seed=4) * 0.3, "dw_b": rand(e, seed=5),
             **_conv_inits("pr", e, c, 1, 6)}
    model, feeds = _trunk_then(nodes, inits, c, hw=13)
    assert_matches_ort(model, feeds, num_threads=2)
    _, info, kinds = _session_layout(model)
    for name in ("expand", "dw", "project"):
        assert kinds[name] == "blocked", name
    assert info["reorders"] == 1
