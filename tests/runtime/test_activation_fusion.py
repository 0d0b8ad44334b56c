"""PRelu and Mish in plan-time fusion (fastconv/plan/fusion.py): PRelu with one slope fuses into the conv
epilogue as LeakyRelu, with a per-channel slope it becomes one ChannelAffine pass (after a conv, after an affine
chain, or alone); Mish (the op, and Softplus -> Tanh -> Mul or Exp -> Add 1 -> Log -> Tanh -> Mul as exporters
write it) fuses into convs and ChannelAffine. Every case matches onnxruntime and the unfused plan."""
import numpy as np
import pytest
from onnx import helper

import fastconv
from tests.util import assert_matches_ort, make_model, rand

C = 8
X_SHAPE = (2, C, 11, 13)


def _inits(**extra):
    rng = np.random.default_rng(0)
    return {"w": rand(C, C, 3, 3, seed=1) * 0.3, "b": rand(C, seed=2), "s": rng.uniform(0.5, 2, C).astype(np.float32),
            "bb": rand(C, seed=3), "mu": rand(C, seed=4), "var": rng.uniform(0.1, 3, C).astype(np.float32),
            "one": np.array(1.0, np.float32), **extra}


def _conv(x, y):
    return helper.make_node("Conv", [x, "w", "b"], [y], pads=[1, 1, 1, 1])


def _bn(x, y):
    return helper.make_node("BatchNormalization", [x, "s", "bb", "mu", "var"], [y], epsilon=1e-3)


def _plan(nodes, inits, opset=18, scale=3.0, extra_inputs=()):
    """Checks against onnxruntime and the unfused plan; returns the op types of the plan's steps."""
    feeds = {"x": rand(*X_SHAPE, seed=7) * scale}
    ins = [("x", np.float32, list(X_SHAPE))]
    for k, name in enumerate(extra_inputs):
        feeds[name] = rand(*X_SHAPE, seed=20 + k)
        ins.append((name, np.float32, list(X_SHAPE)))
    model = make_model(nodes, ins, [("y", np.float32, None)], inits, opset=opset)
    # BatchNorm folded in float64 then rounded: ulps off ORT's weights (atol 3e-5, as tests/runtime/test_fusion.py)
    assert_matches_ort(model, feeds, rtol=1e-4, atol=3e-5, num_threads=2)
    sess = fastconv.InferenceSession(model, num_threads=2)
    got = sess.run(None, feeds)[0]
    np.testing.assert_allclose(got, fastconv.InferenceSession(model, fuse=False).run(None, feeds)[0], rtol=1e-4,
                               atol=3e-5)
    plan = sess.plan_for({k: v.shape for k, v in feeds.items()})
    return plan, compute_ops(plan)


def compute_ops(plan):
    """The op types of the plan's steps without the layout pass's Reorder steps: where the conv runs in NCHWc
    (C = 8 fills a block at W = 8, AVX2 and the W = 8 rerun) a graph output gets one, which is layout, not
    fusion."""
    return [s.node.op_type for s in plan.steps if s.node.op_type != "Reorder"]


@pytest.mark.parametrize("shape", [(), (1,), (1, 1, 1)])
def test_prelu_with_one_slope_is_a_leaky_relu_epilogue(shape):
    plan, ops = _plan([_conv("x", "c"), helper.make_node("PRelu", ["c", "k"], ["y"])],
                      _inits(k=np.full(shape, 0.2, np.float32)))
    assert ops == ["Conv"]
    ep = plan.steps[0].node.op.epilogue
    assert ep.activation == "LeakyRelu" and abs(ep.alpha - 0.2) < 1e-7


@pytest.mark.parametrize("shape", [(C, 1, 1), (1, C, 1, 1)])
def test_prelu_with_per_channel_slope_after_conv_is_one_channel_affine_pass(shape):
    slope = np.linspace(-0.5, 0.7, C, dtype=np.float32).reshape(shape)
    plan, ops = _plan([_conv("x", "c"), helper.make_node("Add", ["c", "r"], ["a"]),
                       helper.make_node("PRelu", ["a", "k"], ["y"])], _inits(k=slope), extra_inputs=["r"])
    assert ops == ["Conv", "ChannelAffine"]
    assert plan.steps[0].node.op.epilogue.describe() == "+residual"
    affine = plan.steps[1].node.op
    np.testing.assert_array_equal(affine.slope, slope.reshape(-1))
    assert (affine.scale == 1).all() and (affine.shift == 0).all()
    assert getattr(plan.steps[1].fn, "accepts_out", False)


