"""The graph IR: a topologically ordered list of nodes over named values.

Values are referred to by name. Constants (initializers, folded values) live in `Graph.constants`.
A node keeps its ONNX attributes as plain Python values and, once parsed, its `Op` instance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TensorInfo:
    """What is known of one value: dtype, shape (ints, or str/None for symbolic dims) and, if constant, its data."""

    dtype: np.dtype
    shape: tuple | None
    value: np.ndarray | None = None
    # Set for values the layout pass (fastconv/plan/layout.py) stores blocked: `shape` is then the physical
    # NCHWc shape (N, ceil(C/c), H, W, c) and `channels` the logical C.
    channels: int | None = None

    @property
    def blocked(self) -> bool:
        return self.channels is not None

    @property
    def logical_shape(self) -> tuple | None:
        """The ONNX (N, C, H, W) shape of a blocked value; `shape` otherwise."""
        if self.channels is None:
            return self.shape
        return (self.shape[0], self.channels, *self.shape[2:-1])

    @property
    def is_static(self) -> bool:
        return self.shape is not None and all(isinstance(d, int) for d in self.shape)


@dataclass
class Node:
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    domain: str = ""
    opset: int = 0
    op: Any = None  # the parsed fastconv.ops.base.Op
    fused_from: list | None = None  # plan-time fused nodes: the graph nodes this one replaces, in order

    def label(self) -> str:
        """How errors name this node."""
        return f"node '{self.name or self.outputs[0]}' ({self.op_type})"


@dataclass
class ValueSpec:
    """A graph input or output as declared by the model."""

    name: str
    dtype: np.dtype
    shape: tuple  # ints, str for named symbolic dims, None for unknown dims


@dataclass
class Graph:
    nodes: list[Node]
    inputs: list[ValueSpec]
    outputs: list[ValueSpec]
    constants: dict[str, np.ndarray]
    opset: int
    name: str = ""

    def producers(self) -> dict[str, Node]:
        return {o: n for n in self.nodes for o in n.outputs if o}

    def consumers(self) -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                if i:
                    out.setdefault(i, []).append(n)
        return out
