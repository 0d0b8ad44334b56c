"""fastconv.tools.verify: input generation, the comparison itself, reports, onnxruntime IR-version fallback."""
import json

import numpy as np
import onnx
import pytest
from onnx import helper

import fastconv
from fastconv.errors import InvalidInputError
from fastconv.tools import verify

from ..util import make_model, rand


def model_two_inputs():
    """y = Relu(x) + w (x: [N, C, H, W], w: [N, C, 1, 1]: shares N and C by name); k2 = k + k (int64)."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "w"], ["y"]),
             helper.make_node("Add", ["k", "k"], ["k2"])]
    return make_model(nodes, [("x", np.float32, ["N", "C", "H", "W"]), ("w", np.float32, ["N", "C", 1, 1]),
                              ("k", np.int64, [4])],
                      [("y", np.float32, None), ("k2", np.int64, [4])])


def test_random_inputs_default_dims():
    report = fastconv.compare_with_onnxruntime(model_two_inputs(), num_threads=1)
    assert report.ok and bool(report)
    d = verify.DEFAULT_DIM
    assert report.inputs["x"].shape == (1, d, d, d)
    assert report.inputs["w"].shape == (1, d, 1, 1)   # C bound by name across inputs
    assert report.inputs["k"].dtype == np.int64 and set(np.unique(report.inputs["k"])) <= {0, 1, 2, 3}
    assert [o.name for o in report.outputs] == ["y", "k2"]
    assert report.num_threads == 1


def test_input_shapes_bind_symbols_for_other_inputs():
    report = fastconv.compare_with_onnxruntime(model_two_inputs(), input_shapes={"x": (3, 2, 5, 4)}, seed=3)
    assert report.ok
    assert report.inputs["x"].shape == (3, 2, 5, 4)
    assert report.inputs["w"].shape == (3, 2, 1, 1)
    y = report.outputs[0]
    assert y.shape == (3, 2, 5, 4) and y.dtype == "float32" and y.max_abs_diff == 0 and y.rel_l2 == 0


def test_given_inputs_used_as_is_and_seed_reproducible():
    x = rand(2, 3, 4, 4)
    r1 = verify.compare_with_onnxruntime(model_two_inputs(), {"x": x}, seed=7)
    r2 = verify.compare_with_onnxruntime(model_two_inputs(), {"x": x}, seed=7)
    assert r1.inputs["x"] is x or np.array_equal(r1.inputs["x"], x)
    assert r1.inputs["w"].shape == (2, 3, 1, 1)
    np.testing.assert_array_equal(r1.inputs["w"], r2.inputs["w"])
    r3 = verify.compare_with_onnxruntime(model_two_inputs(), {"x": x}, seed=8)
    assert not np.array_equal(r1.inputs["w"], r3.inputs["w"])


def test_bad_input_names_and_ranks():
    with pytest.raises(InvalidInputError, match="nope"):
        verify.compare_with_onnxruntime(model_two_inputs(), {"nope": rand(1)})
    with pytest.raises(InvalidInputError, match="nope"):
        verify.compare_with_onnxruntime(model_two_inputs(), input_shapes={"nope": (1,)})
    with pytest.raises(InvalidInputError, match="rank"):
        verify.compare_with_onnxruntime(model_two_inputs(), input_shapes={"x": (1, 2)})


def test_model_from_path_and_bytes(tmp_path):
    model = model_two_inputs()
    onnx.save(model, tmp_path / "m.onnx")
    shapes = {"x": (1, 2, 3, 3)}
    assert verify.compare_with_onnxruntime(str(tmp_path / "m.onnx"), input_shapes=shapes).ok
    assert verify.compare_with_onnxruntime(model.SerializeToString(), input_shapes=shapes).ok


@pytest.mark.parametrize("ir_version", [onnx.IR_VERSION, 99])
def test_ir_version_too_new_for_onnxruntime(ir_version):
    model = model_two_inputs()
    model.ir_version = ir_version
    report = verify.compare_with_onnxruntime(model, input_shapes={"x": (1, 2, 3, 3)})
    assert report.ok
    if ir_version == 99:
        assert report.ort_ir_version is not None and report.ort_ir_version < 99
        assert "ir_version" in report.format()
    assert model.ir_version == ir_version  # the caller's model is left alone


def test_injected_difference_fails(monkeypatch):
    class Off(fastconv.InferenceSession):
        def run(self, names, feed, run_options=None):
            outs = super().run(names, feed, run_options)
            outs[0] = outs[0].copy()
            outs[0].flat[0] += np.float32(0.5)
            return outs

    monkeypatch.setattr(verify, "InferenceSession", Off)
    report = verify.compare_with_onnxruntime(model_two_inputs(), input_shapes={"x": (1, 2, 3, 3)})
    assert not report.ok
    y, k2 = report.outputs
    assert not y.passed and y.max_abs_diff == pytest.approx(0.5) and y.rel_l2 > 0
    assert k2.passed
    text = report.format()
    assert "MISMATCH: 1/2" in text and "FAIL" in text
    d = json.loads(json.dumps(report.to_dict()))
    assert d["ok"] is False and [o["passed"] for o in d["outputs"]] == [False, True]


def test_compare_arrays_rules():
    a = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    c = verify.compare_arrays("a", a, a.copy(), 1e-4, 1e-5)
    assert c.passed and c.max_abs_diff == 0 and c.rel_l2 == 0
    c = verify.compare_arrays("a", a, np.array([1.0, 0.0, np.inf, -np.inf], np.float32), 1e-4, 1e-5)
    assert not c.passed  # a NaN where onnxruntime has a number
    c = verify.compare_arrays("a", np.ones((2, 3), np.float32), np.ones((3, 2), np.float32), 1, 1)
    assert not c.passed and "shape" in c.note and np.isnan(c.max_abs_diff)
    assert c.to_dict()["max_abs_diff"] is None
    c = verify.compare_arrays("a", np.ones(3, np.float64), np.ones(3, np.float32), 1, 1)
    assert not c.passed and "dtype" in c.note
    c = verify.compare_arrays("i", np.array([1, 2], np.int64), np.array([1, 3], np.int64), 1, 1)
    assert not c.passed and c.max_abs_diff == 1  # integers compare exactly, whatever the tolerance
    c = verify.compare_arrays("f", np.float32(1.00001), np.float32(1.0), 1e-4, 0)
    assert c.passed and c.shape == ()
    c = verify.compare_arrays("z", np.zeros(0, np.float32), np.zeros(0, np.float32), 0, 0)
    assert c.passed and c.max_abs_diff == 0
    c = verify.compare_arrays("zero", np.full(2, 1e-6, np.float32), np.zeros(2, np.float32), 0, 1e-5)
    assert c.passed and c.rel_l2 == pytest.approx(np.sqrt(2) * 1e-6)  # absolute L2 when the reference is 0


def test_random_array_dtypes():
    rng = np.random.default_rng(0)
    assert verify.random_array(rng, (3,), np.dtype(np.float64)).dtype == np.float64
    b = verify.random_array(rng, (50,), np.dtype(np.bool_))
    assert b.dtype == np.bool_ and b.any() and not b.all()
    i = verify.random_array(rng, (50,), np.dtype(np.int32))
    assert i.dtype == np.int32 and i.min() >= 0 and i.max() <= 3
