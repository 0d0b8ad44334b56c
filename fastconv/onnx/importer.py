"""Translate an onnx.ModelProto into fastconv's Graph IR.

Every node is matched against the op registry, upgraded from its opset's attribute form to the newest input
form (so ops implement one semantics), and parsed. All unsupported nodes are reported in one error.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from fastconv.errors import InvalidModelError, UnsupportedError, check_tensor_bytes
from fastconv.graph.ir import Graph, Node, ValueSpec
from fastconv.ops import registry
from fastconv.ops.base import SUPPORTED_DTYPES

DEFAULT_DOMAINS = ("", "ai.onnx")


def tensor_to_array(t: onnx.TensorProto, where: str, max_bytes: int | None = None) -> np.ndarray:
    if t.data_type in (onnx.TensorProto.STRING, onnx.TensorProto.UNDEFINED):
        raise UnsupportedError(f"{where}: tensor '{t.name}' has unsupported data type "
                               f"{onnx.TensorProto.DataType.Name(t.data_type)}")
    if any(d < 0 for d in t.dims):
        raise InvalidModelError(f"{where}: tensor '{t.name}' has negative dims {list(t.dims)}")
    try:
        dt = helper.tensor_dtype_to_np_dtype(t.data_type)
    except Exception:  # noqa: BLE001 - an unknown data type is reported by to_array below
        dt = None
    if dt is not None:
        check_tensor_bytes(f"{where}: tensor '{t.name}'", tuple(t.dims), dt, max_bytes)
    try:
        arr = numpy_helper.to_array(t)
    except Exception as e:
        raise InvalidModelError(f"{where}: tensor '{t.name}' cannot be read: {e}") from None
    if arr.dtype not in SUPPORTED_DTYPES:
        raise UnsupportedError(f"{where}: tensor '{t.name}' has dtype "
                               f"{onnx.TensorProto.DataType.Name(t.data_type)}, which fastconv does not support "
                               "(float32 compute; integer and bool tensors for shape ops)")
    return np.asarray(arr, order="C")


def elem_dtype(elem_type: int, where: str) -> np.dtype:
    try:
        dt = np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:
        dt = None
    if dt is None or dt not in SUPPORTED_DTYPES:
        name = onnx.TensorProto.DataType.Name(elem_type) if elem_type in onnx.TensorProto.DataType.values() \
            else str(elem_type)
        raise UnsupportedError(f"{where} has element type {name}, which fastconv does not support")
    return dt


def _value_spec(vi: onnx.ValueInfoProto, what: str) -> ValueSpec:
    tt = vi.type.tensor_type
    if not vi.type.HasField("tensor_type"):
        raise UnsupportedError(f"{what} '{vi.name}' is not a tensor (fastconv does not support sequence, "
                               "map and optional types)")
    shape = None
    if tt.HasField("shape"):
        # a negative dim_value (some exporters write -1) means unknown, like an unnamed dim_param
        shape = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else (d.dim_param or None)
                      for d in tt.shape.dim)
    return ValueSpec(vi.name, elem_dtype(tt.elem_type, f"{what} '{vi.name}'"), shape)


def _attr_value(attr: onnx.AttributeProto, where: str, max_bytes: int | None):
    if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        raise UnsupportedError(f"{where}: attribute '{attr.name}' holds a subgraph (control flow is not supported)")
    if attr.type == onnx.AttributeProto.TENSOR:
        return tensor_to_array(attr.t, where, max_bytes)
    if attr.type == onnx.AttributeProto.SPARSE_TENSOR:
        raise UnsupportedError(f"{where}: sparse tensor attribute '{attr.name}' is not supported")
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8", "replace") for v in value]
    return value


def _toposort(nodes: list[Node], available: set[str]) -> list[Node]:
    """Kahn's algorithm; rejects cycles and inputs nobody produces."""
    producer = {}
    for n in nodes:
        for o in n.outputs:
            if not o:
                continue
            if o in producer or o in available:
                raise InvalidModelError(f"{n.label()}: value '{o}' is produced more than once")
            producer[o] = n
    for n in nodes:
        for i in n.inputs:
            if i and i not in producer and i not in available:
                raise InvalidModelError(f"{n.label()}: input '{i}' is not produced by any node, initializer "
                                        "or graph input")
    order, done, pending = [], set(available), list(nodes)
    while pending:
        ready = [n for n in pending if all(not i or i in done for i in n.inputs)]
        if not ready:
            raise InvalidModelError(f"graph has a cycle through {pending[0].label()}")
        ready_ids = {id(n) for n in ready}
        pending = [n for n in pending if id(n) not in ready_ids]
        for n in ready:
            order.append(n)
            done.update(o for o in n.outputs if o)
    return order


def _check_text(values, what: str) -> None:
    """protobuf hands back bytes for string fields that are not valid UTF-8 (found by fuzzing)."""
    for v in values:
        if not isinstance(v, str):
            raise InvalidModelError(f"{what} {v!r} is not valid UTF-8")


