"""Elementwise ops (activations, arithmetic, comparisons, logic, Cast) against onnxruntime."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError
from tests.util import TensorProto, assert_matches_ort, helper, make_model, rand, single_node_model

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30], np.float32)


def check(op, inputs, attrs=None, opset=17, initializers=None, output_dtype=None, **kw):
    model = single_node_model(op, inputs, attrs, initializers, opset=opset, output_dtype=output_dtype)
    return assert_matches_ort(model, inputs, **kw)


def with_specials(x):
    x = x.copy()
    x.reshape(-1)[:SPECIALS.size] = SPECIALS[:x.size]
    return x


def ints(shape, dtype, lo=-50, hi=50, seed=0, nonzero=False):
    a = np.random.default_rng(seed).integers(lo, hi, shape).astype(dtype)
    if nonzero:
        a[a == 0] = 1
    return a


UNARY = [
    ("Relu", {}, 14), ("Relu", {}, 7), ("LeakyRelu", {}, 16), ("LeakyRelu", {"alpha": 0.3}, 7),
    ("LeakyRelu", {"alpha": -1.5}, 16), ("Sigmoid", {}, 13), ("Sigmoid", {}, 7), ("HardSigmoid", {}, 7),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.2}, 22), ("HardSwish", {}, 14), ("Tanh", {}, 13),
    ("Elu", {}, 7), ("Elu", {"alpha": 0.5}, 22), ("Selu", {}, 7), ("Selu", {"alpha": 1.5, "gamma": 2.0}, 22),
    ("Celu", {"alpha": 0.7}, 12), ("Softplus", {}, 7), ("Softsign", {}, 7), ("ThresholdedRelu", {"alpha": 0.4}, 10),
    ("Shrink", {"bias": 0.3, "lambd": 0.6}, 9), ("Gelu", {}, 20), ("Gelu", {"approximate": "tanh"}, 20),
    ("Mish", {}, 18), ("Sqrt", {}, 13), ("Exp", {}, 13), ("Log", {}, 13), ("Erf", {}, 13), ("Erf", {}, 9),
    ("Reciprocal", {}, 13), ("Floor", {}, 13), ("Ceil", {}, 13), ("Round", {}, 11), ("Neg", {}, 13),
    ("Abs", {}, 13), ("Sign", {}, 13),
]


@pytest.mark.parametrize("op,attrs,opset", UNARY, ids=[f"{o}-{s}-{a}" for o, a, s in UNARY])
def test_unary_float32(op, attrs, opset):
    x = rand(2, 3, 5, 7, seed=1) * 3
    if op == "Round":
        x[0, 0, 0, :4] = [0.5, 1.5, -2.5, 2.5]  # ties go to even
    check(op, {"x": with_specials(x)}, attrs, opset)


@pytest.mark.parametrize("op,attrs,opset", UNARY, ids=[f"{o}-{s}-{a}" for o, a, s in UNARY])
def test_unary_on_a_0d_constant(op, attrs, opset):
    """All-constant nodes are folded at plan time through `run`, 0-d operands included."""
    node = helper.make_node(op, ["c"], ["y"], **attrs)
    model = make_model([node, helper.make_node("Add", ["y", "x"], ["z"])], [("x", np.float32, [2])],
                       [("z", np.float32, None)], {"c": np.array(0.7, np.float32)}, opset=max(opset, 7))
    assert_matches_ort(model, {"x": rand(2)})


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh", "Exp", "Relu", "Sqrt"])
def test_unary_float64(op):
    check(op, {"x": rand(4, 9, seed=2, dtype=np.float64) * 4}, opset=17)


def test_erf_float64_matches_math_erf():  # onnxruntime has no double Erf
    x = rand(4, 9, seed=2, dtype=np.float64) * 3
    got = fastconv.InferenceSession(single_node_model("Erf", {"x": x}, opset=13)).run(None, {"x": x})[0]
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.vectorize(math.erf)(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("op", ["Add", "Div", "Pow", "Max", "Less"])
def test_scalar_operand(op):
    # (0-d graph inputs are not used: InferenceSession currently feeds them as shape (1,))
    x = np.abs(rand(2, 3)) + np.float32(0.5)
    check(op, {"x": x}, initializers={"s": np.array(1.5, np.float32)}, opset=13,
          output_dtype=np.bool_ if op == "Less" else None)


@pytest.mark.parametrize("op,dtype", [("Relu", np.int32), ("Relu", np.int8), ("Neg", np.int64), ("Abs", np.int16),
                                      ("Abs", np.uint8), ("Sign", np.int32)])
def test_unary_int(op, dtype):
    check(op, {"x": ints((3, 11), dtype, lo=0 if dtype == np.uint8 else -50)}, opset=17)


def test_relu_on_a_big_tensor_matches():
    check("Relu", {"x": rand(1, 32, 56, 56, seed=3)}, opset=14)


BINARY_FLOAT = ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu"]
COMPARE = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"]


@settings(max_examples=60, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4, max_side=4),
       op=st.sampled_from(BINARY_FLOAT + COMPARE), seed=st.integers(0, 1000))
def test_binary_broadcast_float32(shapes, op, seed):
    sa, sb = shapes.input_shapes
    if op == "PRelu":  # unidirectional: the slope broadcasts to x
        sa = shapes.result_shape
    a, b = rand(*sa, seed=seed), rand(*sb, seed=seed + 1)
    if op == "Pow":
        a = np.abs(a) + np.float32(0.1)
    if op in COMPARE:
        b.reshape(-1)[:1] = a.reshape(-1)[:1]  # at least one tie (when shapes allow it)
    check(op, {"a": a, "b": b}, opset=16, output_dtype=np.bool_ if op in COMPARE else None)


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=4),
       op=st.sampled_from(["Add", "Sub", "Mul", "Div", "Max", "Min", "Mod"] + COMPARE),
       dtype=st.sampled_from([np.int32, np.int64, np.int8, np.uint8]), seed=st.integers(0, 1000))
def test_binary_broadcast_int(shapes, op, dtype, seed):
    lo = 0 if dtype == np.uint8 else -20
    a = ints(shapes.input_shapes[0], dtype, lo, 20, seed)
    b = ints(shapes.input_shapes[1], dtype, lo, 20, seed + 1, nonzero=op in ("Div", "Mod"))
    if op in ("Max", "Min") and dtype == np.int8:
        return  # onnxruntime has no int8 Max/Min kernel
    check(op, {"a": a, "b": b}, opset=16, output_dtype=np.bool_ if op in COMPARE else None)


def test_integer_div_truncates_toward_zero():
    a = np.array([7, -7, 7, -7, -8, 8, 0, -1], np.int32)
    b = np.array([2, 2, -2, -2, 3, -3, 5, 7], np.int32)
    got = check("Div", {"a": a, "b": b}, opset=14)[0]
    np.testing.assert_array_equal(got, [3, -3, -3, 3, -2, -2, 0, 0])
    check("Div", {"a": a.astype(np.int64), "b": b.astype(np.int64)}, opset=14)


@pytest.mark.parametrize("fmod,dtype", [(0, np.int32), (0, np.int64), (1, np.int32), (1, np.float32),
                                        (1, np.float64)])
def test_mod(fmod, dtype):
    if dtype in (np.float32, np.float64):
        a, b = rand(3, 4, seed=5, dtype=dtype) * 10, rand(4, seed=6, dtype=dtype) * 3
    else:
        a, b = ints((3, 4), dtype, seed=5), ints((4,), dtype, -9, 9, seed=6, nonzero=True)
    check("Mod", {"a": a, "b": b}, {"fmod": fmod}, opset=13)


@pytest.mark.parametrize("tb,te", [(np.float32, np.int64), (np.float32, np.int32), (np.int64, np.float32),
                                   (np.int32, np.int32), (np.int64, np.int64), (np.float64, np.float64)])
def test_pow_mixed_types_keep_the_base_dtype(tb, te):
    base = (np.abs(rand(3, 5, seed=7)) * 4 + 0.5).astype(tb)
    exponent = rand(5, seed=8).astype(te) if np.dtype(te).kind == "f" else ints((5,), te, 0, 4, seed=8)
    check("Pow", {"a": base, "b": exponent}, opset=15)


@settings(max_examples=10, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=1, max_dims=4, max_side=3),
       op=st.sampled_from(["Sum", "Mean", "Max", "Min"]), seed=st.integers(0, 1000))
def test_variadic_three_inputs_broadcast(shapes, op, seed):
    xs = {f"x{k}": rand(*s, seed=seed + k) for k, s in enumerate(shapes.input_shapes)}
    check(op, xs, opset=13)


@pytest.mark.parametrize("op", ["Sum", "Max", "Min", "Mean"])
def test_variadic_one_input_is_a_copy(op):
    check(op, {"x": rand(3, 4)}, opset=13)


@pytest.mark.parametrize("op", ["Max", "Min", "Sum"])
def test_nan_propagation_matches_onnxruntime(op):
    a = np.array([np.nan, 1, -2, np.inf, -np.inf, 0], np.float32)
    b = np.array([0, np.nan, np.nan, 5, np.nan, np.nan], np.float32)
    check(op, {"a": a, "b": b}, opset=13)


@settings(max_examples=15, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=1, max_dims=4, max_side=3),
       seed=st.integers(0, 1000), dtype=st.sampled_from([np.float32, np.int64, np.int32]))
def test_where_broadcast(shapes, seed, dtype):
    sc, sx, sy = shapes.input_shapes
    cond = rand(*sc, seed=seed) > 0
    x, y = (rand(*s, seed=seed + k + 1) * 10 for k, s in enumerate((sx, sy)))
    check("Where", {"c": cond, "x": x.astype(dtype), "y": y.astype(dtype)}, opset=16, output_dtype=dtype)


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logic(op):
    a, b = rand(2, 3, 4, seed=1) > 0, rand(3, 1, seed=2) > 0
    check(op, {"a": a, "b": b}, opset=7)


def test_not():
    check("Not", {"x": rand(3, 4) > 0}, opset=7)


def test_isnan_isinf():
    x = with_specials(rand(3, 5))
    check("IsNaN", {"x": x}, opset=13, output_dtype=np.bool_)
    for neg, pos in ((1, 1), (0, 1), (1, 0), (0, 0)):
        check("IsInf", {"x": x}, {"detect_negative": neg, "detect_positive": pos}, opset=13, output_dtype=np.bool_)


# --- Clip --------------------------------------------------------------------------------------------------

CLIP_X = with_specials(rand(4, 6, seed=4) * 3)


@pytest.mark.parametrize("attrs", [{}, {"min": -1.0}, {"max": 0.5}, {"min": -0.5, "max": 2.0}])
def test_clip6_attributes_become_inputs(attrs):
    check("Clip", {"x": CLIP_X}, attrs, opset=7)


@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (None, 1.0), (-1.0, None), (None, None), (2.0, -2.0),
                                   (np.nan, 1.0), (-1.0, np.nan)])
@pytest.mark.parametrize("opset", [11, 13])
def test_clip_inputs(lo, hi, opset):
    inits = {}
    names = ["x", "", ""]
    for k, v in ((1, lo), (2, hi)):
        if v is not None:
            names[k] = f"b{k}"
            inits[names[k]] = np.array(v, np.float32)
    while names[-1] == "":
        names.pop()
    node = helper.make_node("Clip", names, ["y"])
    model = make_model([node], [("x", np.float32, list(CLIP_X.shape))], [("y", np.float32, None)], inits, opset)
    assert_matches_ort(model, {"x": CLIP_X})


def test_clip_bounds_as_graph_inputs():
    lo, hi = np.array(-0.5, np.float32), np.array(0.7, np.float32)
    check("Clip", {"x": CLIP_X, "lo": lo, "hi": hi}, opset=13)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.int8, np.uint8])
def test_clip_integer(dtype):
    x = ints((5, 7), dtype, 0 if dtype == np.uint8 else -100, 100)
    check("Clip", {"x": x}, initializers={"lo": np.array(3, dtype), "hi": np.array(60, dtype)}, opset=13)


# --- PRelu -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("slope_shape", [(3, 1, 1), (1,), (5,), (1, 3, 1, 1), (4, 5)])
@pytest.mark.parametrize("opset", [7, 9, 16])
def test_prelu_slope_broadcast(slope_shape, opset):
    x = rand(2, 3, 4, 5, seed=9)
    check("PRelu", {"x": x}, initializers={"slope": rand(*slope_shape, seed=10)}, opset=opset)


def test_prelu_legacy_per_channel_slope():
    """A 1-D slope of C values on an (N, C, H, W) input is applied per channel (older exporters)."""
    x, slope = rand(2, 3, 4, 5, seed=9), rand(3, seed=10)
    model = single_node_model("PRelu", {"x": x}, initializers={"slope": slope}, opset=9)
    got = fastconv.InferenceSession(model).run(None, {"x": x})[0]
    np.testing.assert_allclose(got, np.where(x < 0, x * slope.reshape(3, 1, 1), x))


def test_prelu_int():
    x = ints((2, 3, 4), np.int32)
    check("PRelu", {"x": x}, initializers={"slope": ints((3, 1), np.int32, -3, 3, 1)}, opset=16)


# --- Cast ------------------------------------------------------------------------------------------------

CAST_TYPES = [np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
              np.uint64, np.bool_]


@pytest.mark.parametrize("src", CAST_TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("dst", CAST_TYPES, ids=lambda t: np.dtype(t).name)
def test_cast(src, dst):
    x = np.random.default_rng(0).uniform(0 if np.dtype(src).kind in "u" else -100, 100, (4, 6))
    if np.dtype(dst).kind == "u":
        x = np.abs(x)  # negative float to unsigned is undefined behaviour in C
    x = x.astype(src)
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dst))
    check("Cast", {"x": x}, {"to": to}, opset=13, output_dtype=dst)


def test_cast_special_floats_to_bool_and_float64():
    x = with_specials(rand(2, 5))
    check("Cast", {"x": x}, {"to": TensorProto.BOOL}, opset=13, output_dtype=np.bool_)
    check("Cast", {"x": x}, {"to": TensorProto.DOUBLE}, opset=19, output_dtype=np.float64)


@pytest.mark.parametrize("to", [TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.STRING,
                                TensorProto.FLOAT8E4M3FN])
def test_cast_to_unsupported_types_is_refused_at_load(to):
    model = single_node_model("Cast", {"x": rand(2, 3)}, {"to": to}, opset=19, output_dtype=TensorProto.FLOAT)
    with pytest.raises(UnsupportedError, match="target type"):
        fastconv.InferenceSession(model)


def test_castlike():
    x, like = rand(3, 4) * 50, np.zeros((0,), np.int32)
    check("CastLike", {"x": x, "like": like}, opset=15, output_dtype=np.int32)


# --- validation ---------------------------------------------------------------------------------------------

def test_mismatched_dtypes_are_invalid():
    model = make_model([helper.make_node("Add", ["a", "b"], ["y"])],
                       [("a", np.float32, [2]), ("b", np.float64, [2])], [("y", np.float32, None)], opset=14)
    with pytest.raises(InvalidModelError, match="dtypes differ"):
        fastconv.InferenceSession(model)


def test_non_broadcastable_shapes_are_invalid():
    model = make_model([helper.make_node("Mul", ["a", "b"], ["y"])],
                       [("a", np.float32, [2, 3]), ("b", np.float32, [4])], [("y", np.float32, None)], opset=14)
    with pytest.raises(InvalidModelError, match="do not broadcast"):
        fastconv.InferenceSession(model)


def test_float_only_ops_refuse_integer_inputs():
    model = single_node_model("Sigmoid", {"x": np.zeros((2,), np.int32)}, opset=13)
    with pytest.raises(InvalidModelError, match="float"):
        fastconv.InferenceSession(model)


def test_constant_inputs_fold():
    """All-constant elementwise nodes are evaluated once at plan time (run is the folding path)."""
    nodes = [helper.make_node("Mul", ["c1", "c2"], ["m"]), helper.make_node("Add", ["x", "m"], ["y"])]
    c1, c2 = rand(3, seed=1), rand(3, seed=2)
    model = make_model(nodes, [("x", np.float32, [2, 3])], [("y", np.float32, None)], {"c1": c1, "c2": c2}, 14)
    sess = fastconv.InferenceSession(model)
    assert [s.node.op_type for s in sess.plan_for({"x": (2, 3)}).steps] == ["Add"]
    assert_matches_ort(model, {"x": rand(2, 3)})