def test_prelu_per_channel_after_batchnorm_and_alone():
    slope = np.linspace(0.05, 0.4, C, dtype=np.float32).reshape(C, 1, 1)
    plan, ops = _plan([_bn("x", "n"), helper.make_node("PRelu", ["n", "k"], ["y"])], _inits(k=slope))
    assert ops == ["ChannelAffine"] and [n.op_type for n in plan.steps[0].node.fused_from] == [
        "BatchNormalization", "PRelu"]
    _, ops = _plan([helper.make_node("PRelu", ["x", "k"], ["y"])], _inits(k=slope))
    assert ops == ["ChannelAffine"]


def test_prelu_legacy_per_channel_slope_matches_the_reference():
    """A 1-D slope of C values on (N, C, H, W) (older exporters; onnxruntime refuses it): per channel."""
    slope = np.linspace(-0.3, 0.3, C, dtype=np.float32)
    model = make_model([_conv("x", "c"), helper.make_node("PRelu", ["c", "k"], ["y"])],
                       [("x", np.float32, list(X_SHAPE))], [("y", np.float32, None)], _inits(k=slope))
    x = rand(*X_SHAPE, seed=5)
    sess = fastconv.InferenceSession(model)
    assert compute_ops(sess.plan_for({"x": X_SHAPE})) == ["Conv", "ChannelAffine"]
    np.testing.assert_allclose(sess.run(None, {"x": x})[0],
                               fastconv.InferenceSession(model, fuse=False).run(None, {"x": x})[0], rtol=1e-5,
                               atol=1e-6)


def test_prelu_slope_varying_over_space_is_not_fused():
    _, ops = _plan([_conv("x", "c"), helper.make_node("PRelu", ["c", "k"], ["y"])],
                   _inits(k=rand(1, 1, 11, 13, seed=9)))
    assert ops == ["Conv", "PRelu"]


def _mish(x, y, form):
    if form == "op":
        return [helper.make_node("Mish", [x], [y])]
    if form == "softplus":
        return [helper.make_node("Softplus", [x], ["sp"]), helper.make_node("Tanh", ["sp"], ["th"]),
                helper.make_node("Mul", [x, "th"], [y])]
    return [helper.make_node("Exp", [x], ["e"]), helper.make_node("Add", ["one", "e"], ["e1"]),
            helper.make_node("Log", ["e1"], ["sp"]), helper.make_node("Tanh", ["sp"], ["th"]),
            helper.make_node("Mul", ["th", x], [y])]


FORMS = ["op", "softplus", "log_exp"]


@pytest.mark.parametrize("form", FORMS)
def test_mish_fuses_into_the_conv(form):
    plan, ops = _plan([_conv("x", "c"), helper.make_node("Add", ["c", "r"], ["a"]), *_mish("a", "y", form)],
                      _inits(), extra_inputs=["r"])
    assert ops == ["Conv"]
    assert plan.steps[0].node.op.epilogue.describe() == "+residual,Mish"


@pytest.mark.parametrize("form", FORMS)
def test_mish_after_batchnorm_alone_or_after_a_pool_is_one_channel_affine(form):
    plan, ops = _plan([_bn("x", "n"), *_mish("n", "y", form)], _inits())
    assert ops == ["ChannelAffine"] and plan.steps[0].node.op.epilogue.activation == "Mish"
    _, ops = _plan(_mish("x", "y", form), _inits())  # on a graph input
    assert ops == ["ChannelAffine"]
    _, ops = _plan([helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], pads=[1, 1, 1, 1]),
                    *_mish("p", "y", form)], _inits())
    assert ops == ["MaxPool", "ChannelAffine"]


def test_mish_not_fused_when_an_inner_value_is_read_elsewhere():
    nodes = [_conv("x", "c"), *_mish("c", "m", "softplus"), helper.make_node("Add", ["m", "sp"], ["y"])]
    _, ops = _plan(nodes, _inits())
    assert ops == ["Conv", "Softplus", "Tanh", "Mul", "Add"]


def test_mish_wide_range_matches_onnxruntime():
    """Large |x|: e^x clamped at x = 20 (x * 1 exactly), x << 0 without cancellation; inf and NaN pass."""
    x = np.concatenate([np.linspace(-120, 120, 2001), [-1e30, 1e30, np.inf, np.nan, 0.0, -0.0],
                        np.random.default_rng(1).standard_normal(1001) * 8]).astype(np.float32)
    x = np.resize(x, (1, 2, 1512))
    model = make_model([helper.make_node("Mish", ["x"], ["y"])], [("x", np.float32, list(x.shape))],
                       [("y", np.float32, None)], opset=18)
    sess = fastconv.InferenceSession(model)
    assert [s.node.op_type for s in sess.plan_for({"x": x.shape}).steps] == ["ChannelAffine"]
    assert_matches_ort(model, {"x": x}, rtol=1e-5, atol=1e-6)
