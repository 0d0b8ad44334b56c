"""BatchNormalization, InstanceNormalization, LRN, LpNormalization, Softmax and LogSoftmax against
onnxruntime."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError
from tests.util import assert_matches_ort, helper, make_model, rand, single_node_model


def check(op, inputs, attrs=None, opset=17, initializers=None, **kw):
    model = single_node_model(op, inputs, attrs, initializers, opset=opset)
    return assert_matches_ort(model, inputs, **kw)


def bn_params(c, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return {"scale": rng.uniform(0.5, 2, c).astype(dtype), "B": rng.standard_normal(c).astype(dtype),
            "mean": rng.standard_normal(c).astype(dtype), "var": rng.uniform(0.1, 3, c).astype(dtype)}


# --- BatchNormalization ------------------------------------------------------------------------------------

@pytest.mark.parametrize("opset", [7, 9, 14, 15])
@pytest.mark.parametrize("shape", [(2, 3), (2, 4, 7), (1, 5, 6, 7), (2, 3, 2, 3, 4)])
def test_batchnorm_constant_params(opset, shape):
    attrs = {"epsilon": 1e-3} if opset == 9 else {}
    check("BatchNormalization", {"x": rand(*shape, seed=1)}, attrs, opset, bn_params(shape[1]))


@pytest.mark.parametrize("opset", [9, 15])
def test_batchnorm_params_as_graph_inputs(opset):
    """Parameters that are not constant take the general path (affine pair computed per run)."""
    inputs = {"x": rand(2, 4, 5, 5, seed=2), **bn_params(4, seed=3)}
    check("BatchNormalization", inputs, {"epsilon": 1e-4}, opset)


def test_batchnorm_float64():
    check("BatchNormalization", {"x": rand(2, 3, 4, 4, dtype=np.float64)}, {}, 15, bn_params(3, dtype=np.float64))


@pytest.mark.parametrize("case", ["training_mode", "stat_outputs", "spatial0"])
def test_batchnorm_training_forms_are_refused(case):
    opset, attrs, outputs = 15, {}, ["y"]
    if case == "training_mode":
        attrs = {"training_mode": 1}
    elif case == "stat_outputs":
        opset, outputs = 9, ["y", "m", "v"]
    else:
        opset, attrs = 7, {"spatial": 0}
    node = helper.make_node("BatchNormalization", ["x", "scale", "B", "mean", "var"], outputs, **attrs)
    model = make_model([node], [("x", np.float32, [2, 3, 4, 4])], [(o, np.float32, None) for o in outputs],
                       bn_params(3), opset)
    with pytest.raises(UnsupportedError, match="BatchNormalization"):
        fastconv.InferenceSession(model)


def test_batchnorm_wrong_param_shape_is_invalid():
    params = bn_params(3)
    params["var"] = params["var"][:2]
    model = single_node_model("BatchNormalization", {"x": rand(2, 3, 4)}, initializers=params, opset=15)
    with pytest.raises(InvalidModelError, match="input_var has shape"):
        fastconv.InferenceSession(model)


# --- InstanceNormalization, LRN, LpNormalization --------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 3, 17), (1, 4, 9, 11), (2, 2, 3, 4, 5), (1, 3, 96, 96)])
@pytest.mark.parametrize("epsilon", [1e-5, 0.1])
def test_instance_norm(shape, epsilon):
    x = rand(*shape, seed=4) * 3 + 2
    p = bn_params(shape[1], seed=5)
    check("InstanceNormalization", {"x": x}, {"epsilon": epsilon}, 17, {"scale": p["scale"], "B": p["B"]},
          rtol=1e-4, atol=1e-4)  # float32 statistics over up to 9216 values


@settings(max_examples=15, deadline=None)
@given(size=st.integers(0, 3), alpha=st.floats(1e-5, 1e-2), beta=st.floats(0.5, 1.0), bias=st.floats(0.5, 2.0),
       c=st.integers(1, 9), seed=st.integers(0, 100))
def test_lrn(size, alpha, beta, bias, c, seed):
    x = rand(2, c, 3, 4, seed=seed) * 5
    check("LRN", {"x": x}, {"size": 2 * size + 1, "alpha": alpha, "beta": beta, "bias": bias}, 13)


@pytest.mark.parametrize("size", [2, 4])
@pytest.mark.parametrize("shape", [(2, 6, 3, 4), (2, 5, 7)])
def test_lrn_even_size_and_other_ranks(size, shape):
    """onnxruntime takes 4-D input and odd sizes only (and onnx's reference loops over the wrong axis):
    check the spec's window [c - floor((size-1)/2), c + ceil((size-1)/2)] directly."""
    x = rand(*shape, seed=8) * 5
    model = single_node_model("LRN", {"x": x}, {"size": size, "alpha": 1e-2}, opset=13)
    lo, hi = (size - 1) // 2, -(-(size - 1) // 2)
    sq = np.stack([(x[:, max(0, c - lo):c + hi + 1].astype(np.float64) ** 2).sum(1) for c in range(x.shape[1])], 1)
    expected = x / (1.0 + 1e-2 / size * sq) ** 0.75
    np.testing.assert_allclose(fastconv.InferenceSession(model).run(None, {"x": x})[0], expected, rtol=1e-5)


def test_lrn_defaults_opset7():
    check("LRN", {"x": rand(1, 8, 5, 5) * 5}, {"size": 5}, 7)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_lp_normalization(p, axis):
    x = rand(3, 4, 5, seed=6)
    x[1, 2, :] = 0
    x[:, 1, 3] = 0
    x[0, :, :] = 0
    check("LpNormalization", {"x": x}, {"p": p, "axis": axis}, 13)


# --- Softmax / LogSoftmax ------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(["Softmax", "LogSoftmax"]), opset=st.sampled_from([7, 11, 13, 18]),
       shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), data=st.data(), scale=st.sampled_from([1, 100]))
