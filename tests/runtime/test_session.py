"""InferenceSession's public behaviour: metadata like onnxruntime, output selection, input checking,
unusual input arrays, thread safety and output ownership."""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv.errors import InvalidInputError

from ..util import make_model, rand, run_ort

C, H, W = 3, 4, 5


def two_input_model(batch="N"):
    """y = Relu(x) + b (float, symbolic batch), z = k + k (int64, fixed), r = Relu(x)."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "b"], ["y"]),
             helper.make_node("Add", ["k", "k"], ["z"])]
    b = rand(C, 1, 1, seed=7)
    return make_model(nodes, [("x", np.float32, [batch, C, H, W]), ("k", np.int64, [2, 3])],
                      [("y", np.float32, [batch, C, H, W]), ("z", np.int64, [2, 3]),
                       ("r", np.float32, [batch, C, H, W])], {"b": b}), b


def feeds(batch=2, seed=0):
    return {"x": rand(batch, C, H, W, seed=seed), "k": np.arange(6, dtype=np.int64).reshape(2, 3) + seed}


def reference(feed, b):
    r = np.maximum(feed["x"], 0)
    return {"y": r + b, "z": feed["k"] * 2, "r": r}


@pytest.fixture(scope="module")
def model_and_bias():
    return two_input_model()


@pytest.fixture(scope="module")
def sess(model_and_bias):
    return fastconv.InferenceSession(model_and_bias[0])


def test_metadata_like_onnxruntime(model_and_bias, sess):
    import onnxruntime as ort

    o = ort.InferenceSession(model_and_bias[0].SerializeToString(), providers=["CPUExecutionProvider"])
    for ours, theirs in [(sess.get_inputs(), o.get_inputs()), (sess.get_outputs(), o.get_outputs())]:
        assert [(a.name, a.shape, a.type) for a in ours] == [(a.name, a.shape, a.type) for a in theirs]
    assert sess.get_inputs()[0].shape == ["N", C, H, W]
    assert sess.get_inputs()[1].type == "tensor(int64)"


@pytest.mark.parametrize("dtype,type_name", [(np.float32, "tensor(float)"), (np.float64, "tensor(double)"),
                                             (np.int32, "tensor(int32)"), (np.int64, "tensor(int64)"),
                                             (np.uint8, "tensor(uint8)"), (np.bool_, "tensor(bool)")])
def test_type_strings_like_onnxruntime(dtype, type_name):
    import onnxruntime as ort

    # a graph whose output is its input: needs no op that handles every dtype
    model = make_model([], [("x", dtype, ["N", 3])], [("x", dtype, ["N", 3])])
    o = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    ours = fastconv.InferenceSession(model)
    assert [(a.name, a.shape, a.type) for a in ours.get_inputs()] == \
        [(a.name, a.shape, a.type) for a in o.get_inputs()]
    assert ours.get_inputs()[0].type == type_name
    x = np.ones((2, 3), dtype)
    (y,) = ours.run(None, {"x": x})
    assert y.dtype == dtype and not np.shares_memory(x, y)


def test_run_all_outputs_matches_ort(model_and_bias, sess):
    f = feeds(3)
    got = sess.run(None, f)
    want = run_ort(model_and_bias[0], f)
    assert len(got) == 3
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=0)


def test_run_selected_outputs_in_requested_order(model_and_bias, sess):
    f = feeds(2, seed=1)
    ref = reference(f, model_and_bias[1])
    z, y = sess.run(["z", "y"], f)
    np.testing.assert_array_equal(z, ref["z"])
    np.testing.assert_array_equal(y, ref["y"])
    (r,) = sess.run(["r"], f)
    np.testing.assert_array_equal(r, ref["r"])
    y1, y2 = sess.run(["y", "y"], f)
    np.testing.assert_array_equal(y1, y2)
    assert sess.run([], f) == []


def test_unknown_output_name(sess):
    with pytest.raises(InvalidInputError, match="nope"):
        sess.run(["nope"], feeds())


@pytest.mark.parametrize("case,pattern", [
    ("wrong_name", "unknown input"),
    ("missing", "missing input"),
    ("extra", "unknown input"),
    ("dtype", "float32"),
    ("int_dtype", "int64"),
    ("rank", "rank"),
    ("fixed_dim", "dimension 2 must be 4"),
    ("int_fixed_dim", "dimension 1 must be 3"),
    ("not_dict", "dict"),
])
def test_bad_inputs_raise_invalid_input(sess, case, pattern):
    f = feeds()
    if case == "wrong_name":
        f["X"] = f.pop("x")
    elif case == "missing":
        del f["k"]
    elif case == "extra":
        f["extra"] = f["x"]
    elif case == "dtype":
        f["x"] = f["x"].astype(np.float64)
    elif case == "int_dtype":
        f["k"] = f["k"].astype(np.int32)
    elif case == "rank":
        f["x"] = f["x"][0]
    elif case == "fixed_dim":
        f["x"] = rand(2, C, H + 1, W)
    elif case == "int_fixed_dim":
        f["k"] = np.zeros((2, 4), np.int64)
    elif case == "not_dict":
        f = list(f.values())
    with pytest.raises(InvalidInputError, match=pattern):
        sess.run(None, f)


def test_invalid_input_is_a_value_error(sess):
    f = feeds()
    f["x"] = f["x"].astype(np.float64)
    with pytest.raises(ValueError):
        sess.run(None, f)


@pytest.mark.parametrize("layout", ["strided", "transposed", "fortran", "readonly", "readonly_view",
                                    "broadcast"])
def test_unusual_input_arrays(model_and_bias, sess, layout):
    base = rand(2, C, H, W, seed=3)
    if layout == "strided":
        x = rand(2, C, H, 2 * W, seed=3)[..., ::2]
    elif layout == "transposed":
        x = np.ascontiguousarray(base.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    elif layout == "fortran":
        x = np.asfortranarray(base)
    elif layout == "readonly":
        x = base.copy()
        x.setflags(write=False)
    elif layout == "readonly_view":
        x = rand(2, C, H, 2 * W, seed=3)[..., 1::2]
        x.setflags(write=False)
    else:
        x = np.broadcast_to(rand(1, C, H, W, seed=3), (2, C, H, W))
    assert x.shape == (2, C, H, W)
    k = np.arange(6, dtype=np.int64).reshape(3, 2).T  # non-contiguous int input too
    f = {"x": x, "k": k}
    before = x.copy()
    got = sess.run(None, f)
    ref = reference({"x": np.ascontiguousarray(x), "k": np.ascontiguousarray(k)}, model_and_bias[1])
    for g, name in zip(got, ["y", "z", "r"]):
        np.testing.assert_array_equal(g, ref[name])
        assert g.flags.c_contiguous and g.flags.writeable
    np.testing.assert_array_equal(x, before)


def test_concurrent_runs_match_serial(model_and_bias):
    sess = fastconv.InferenceSession(model_and_bias[0], num_threads=2)
    cases = [feeds(batch=1 + k % 3, seed=k) for k in range(24)]  # three shapes: plans built concurrently
    serial = [fastconv.InferenceSession(model_and_bias[0], num_threads=1).run(None, f) for f in cases]
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        return [sess.run(None, cases[j]) for j in range(k, len(cases), 8)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for k, outs in enumerate(results):
        for i, got in zip(range(k, len(cases), 8), outs):
            for g, s in zip(got, serial[i]):
                np.testing.assert_array_equal(g, s)
    assert len(sess._executors) == 3


def test_outputs_do_not_alias_constants_or_inputs():
    """Outputs that are a folded constant, an initializer or a graph input are copies owned by the caller."""
    c1, c2 = rand(2, 3, seed=1), rand(2, 3, seed=2)
    nodes = [helper.make_node("Add", ["c1", "c2"], ["folded"]), helper.make_node("Relu", ["x"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [2, 3])],
                       [("folded", np.float32, [2, 3]), ("c1", np.float32, [2, 3]), ("x", np.float32, [2, 3]),
                        ("y", np.float32, [2, 3])], {"c1": c1, "c2": c2})
    sess = fastconv.InferenceSession(model)
    x = rand(2, 3, seed=3)
    x_before = x.copy()
    first = sess.run(None, {"x": x})
    for out in first:
        assert not np.shares_memory(out, x)
        out += 100.0  # callers own what they get
    np.testing.assert_array_equal(x, x_before)
    second = sess.run(None, {"x": x})
    for got, want in zip(second, [c1 + c2, c1, x_before, np.maximum(x_before, 0)]):
        np.testing.assert_array_equal(got, want)
    assert not np.shares_memory(second[0], sess.run(["folded"], {"x": x})[0])


def test_outputs_of_successive_runs_are_independent(model_and_bias, sess):
    f = feeds()
    a = sess.run(None, f)
    b = sess.run(None, f)
    for u, v in zip(a, b):
        assert not np.shares_memory(u, v)


def test_get_outputs_reports_inferred_shape_when_declaration_is_missing_or_wrong():
    import numpy as np
    from onnx import TensorProto, helper

    from ..util import IR_VERSION

    node = helper.make_node("Relu", ["x"], ["y"])
    for declared in (None, [7, 7]):
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, declared)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=IR_VERSION)
        sess = fastconv.InferenceSession(model)
        out = sess.get_outputs()[0]
        assert out.shape == [2, 3] and out.type == "tensor(float)"
        assert sess.run(None, {"x": np.ones((2, 3), np.float32)})[0].shape == (2, 3)
