"""Fuzz oracle and model generators (issue 6).

The only acceptable outcomes for any model and input: fastconv's result equals onnxruntime's (when onnxruntime
accepts the model), or fastconv raises a FastconvError subclass. Any other exception is a finding. Crashes and
hangs are caught by the long-run entry point (tests/fuzz/run.py), which runs examples in a child process.

Generators take `draw(strategy)` (hypothesis's data.draw) so that the CI test and the long run share them.
"""
from __future__ import annotations

import math

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import fastconv
from fastconv.errors import FastconvError

from ..util import IR_VERSION, make_model

# Small enough that no fuzzed model allocates much; large enough for every generated valid model.
MAX_TENSOR_BYTES = 16 << 20
MAX_FEED_ELEMENTS = 1 << 16


class Finding(AssertionError):
    """fastconv misbehaved: an exception other than FastconvError, or a result differing from onnxruntime."""


def _ort_session(data: bytes):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 4
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def feeds_for(sess, seed=0) -> dict | None:
    """Random feeds for the session's declared inputs (symbolic dims -> 2), or None if they are too big."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for arg in sess.get_inputs():
        shape = [d if isinstance(d, int) else 2 for d in arg.shape]
        if math.prod(shape) > MAX_FEED_ELEMENTS:
            return None
        dtype = sess.graph.inputs[[v.name for v in sess.graph.inputs].index(arg.name)].dtype
        if dtype.kind == "f":
            feeds[arg.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[arg.name] = rng.integers(0, 2, shape).astype(dtype)
        else:
            feeds[arg.name] = rng.integers(0, 4, shape).astype(dtype)
    return feeds


def check(model, num_threads: int = 1, rtol: float = 1e-3, atol: float = 1e-3) -> str:
    """Run the oracle on a model (bytes or ModelProto). Returns what happened ('rejected: ...', 'matched',
    'ran (onnxruntime refused)', ...); raises Finding on misbehaviour."""
    data = model if isinstance(model, bytes) else model.SerializeToString()
    try:
        sess = fastconv.InferenceSession(data, num_threads=num_threads, max_tensor_bytes=MAX_TENSOR_BYTES)
        feeds = feeds_for(sess)
        if feeds is None:
            return "loaded (inputs too big to run)"
        got = sess.run(None, feeds)
    except FastconvError as e:
        return f"rejected: {type(e).__name__}"
    except Exception as e:
        raise Finding(f"fastconv raised {type(e).__name__}: {e}") from e
    try:
        want = _ort_session(data).run(None, feeds)
    except Exception:  # noqa: BLE001 - onnxruntime refusing a model fastconv accepts is not checked here
        return "ran (onnxruntime refused)"
    if len(got) != len(want):
        raise Finding(f"{len(got)} outputs, onnxruntime {len(want)}")
    for k, (g, w) in enumerate(zip(got, want)):
        if g.shape != w.shape or g.dtype != w.dtype:
            raise Finding(f"output {k}: {g.dtype}{list(g.shape)}, onnxruntime {w.dtype}{list(w.shape)}")
        if w.dtype.kind == "f":
            scale = float(np.max(np.abs(w[np.isfinite(w)]), initial=1.0))
            try:
                np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * scale, equal_nan=True)
            except AssertionError as e:
                raise Finding(f"output {k} differs from onnxruntime: {e}") from None
        elif not np.array_equal(g, w):
            raise Finding(f"output {k} differs from onnxruntime")
    return "matched"


# -- attribute spaces: Conv / ConvTranspose / pools / Gemm, invalid values included --------------------------

def _ints(draw, n, lo, hi, *, wrong_len=True):
    """A list of n ints in [lo, hi]; sometimes of a wrong length (the model is then invalid)."""
    if wrong_len and draw(st.integers(0, 19)) == 0:
        n = draw(st.integers(0, 2 * n + 1))
    return draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))


def _node(op, ins, outs, attrs):
    """helper.make_node, also for empty int lists (which onnx cannot type from their values)."""
    node = helper.make_node(op, ins, outs, name="fuzzed")
    for key, value in attrs.items():
        kind = onnx.AttributeProto.INTS if isinstance(value, list) and not value else None
        node.attribute.append(helper.make_attribute(key, value, attr_type=kind))
    return node


def _maybe(draw, value):
    return value if draw(st.booleans()) else None


def conv_node_model(draw) -> onnx.ModelProto:
    op = draw(st.sampled_from(["Conv", "ConvTranspose"]))
    rank = draw(st.sampled_from([1, 2, 2, 2, 3]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 6))
    spatial = draw(st.lists(st.integers(1, 8), min_size=rank, max_size=rank))
    group = draw(st.sampled_from([1, 1, 1, 1, 2, 3, c, c, c, 0, -1]))
    m = draw(st.integers(1, 6)) * max(group, 1) if draw(st.integers(0, 9)) else draw(st.integers(1, 7))
    k = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    attrs = {"group": group} if group != 1 or draw(st.booleans()) else {}
    for name, n_, lo, hi in (("strides", rank, -1, 3), ("dilations", rank, -1, 3), ("pads", 2 * rank, -1, 4)):
        v = _maybe(draw, _ints(draw, n_, lo, hi))
        if v is not None:
            attrs[name] = v if draw(st.integers(0, 9)) == 0 else [max(x, 1 if name != "pads" else 0) for x in v]
    if draw(st.booleans()):
        attrs["kernel_shape"] = k if draw(st.integers(0, 9)) else _ints(draw, rank, 0, 5)
    if draw(st.integers(0, 3)) == 0:
        attrs["auto_pad"] = draw(st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "SAME"]))
        if attrs["auto_pad"] != "NOTSET":
            attrs.pop("pads", None)
    if op == "ConvTranspose":
        if draw(st.booleans()):
            attrs["output_padding"] = _ints(draw, rank, -1, 3)
        if draw(st.integers(0, 4)) == 0:
            attrs["output_shape"] = _ints(draw, rank, 0, 20)
        w_shape = [c, max(m // max(group, 1), 1)] + k
    else:
        w_shape = [m, max(c // max(group, 1), 1)] + k
    if draw(st.integers(0, 9)) == 0:  # weight rank or channels inconsistent with X
        w_shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=rank + 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    inits = {"w": rng.standard_normal(w_shape).astype(np.float32)}
    ins = ["x", "w"]
    if draw(st.booleans()):
        out_c = w_shape[0] if op == "Conv" else (w_shape[1] * max(group, 1) if len(w_shape) > 1 else 1)
        inits["b"] = rng.standard_normal(out_c if draw(st.integers(0, 9)) else out_c + 1).astype(np.float32)
        ins.append("b")
    node = _node(op, ins, ["y"], attrs)
    return make_model([node], [("x", np.float32, [n, c] + spatial)], [("y", np.float32, None)], inits)


POOLS = ["MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]


def pool_node_model(draw) -> onnx.ModelProto:
    op = draw(st.sampled_from(POOLS))
    rank = draw(st.sampled_from([1, 2, 2, 3]))
    shape = [draw(st.integers(1, 2)), draw(st.integers(1, 5))] + draw(
        st.lists(st.integers(1, 8), min_size=rank, max_size=rank))
    attrs = {}
    outputs = ["y"]
    if not op.startswith("Global"):
        attrs["kernel_shape"] = _ints(draw, rank, 0, 5) if draw(st.integers(0, 9)) == 0 else draw(
            st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
        for name, n_, lo, hi in (("strides", rank, -1, 3), ("pads", 2 * rank, -1, 3)):
            if draw(st.booleans()):
                attrs[name] = _ints(draw, n_, lo, hi) if draw(st.integers(0, 9)) == 0 else draw(
                    st.lists(st.integers(1 if name == "strides" else 0, hi), min_size=n_, max_size=n_))
        if op != "LpPool" and draw(st.booleans()):
            attrs["dilations"] = _ints(draw, rank, 0, 3)
        if op != "LpPool" and draw(st.booleans()):
            attrs["ceil_mode"] = draw(st.sampled_from([0, 1, 1, 2]))
        if draw(st.integers(0, 3)) == 0:
            attrs["auto_pad"] = draw(st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "bad"]))
            if attrs["auto_pad"] != "NOTSET":
                attrs.pop("pads", None)
        if op == "AveragePool" and draw(st.booleans()):
            attrs["count_include_pad"] = draw(st.sampled_from([0, 1, 1, 5]))
        if op == "MaxPool" and draw(st.booleans()):
            attrs["storage_order"] = draw(st.sampled_from([0, 1, 3]))
            outputs.append("idx")
    if "Lp" in op and draw(st.booleans()):
        attrs["p"] = draw(st.sampled_from([1, 2, 3, 0, -1]))
    node = _node(op, ["x"], outputs, attrs)
    outs = [("y", np.float32, None)] + ([("idx", np.int64, None)] if len(outputs) > 1 else [])
    return make_model([node], [("x", np.float32, shape)], outs)


def gemm_node_model(draw) -> onnx.ModelProto:
    m, k, n = (draw(st.integers(1, 6)) for _ in range(3))
    attrs = {}
    for name in ("transA", "transB"):
        if draw(st.booleans()):
            attrs[name] = draw(st.sampled_from([0, 1, 1, 2, -1]))
    for name in ("alpha", "beta"):
        if draw(st.booleans()):
            attrs[name] = draw(st.sampled_from([1.0, 0.0, -2.5, 0.5, float("inf"), float("nan")]))
    a_shape = [k, m] if attrs.get("transA") else [m, k]
    b_shape = [n, k] if attrs.get("transB") else [k, n]
    if draw(st.integers(0, 9)) == 0:
        a_shape = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    if draw(st.integers(0, 9)) == 0:
        b_shape = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    inits = {"b": rng.standard_normal(b_shape).astype(np.float32)}
    ins = ["a", "b"]
    if draw(st.booleans()):
        inits["c"] = rng.standard_normal(draw(st.sampled_from([[n], [m, n], [1, n], [m, 1], [1], [], [n + 1]]))
                                         ).astype(np.float32)
        ins.append("c")
    b_const = draw(st.booleans())
    inputs = [("a", np.float32, a_shape)]
    if not b_const:
        inputs.append(("b", np.float32, b_shape))
        b = inits.pop("b")
        assert b is not None
    node = _node("Gemm", ins, ["y"], attrs)
    return make_model([node], inputs, [("y", np.float32, None)], inits, opset=draw(st.sampled_from([11, 13, 17])))


ATTRIBUTE_SPACES = {"conv": conv_node_model, "pool": pool_node_model, "gemm": gemm_node_model}


# -- model bytes: mutations of small valid models ---------------------------------------------------------

def seed_models() -> list[onnx.ModelProto]:
    """Small valid models covering the fuzzed op families and a short chain."""
    rng = np.random.default_rng(0)
    r = lambda *s: rng.standard_normal(s).astype(np.float32)
    chain = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "g"], ["y"], name="fc", transB=1)]
    models = [make_model(chain, [("x", np.float32, ["N", 2, 6, 6])], [("y", np.float32, None)],
                         {"w": r(4, 2, 3, 3), "b": r(4), "g": r(3, 36)})]
    models.append(make_model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="ct", strides=[2, 2],
                                               output_padding=[1, 0])],
                             [("x", np.float32, [1, 3, 4, 4])], [("y", np.float32, None)], {"w": r(3, 2, 3, 3)}))
    models.append(make_model([helper.make_node("AveragePool", ["x"], ["a"], name="ap", kernel_shape=[3, 3],
                                               pads=[1, 1, 1, 1], count_include_pad=1),
                              helper.make_node("GlobalMaxPool", ["a"], ["y"], name="gp")],
                             [("x", np.float32, [1, 3, 5, 5])], [("y", np.float32, None)]))
    models.append(make_model([helper.make_node("Reshape", ["x", "s"], ["t"], name="rs"),
                              helper.make_node("Gemm", ["t", "g", "c"], ["y"], name="fc", alpha=0.5)],
                             [("x", np.float32, [2, 3, 2])], [("y", np.float32, None)],
                             {"s": np.array([2, 6], np.int64), "g": r(6, 4), "c": r(4)}))
    return models


INTERESTING_INTS = [0, 1, -1, 2, 3, 7, 255, 2 ** 31 - 1, -2 ** 31, 2 ** 40, 2 ** 62]


def mutate_proto(draw, model: onnx.ModelProto) -> onnx.ModelProto:
    """One structural mutation through the protobuf: attribute values, dims, names, op types, element types."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    if not g.node:
        return m
    kind = draw(st.sampled_from(["attr_int", "attr_ints", "attr_drop", "dims", "input_dims", "rename",
                                 "op_type", "elem_type", "drop_node", "dup_node", "opset", "raw_data"]))
    node = g.node[draw(st.integers(0, len(g.node) - 1))]
    values = [v for n in g.node for v in list(n.input) + list(n.output)] + [t.name for t in g.initializer] + [""]
    if kind in ("attr_int", "attr_ints", "attr_drop") and node.attribute:
        attr = node.attribute[draw(st.integers(0, len(node.attribute) - 1))]
        if kind == "attr_drop":
            node.attribute.remove(attr)
        elif attr.type == onnx.AttributeProto.INT:
            attr.i = draw(st.sampled_from(INTERESTING_INTS))
        elif attr.type == onnx.AttributeProto.INTS and attr.ints:
            pos = draw(st.integers(0, len(attr.ints)))
            if pos == len(attr.ints):
                attr.ints.append(draw(st.sampled_from(INTERESTING_INTS)))
            else:
                attr.ints[pos] = draw(st.sampled_from(INTERESTING_INTS))
        elif attr.type == onnx.AttributeProto.FLOAT:
            attr.f = draw(st.sampled_from([0.0, -1.0, float("nan"), float("inf"), 1e30]))
    elif kind == "dims" and g.initializer:
        t = g.initializer[draw(st.integers(0, len(g.initializer) - 1))]
        if t.dims:
            t.dims[draw(st.integers(0, len(t.dims) - 1))] = draw(st.sampled_from(INTERESTING_INTS))
        else:
            t.dims.append(draw(st.sampled_from(INTERESTING_INTS)))
    elif kind == "input_dims" and g.input:
        dims = g.input[0].type.tensor_type.shape.dim
        if dims:
            d = dims[draw(st.integers(0, len(dims) - 1))]
            d.dim_value = draw(st.sampled_from(INTERESTING_INTS[:7] + [2 ** 20]))
    elif kind == "rename":
        target = draw(st.sampled_from(["input", "output"]))
        seq = node.input if target == "input" else node.output
        if seq:
            seq[draw(st.integers(0, len(seq) - 1))] = draw(st.sampled_from(values))
    elif kind == "op_type":
        node.op_type = draw(st.sampled_from(["Conv", "ConvTranspose", "MaxPool", "AveragePool", "Gemm", "Relu",
                                             "Add", "Flatten", "GlobalAveragePool", "LpPool", "Reshape", "Nope"]))
    elif kind == "elem_type":
        vi = draw(st.sampled_from(list(g.input) + list(g.output)))
        vi.type.tensor_type.elem_type = draw(st.sampled_from([0, 1, 6, 7, 10, 11, 8, 99]))
    elif kind == "drop_node":
        g.node.remove(node)
    elif kind == "dup_node":
        g.node.append(node)
    elif kind == "opset":
        m.opset_import[0].version = draw(st.sampled_from([1, 6, 7, 9, 10, 11, 13, 18, 21, 22, 30]))
    elif kind == "raw_data" and g.initializer:
        t = g.initializer[draw(st.integers(0, len(g.initializer) - 1))]
        if t.raw_data:
            cut = draw(st.integers(0, len(t.raw_data)))
            t.raw_data = t.raw_data[:cut] + draw(st.binary(max_size=8))
    return m


def mutate_bytes(draw, data: bytes) -> bytes:
    """Byte-level mutations: bit flips, truncation, random bytes spliced in or cut out."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "flip", "truncate", "insert", "delete", "overwrite"]))
        if not buf:
            break
        pos = draw(st.integers(0, len(buf) - 1))
        if kind == "flip":
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del buf[pos:]
        elif kind == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del buf[pos:pos + draw(st.integers(1, 8))]
        else:
            chunk = draw(st.binary(min_size=1, max_size=8))
            buf[pos:pos + len(chunk)] = chunk
    return bytes(buf)


def mutated_model(draw) -> bytes:
    seeds = SEEDS
    model = seeds[draw(st.integers(0, len(seeds) - 1))]
    for _ in range(draw(st.integers(0, 2))):
        model = mutate_proto(draw, model)
    data = model.SerializeToString()
    if draw(st.booleans()):
        data = mutate_bytes(draw, data)
    return data


SEEDS = seed_models()

__all__ = [
    "ATTRIBUTE_SPACES",
    "IR_VERSION",
    "SEEDS",
    "Finding",
    "TensorProto",
    "check",
    "mutated_model",
    "numpy_helper",
]
