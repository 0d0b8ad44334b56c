"""Helpers shared by the tests: build small ONNX models and compare fastconv with onnxruntime."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import fastconv

# onnxruntime reads IR versions up to 10-13 depending on release; models made here use 8.
IR_VERSION = 8


def make_model(nodes, inputs, outputs, initializers=None, opset=17) -> onnx.ModelProto:
    """inputs/outputs: lists of (name, np dtype or TensorProto type, shape or None)."""

    def vi(name, dtype, shape):
        elem = dtype if isinstance(dtype, int) else helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        return helper.make_tensor_value_info(name, elem, shape)

    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()]
    graph = helper.make_graph(nodes, "test", [vi(*i) for i in inputs], [vi(*o) for o in outputs], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)


def single_node_model(op_type, inputs: dict, attrs=None, initializers=None, num_outputs=1, opset=17,
                      output_dtype=None):
    """A model with one node; `inputs` maps name -> example array (its dtype and shape are declared)."""
    out_names = [f"y{k}" for k in range(num_outputs)]
    node = helper.make_node(op_type, list(inputs) + list(initializers or {}), out_names, **(attrs or {}))
    ins = [(k, v.dtype, list(v.shape)) for k, v in inputs.items()]
    first = next(iter(inputs.values()))
    outs = [(n, output_dtype or first.dtype, None) for n in out_names]
    return make_model([node], ins, outs, initializers, opset)


def run_ort(model: onnx.ModelProto, feeds: dict, num_threads: int = 1):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = num_threads
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def assert_matches_ort(model, feeds, rtol=1e-4, atol=1e-5, num_threads=1, **session_kwargs):
    expected = run_ort(model, feeds, num_threads)
    sess = fastconv.InferenceSession(model, num_threads=num_threads, **session_kwargs)
    got = sess.run(None, feeds)
    assert len(got) == len(expected)
    for k, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape, f"output {k}: shape {g.shape} != onnxruntime {e.shape}"
        assert g.dtype == e.dtype, f"output {k}: dtype {g.dtype} != onnxruntime {e.dtype}"
        if e.dtype.kind == "f":
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"output {k}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"output {k}")
    return got


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


__all__ = ["make_model", "single_node_model", "run_ort", "assert_matches_ort", "rand", "TensorProto", "helper"]
