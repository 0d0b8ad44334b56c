"""Reductions against onnxruntime: axes as attribute (old opsets) and as input, keepdims, noop_with_empty_axes,
integer and bool dtypes, empty sets and NaN."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.errors import InvalidModelError
from tests.util import assert_matches_ort, helper, make_model, rand

OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
       "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"]


def axes_input_since(op):
    return 13 if op == "ReduceSum" else 18


def reduce_model(op, x, axes, opset, keepdims=None, noop=None):
    """axes: None (absent) or a list; an attribute before the op's axes-input version, a constant input after."""
    attrs = {} if keepdims is None else {"keepdims": keepdims}
    inputs, inits = ["x"], {}
    if noop is not None:
        attrs["noop_with_empty_axes"] = noop
    if axes is not None:
        if opset < axes_input_since(op):
            attrs["axes"] = axes
        else:
            inputs.append("axes")
            inits["axes"] = np.array(axes, np.int64)
    node = helper.make_node(op, inputs, ["y"], **attrs)
    return make_model([node], [("x", x.dtype, list(x.shape))], [("y", x.dtype, None)], inits, opset)


def positive_for(op, x):
    return np.abs(x) + np.float32(0.5) if op in ("ReduceLogSum", "ReduceProd") else x


@settings(max_examples=100, deadline=None)
@given(op=st.sampled_from(OPS), opset=st.sampled_from([11, 13, 18]),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), keepdims=st.sampled_from([None, 0, 1]),
       data=st.data())
def test_reduce_float32(op, opset, shape, keepdims, data):
    rank = len(shape)
    axes = data.draw(st.one_of(st.none(), st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank,
                                                   unique_by=lambda a: a % rank)))
    x = positive_for(op, rand(*shape, seed=rank))
    assert_matches_ort(reduce_model(op, x, axes, opset, keepdims), {"x": x})


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                                "ReduceSumSquare"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_reduce_int(op, dtype):
    x = np.random.default_rng(0).integers(-9, 9, (3, 4, 5)).astype(dtype)
    for axes in ([1], [0, 2], None):
        assert_matches_ort(reduce_model(op, x, axes, 18, keepdims=0), {"x": x})


@pytest.mark.parametrize("op", OPS)
def test_empty_axes_input_with_noop_reduces_nothing(op):
    """Only the elementwise part applies (ReduceL1 -> |x|); the plain reductions are the identity."""
    x = positive_for(op, rand(2, 3, 4))
    got = assert_matches_ort(reduce_model(op, x, [], 18, noop=1), {"x": x})[0]
    if op in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"):
        np.testing.assert_array_equal(got, x)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("noop", [0, None])
def test_absent_axes_reduce_everything(op, noop):
    x = positive_for(op, rand(2, 3, 4))
    assert_matches_ort(reduce_model(op, x, None, 18, keepdims=0, noop=noop), {"x": x})


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                                "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum"])
def test_empty_set_gives_the_identity(op):
    x = np.zeros((2, 0, 4), np.float32)
    assert_matches_ort(reduce_model(op, x, [1], 18, keepdims=1), {"x": x})


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceMean", "ReduceLogSumExp"])
def test_nan_and_inf(op):
    x = np.array([[np.nan, 1, 2], [np.inf, -1, 0], [-np.inf, -np.inf, 3], [np.inf, np.inf, 1]], np.float32)
    assert_matches_ort(reduce_model(op, x, [1], 18), {"x": x})


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin"])
def test_bool_max_min(op):  # ReduceMax/Min-20
    x = rand(3, 4, seed=2) > 0
    x[1] = False
    from onnx.reference import ReferenceEvaluator

    model = reduce_model(op, x, [1], 20, keepdims=0)
    got = fastconv.InferenceSession(model).run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, ReferenceEvaluator(model).run(None, {"x": x})[0])


def test_large_sum_is_accurate():
    x = rand(4, 50000, seed=3) + np.float32(1)
    assert_matches_ort(reduce_model("ReduceSum", x, [1], 13), {"x": x}, rtol=1e-5)


@pytest.mark.parametrize("axes", [[0, 0], [-1, 2], [3]])
def test_bad_axes_are_invalid(axes):
    x = rand(2, 3, 4)
    with pytest.raises(InvalidModelError, match="axes"):
        fastconv.InferenceSession(reduce_model("ReduceMean", x, axes, 18))
