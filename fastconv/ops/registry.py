"""The op registry: the single source of which ONNX ops fastconv supports.

Ops register by decorator, keyed by (domain, op_type) with the opset range they implement. The loader asks
the registry for every node and gathers all unsupported nodes into one error.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import onnx

from fastconv.errors import UnsupportedError

# Ops implement the semantics of their ONNX schema versions up to MAX_OPSET. A model importing a newer opset
# is accepted node by node when the op's schema did not change after MAX_OPSET (Relu in opset 25 is Relu-14).
MIN_OPSET, MAX_OPSET = 7, 22


@dataclass(frozen=True)
class OpEntry:
    cls: type
    since: int
    until: int


_REGISTRY: dict[tuple[str, str], OpEntry] = {}


def register_op(op_type: str, since: int = 1, until: int = MAX_OPSET, domain: str = ""):
    def deco(cls):
        key = (domain, op_type)
        if key in _REGISTRY:
            raise RuntimeError(f"op {op_type} registered twice")
        cls.op_type = op_type
        cls.domain = domain
        _REGISTRY[key] = OpEntry(cls, since, until)
        return cls

    return deco


def _signature(schema) -> tuple:
    attrs = tuple(sorted((a.name, int(a.type), a.default_value.SerializeToString())
                         for a in schema.attributes.values()))
    return (attrs, tuple((i.name, int(i.option)) for i in schema.inputs),
            tuple((o.name, int(o.option)) for o in schema.outputs))


@lru_cache(maxsize=None)
def schema_version(domain: str, op_type: str, opset: int) -> int | None:
    """The since_version of the schema in force for op_type at this opset (None if ONNX has no such op).

    Schema versions newer than MAX_OPSET whose attributes, inputs and outputs are identical to the previous
    version's (ONNX added element types only, e.g. Reshape-23/24/25) are mapped back to that version.
    """
    try:
        schema = onnx.defs.get_schema(op_type, opset, domain)
    except Exception:
        return None
    while schema.since_version > MAX_OPSET:
        try:
            prev = onnx.defs.get_schema(op_type, schema.since_version - 1, domain)
        except Exception:
            break
        if _signature(prev) != _signature(schema):
            break
        schema = prev
    return schema.since_version


def lookup(domain: str, op_type: str, opset: int) -> OpEntry | None:
    domain = "" if domain == "ai.onnx" else domain
    entry = _REGISTRY.get((domain, op_type))
    if entry is None:
        return None
    version = schema_version(domain, op_type, opset) if domain == "" else opset
    if version is None or not entry.since <= version <= entry.until:
        return None
    return entry


def supported_ops() -> list[str]:
    return sorted(op for (_dom, op) in _REGISTRY)


def unsupported_reason(domain: str, op_type: str, opset: int) -> str:
    entry = _REGISTRY.get(("" if domain == "ai.onnx" else domain, op_type))
    if entry is None:
        dom = f" in domain '{domain}'" if domain not in ("", "ai.onnx") else ""
        return f"op {op_type}{dom} is not supported"
    version = schema_version("" if domain == "ai.onnx" else domain, op_type, opset)
    return (f"op {op_type} is supported for schema versions {entry.since}-{entry.until}; opset {opset} "
            f"uses {op_type}-{version}")


def check_all_supported(nodes) -> None:
    problems = [f"{n.label()}: {unsupported_reason(n.domain, n.op_type, n.opset)}"
                for n in nodes if lookup(n.domain, n.op_type, n.opset) is None]
    if problems:
        raise UnsupportedError(f"{len(problems)} unsupported node(s):\n  " + "\n  ".join(problems))
