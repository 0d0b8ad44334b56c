"""Run inputs a service may receive, on a model whose kernels are bound on their first call
(kernels/numba/bound.py: no per-call type checks afterwards): arrays of every memory layout given on a LATER
run must still reach the kernels as C-contiguous aligned arrays and give the result of a plain array; 0-size
batches; wrong dtypes and shapes refused with the expected dtype/shape in the message."""
import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv.errors import InvalidInputError

from ..util import make_model, rand, run_ort

C, H, W = 3, 16, 16


def cnn_model(batch="N"):
    """Conv -> Relu -> MaxPool -> AveragePool -> Flatten -> Gemm: blocked conv/pool kernels and a GEMM."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["m"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("AveragePool", ["m"], ["a"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["a"], ["f"]),
             helper.make_node("Gemm", ["f", "g", "gb"], ["y"], transB=1)]
    inits = {"w": rand(16, C, 3, 3, seed=1), "b": rand(16, seed=2), "g": rand(10, 16 * 4 * 4, seed=3),
             "gb": rand(10, seed=4)}
    return make_model(nodes, [("x", np.float32, [batch, C, H, W])], [("y", np.float32, [batch, 10])], inits)


def unaligned(a):
    buf = np.frombuffer(bytearray(a.nbytes + 1), np.uint8)[1:]
    out = buf.view(np.float32).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def readonly(a):
    a = a.copy() if a.base is None else a
    a.setflags(write=False)
    return a


LAYOUTS = {
    "strided": lambda a: np.repeat(a, 2, axis=3)[..., ::2],
    "reversed": lambda a: np.ascontiguousarray(a[..., ::-1])[..., ::-1],
    "fortran": np.asfortranarray,
    "transposed": lambda a: np.ascontiguousarray(a.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0),
    "readonly": lambda a: readonly(a.copy()),
    "readonly_strided": lambda a: readonly(np.repeat(a, 2, axis=3)[..., 1::2]),
    "readonly_fortran": lambda a: readonly(np.asfortranarray(a)),
    "broadcast": lambda a: np.broadcast_to(a[:1], a.shape),
    "unaligned": unaligned,
    "memmap_like": lambda a: np.frombuffer(a.tobytes(), np.float32).reshape(a.shape),  # read-only buffer
}


@pytest.fixture(scope="module", params=["symbolic", "fixed"])
def model_and_session(request):
    model = cnn_model("N" if request.param == "symbolic" else 2)
    sess = fastconv.InferenceSession(model, num_threads=2)
    sess.run(None, {"x": rand(2, C, H, W, seed=9)})  # binds every kernel to plain arrays
    return model, sess


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_unusual_arrays_on_a_later_run(model_and_session, layout):
    model, sess = model_and_session
    plain = rand(2, C, H, W, seed=5)
    x = LAYOUTS[layout](plain)
    np.testing.assert_array_equal(x, plain if layout != "broadcast" else np.broadcast_to(plain[:1], plain.shape))
    plain = np.ascontiguousarray(x)
    before = plain.copy()
    (want,) = sess.run(None, {"x": plain})
    for _ in range(2):
        (got,) = sess.run(None, {"x": x})
        np.testing.assert_array_equal(got, want)  # the same kernels on the same values: bitwise
    np.testing.assert_allclose(got, run_ort(model, {"x": plain})[0], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(x, before)
    assert got.flags.c_contiguous and got.flags.writeable and got.flags.aligned
    _, feeds = sess.executor_for_feed({"x": x})  # what reaches the kernels
    assert feeds["x"].flags.c_contiguous and feeds["x"].flags.aligned
    assert np.shares_memory(feeds["x"], x) == (x.flags.c_contiguous and x.flags.aligned)  # copies only if needed


def test_byte_swapped_input_accepted_or_refused_clearly(model_and_session):
    _, sess = model_and_session
    x = rand(2, C, H, W, seed=6)
    swapped = x.astype(">f4")
    try:
        (got,) = sess.run(None, {"x": swapped})
    except InvalidInputError as e:
        assert "float32" in str(e)
    else:
        np.testing.assert_array_equal(got, sess.run(None, {"x": x})[0])


def test_zero_batch():
    model = cnn_model("N")
    sess = fastconv.InferenceSession(model)
    sess.run(None, {"x": rand(1, C, H, W)})
    (y,) = sess.run(None, {"x": np.zeros((0, C, H, W), np.float32)})
    assert y.shape == (0, 10) and y.dtype == np.float32
    assert run_ort(model, {"x": np.zeros((0, C, H, W), np.float32)})[0].shape == (0, 10)
    (y,) = sess.run(None, {"x": rand(3, C, H, W, seed=1)})  # and back to a normal batch
    np.testing.assert_allclose(y, run_ort(model, {"x": rand(3, C, H, W, seed=1)})[0], rtol=1e-4, atol=1e-4)


def test_zero_size_elementwise_matches_ort():
    model = make_model([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "b"], ["y"])],
                       [("x", np.float32, ["N", 4])], [("y", np.float32, None)], {"b": rand(4)})
    for shape in [(0, 4), (2, 4), (0, 4)]:
        x = rand(*shape)
        (got,) = fastconv.InferenceSession(model).run(None, {"x": x})
        np.testing.assert_array_equal(got, run_ort(model, {"x": x})[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.uint8, np.bool_])
def test_wrong_dtype_names_expected(model_and_session, dtype):
    _, sess = model_and_session
    with pytest.raises(InvalidInputError, match=r"input 'x' has dtype .*expected float32 \(tensor\(float\)\)"):
        sess.run(None, {"x": np.zeros((2, C, H, W), dtype)})


@pytest.mark.parametrize("shape,words", [((2, C, H), "rank 3"), ((2, C, H, W, 1), "rank 5"),
                                         ((2, C + 1, H, W), "dimension 1 must be 3"),
                                         ((2, C, H, W + 1), "dimension 3 must be 16"), ((), "rank 0")])
def test_wrong_shape_names_expected(model_and_session, shape, words):
    _, sess = model_and_session
    with pytest.raises(InvalidInputError, match=f"input 'x'.*{words}"):
        sess.run(None, {"x": np.zeros(shape, np.float32)})


def test_fixed_batch_refuses_other_batch():
    sess = fastconv.InferenceSession(cnn_model(2))
    with pytest.raises(InvalidInputError, match="dimension 0 must be 2"):
        sess.run(None, {"x": rand(3, C, H, W)})


def test_names_missing_extra_and_non_arrays(model_and_session):
    _, sess = model_and_session
    x = rand(2, C, H, W)
    with pytest.raises(InvalidInputError, match=r"missing input\(s\) \['x'\]"):
        sess.run(None, {})
    with pytest.raises(InvalidInputError, match="unknown input.*'z'.*inputs are \\['x'\\]"):
        sess.run(None, {"x": x, "z": x})
    with pytest.raises(InvalidInputError, match="unknown output"):
        sess.run(["nope"], {"x": x})
    with pytest.raises(InvalidInputError, match="float64.*expected float32"):
        sess.run(None, {"x": x.tolist()})  # nested lists of Python floats are float64, as in onnxruntime


def assert_same_specials(got, want):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-4, atol=1e-4)


def special_input():
    x = rand(2, C, H, W, seed=8)
    x[0, 0, 3, 3], x[1, 2, 7, 8], x[1, 1, 0, 0] = np.nan, np.inf, -np.inf
    return x


# MaxPool / GlobalMaxPool are left out: onnxruntime's max skips NaN (x > max is false), fastconv's propagates
# it (numpy semantics); see the robustness notes in docs/ARCHITECTURE.md.
@pytest.mark.parametrize("nodes,inits", [
    ([helper.make_node("Relu", ["x"], ["y"])], {}),
    ([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], pads=[1, 1, 1, 1])], {}),
    ([helper.make_node("GlobalAveragePool", ["x"], ["y"])], {}),
    ([helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])],
     {"w": rand(16, C, 3, 3, seed=1)}),
    ([helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
      helper.make_node("Clip", ["c", "lo", "hi"], ["y"])],
     {"w": rand(16, C, 3, 3, seed=1), "lo": np.float32(0), "hi": np.float32(6)}),
], ids=["relu", "avgpool", "gap", "conv_relu", "conv_relu6"])
@pytest.mark.parametrize("layout", [True, False])
def test_nan_and_inf_propagate_like_ort(nodes, inits, layout):
    model = make_model(nodes, [("x", np.float32, [2, C, H, W])], [("y", np.float32, None)], inits)
    x = special_input()
    (got,) = fastconv.InferenceSession(model, layout=layout).run(None, {"x": x})
    assert_same_specials(got, run_ort(model, {"x": x})[0])


def test_nan_and_inf_through_the_cnn_model(model_and_session):
    model, sess = model_and_session
    x = special_input()
    assert_same_specials(sess.run(None, {"x": x})[0], run_ort(model, {"x": x})[0])