def _check_schema(node: Node, attributes) -> None:
    """Input/output counts and attribute types against the op's ONNX schema, so that ops only ever parse the
    arity and attribute kinds they expect (unknown attributes are reported by the op)."""
    if node.domain not in DEFAULT_DOMAINS:
        return
    try:
        schema = onnx.defs.get_schema(node.op_type, node.opset, "")
    except Exception:  # noqa: BLE001 - no schema: check_all_supported has reported the op already
        return
    n_in, n_out = len(node.inputs), len(node.outputs)
    if not schema.min_input <= n_in <= schema.max_input:
        raise InvalidModelError(f"{node.label()}: has {n_in} input(s); {node.op_type}-{schema.since_version} "
                                f"takes {schema.min_input}-{schema.max_input}")
    if not schema.min_output <= n_out <= schema.max_output:
        raise InvalidModelError(f"{node.label()}: has {n_out} output(s); {node.op_type}-{schema.since_version} "
                                f"produces {schema.min_output}-{schema.max_output}")
    single = onnx.defs.OpSchema.FormalParameterOption.Single
    for k, formal in enumerate(schema.inputs):
        if formal.option == single and k < n_in and not node.inputs[k]:
            raise InvalidModelError(f"{node.label()}: required input {k} ({formal.name}) is empty")
    for attr in attributes:
        want = schema.attributes.get(attr.name)
        if want is not None and int(attr.type) != int(want.type):
            got = onnx.AttributeProto.AttributeType.Name(attr.type) \
                if attr.type in onnx.AttributeProto.AttributeType.values() else str(attr.type)
            raise InvalidModelError(f"{node.label()}: attribute '{attr.name}' has type {got}; "
                                    f"{node.op_type}-{schema.since_version} expects "
                                    f"{onnx.AttributeProto.AttributeType.Name(int(want.type))}")


def import_model(proto: onnx.ModelProto, max_tensor_bytes: int | None = None) -> Graph:
    """`max_tensor_bytes`: initializers and tensor attributes declaring more bytes are refused unread."""
    opset = None
    for imp in proto.opset_import:
        if imp.domain in DEFAULT_DOMAINS:
            opset = imp.version
    if opset is None:
        raise InvalidModelError("the model imports no default-domain opset (opset_import has no entry for "
                                "domain '' or 'ai.onnx')")
    if not registry.MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise UnsupportedError(f"model uses default-domain opset {opset}; fastconv supports opsets "
                               f"{registry.MIN_OPSET}-{registry.MAX_OPSET} (and newer ones for ops whose "
                               "schema did not change)")
    g = proto.graph
    _check_text([t.name for t in g.initializer] + [v.name for v in list(g.input) + list(g.output)], "value name")
    for k, n in enumerate(g.node):
        _check_text([n.op_type, n.domain, n.name], f"node {k}: name, op type or domain")
        _check_text(list(n.input) + list(n.output), f"node {k} ({n.op_type}): value name")
        _check_text([a.name for a in n.attribute], f"node {k} ({n.op_type}): attribute name")
    constants = {}
    for t in g.initializer:
        if not t.name:
            raise InvalidModelError("an initializer has no name")
        if t.name in constants:
            raise InvalidModelError(f"initializer '{t.name}' is defined twice")
        constants[t.name] = tensor_to_array(t, f"initializer '{t.name}'", max_tensor_bytes)
    inputs = [_value_spec(vi, "graph input") for vi in g.input if vi.name not in constants]
    outputs = [_value_spec(vi, "graph output") for vi in g.output]
    for what, values in (("input", inputs), ("output", outputs)):
        seen = set()
        for v in values:
            if v.name in seen:
                raise InvalidModelError(f"graph {what} '{v.name}' is declared twice")
            seen.add(v.name)

    nodes = []
    for k, np_ in enumerate(g.node):
        node = Node(np_.op_type, list(np_.input), list(np_.output), {}, np_.name or f"{np_.op_type}_{k}",
                    np_.domain, opset)
        if node.domain not in DEFAULT_DOMAINS:
            node.opset = next((i.version for i in proto.opset_import if i.domain == node.domain), 0)
        nodes.append(node)

    registry.check_all_supported(nodes)
    for node, np_ in zip(nodes, g.node):
        _check_schema(node, np_.attribute)
        node.attrs = {a.name: _attr_value(a, node.label(), max_tensor_bytes) for a in np_.attribute}
    nodes = _toposort(nodes, set(constants) | {v.name for v in inputs})

    def add_constant(value: np.ndarray, hint: str) -> str:
        name = hint
        k = 0
        while name in constants:
            k += 1
            name = f"{hint}_{k}"
        constants[name] = np.asarray(value, order="C")
        return name

    problems = []
    for node in nodes:
        entry = registry.lookup(node.domain, node.op_type, node.opset)
        try:
            entry.cls.upgrade(node, lambda v, what, node=node: add_constant(v, f"{node.name}::{what}"))
            node.op = entry.cls(node)
        except UnsupportedError as e:
            problems.append(str(e))
    if problems:
        raise UnsupportedError(f"{len(problems)} unsupported node(s):\n  " + "\n  ".join(problems))

    produced = {o for n in nodes for o in n.outputs if o} | set(constants) | {v.name for v in inputs}
    for v in outputs:
        if v.name not in produced:
            raise InvalidModelError(f"graph output '{v.name}' is not produced by any node")
    return Graph(nodes, inputs, outputs, constants, opset, g.name)
