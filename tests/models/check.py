"""Run one model in fastconv and onnxruntime on the same seeded input and compare every output."""
from __future__ import annotations

import time

import numpy as np
import onnx
from onnx import helper

import fastconv

from . import zoo

THREADS = 2             # both engines
REL_L2 = 1e-4           # per output: ||fastconv - ort|| / ||ort||


def assert_matches_ort(case: zoo.ModelCase, shape: tuple, seed: int = 0) -> dict:
    """Assert shapes, dtypes, finiteness and rel. L2 error <= REL_L2 for every output; returns timings."""
    path = case.path(shape)
    t0 = time.perf_counter()
    sess = fastconv.InferenceSession(path, num_threads=THREADS)
    feeds = case.feeds(sess.get_inputs()[0].name, shape, seed)
    got = sess.run(None, feeds)
    t1 = time.perf_counter()
    names = [o.name for o in sess.get_outputs()]
    expected = reference_outputs(case, path, feeds)
    t2 = time.perf_counter()
    errors = []
    for name, g, e in zip(names, got, expected):
        if g.shape != e.shape or g.dtype != e.dtype:
            errors.append(f"{name}: fastconv {g.dtype}{list(g.shape)} vs onnxruntime {e.dtype}{list(e.shape)}")
            continue
        err = zoo.rel_l2(g, e)
        if not np.isfinite(g).all():
            errors.append(f"{name}: {np.size(g) - np.isfinite(g).sum()} non-finite values")
        elif not err <= REL_L2:
            errors.append(f"{name}: rel. L2 error {err:.3g} > {REL_L2:g} (max abs diff {np.abs(g - e).max():.3g})")
    for name, e in zip(names, expected):        # guards the random weights of zoo.py, not fastconv
        if e.dtype.kind == "f":
            assert np.isfinite(e).all(), f"{name}: onnxruntime's output is not finite: degenerate weights"
            assert e.size < 2 or np.ptp(e) > 0, f"{name}: onnxruntime's output is constant: degenerate weights"
    assert not errors, f"{case.name} {list(shape)}: " + "; ".join(errors)
    return {"fastconv_s": t1 - t0, "ort_s": t2 - t1}


def reference_outputs(case: zoo.ModelCase, path: str, feeds: dict) -> list[np.ndarray]:
    """onnxruntime's outputs; for case.exact_sigmoid, Sigmoid outputs are recomputed exactly from ORT's logits.

    The logits are fetched as extra outputs of an in-memory copy run by onnxruntime only; fastconv runs
    the model as it is.
    """
    if not case.exact_sigmoid:
        return zoo.ort_session(path, THREADS).run(None, feeds)
    model = onnx.load(path)
    producer = {o: n for n in model.graph.node for o in n.output}
    outputs = [o.name for o in model.graph.output]
    logits = {o: producer[o].input[0] for o in outputs if o in producer and producer[o].op_type == "Sigmoid"}
    assert logits, f"{case.name}: exact_sigmoid is set but no output is made by a Sigmoid"
    for name in logits.values():
        model.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    sess = zoo.ort_session(model.SerializeToString(), THREADS)
    values = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    result = []
    for o in outputs:
        if o in logits:
            x = values[logits[o]].astype(np.float64)
            result.append((1.0 / (1.0 + np.exp(-x))).astype(np.float32))
        else:
            result.append(values[o])
    return result