def test_softmax(op, opset, shape, data, scale):
    rank = len(shape)
    axis = data.draw(st.one_of(st.none(), st.integers(-rank, rank - 1)))
    if axis is None and opset < 13 and rank == 1:
        axis = 0  # the legacy default axis 1 does not exist for rank 1
    attrs = {} if axis is None else {"axis": axis}
    check(op, {"x": rand(*shape, seed=len(shape)) * scale}, attrs, opset)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_legacy_default_axis_flattens_trailing_axes(op):
    """Before opset 13 the default axis is 1 and every axis from it on is normalised jointly."""
    x = rand(2, 3, 4, seed=7)
    got = check(op, {"x": x}, {}, 11)[0]
    flat = x.reshape(2, 12).astype(np.float64)
    ref = np.exp(flat - flat.max(1, keepdims=True))
    ref = ref / ref.sum(1, keepdims=True)
    np.testing.assert_allclose(got.reshape(2, 12), ref if op == "Softmax" else np.log(ref), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,axis", [((1, 10), -1), ((3, 37), 1), ((2, 16), 1), ((2, 21, 5, 7), 1),
                                        ((2, 3, 40), 1), ((4, 1), 1), ((2, 5, 3), 0), ((2, 3, 2100), 1)])
def test_softmax_simd_kernel_row_and_strided_forms(shape, axis):
    """Rows longer than a vector, vector tails, the strided form (axis not last) with partial vectors and
    several tiles of positions."""
    x = rand(*shape, seed=3) * 10
    check("Softmax", {"x": x}, {"axis": axis}, 13, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("post", [1, 20])
def test_softmax_kernel_nan_inf_and_threads(post):
    from fastconv.kernels.numba.softmax import softmax_f32, softmax_par_f32, softmax_tasks

    pre, n = 5, 19
    x = rand(pre, n, post, seed=4) * 30
    x[1, 3] = np.nan  # NaN rows (positions) come out NaN
    x[2, 4] = -np.inf  # -inf contributes exp(-inf) = 0
    with np.errstate(invalid="ignore"):
        ref = np.exp(x - x.max(1, keepdims=True))
        ref /= ref.sum(1, keepdims=True)
    tasks = softmax_tasks(pre, post)
    for chunks in (0, 1, 3):
        y = np.full_like(x, 7.0)
        if chunks:
            softmax_par_f32(x.reshape(-1), y.reshape(-1), tasks, n, post, chunks)
        else:
            softmax_f32(x.reshape(-1), y.reshape(-1), tasks, n, post)
        np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-7)


def test_softmax_axis_out_of_range_is_invalid():
    model = single_node_model("Softmax", {"x": rand(2, 3)}, {"axis": 2}, opset=13)
    with pytest.raises(InvalidModelError, match="axis 2"):
        fastconv.InferenceSession(model)
