"""The contract every op implements.

An `Op` is built once per node at load time: its constructor parses and validates the attributes (raising
`UnsupportedError` / `InvalidModelError` that name the node). At plan time, when every input shape is concrete,
`infer` gives the output dtypes and shapes (and may read constant inputs), and `lower` returns the callable
the executor runs. `run` is the op's general semantics over numpy arrays; it is also what constant folding
calls. Kernels are chosen in `lower`, never per run.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar

import numpy as np

from fastconv.errors import InvalidModelError, UnsupportedError
from fastconv.graph.ir import Node, TensorInfo

F32 = np.dtype(np.float32)
I64 = np.dtype(np.int64)
BOOL = np.dtype(np.bool_)
# dtypes that may flow through glue/shape ops; float16 and quantized types are refused at load time.
SUPPORTED_DTYPES = frozenset(np.dtype(t) for t in (
    np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
    np.uint64, np.bool_))


class ValueRequired(UnsupportedError):
    """An op needs the value of a non-constant input to know its output shape. The planner turns this into a
    request to key the plan on the values of the (small) graph inputs that input is computed from."""

    def __init__(self, msg: str, info: TensorInfo):
        super().__init__(msg)
        self.info = info


class Op:
    op_type: ClassVar[str] = ""
    domain: ClassVar[str] = ""
    # Attributes the op understands; any other attribute on the node is an error at load time.
    attributes: ClassVar[frozenset] = frozenset()

    def __init__(self, node: Node):
        self.node = node
        self.opset = node.opset
        unknown = set(node.attrs) - set(self.attributes)
        if unknown:
            self.unsupported(f"unknown attribute(s) {sorted(unknown)}")
        self.parse(node.attrs)

    # -- hooks -------------------------------------------------------------------------------------
    @classmethod
    def upgrade(cls, node: Node, add_constant: Callable[[np.ndarray, str], str]) -> None:
        """Rewrite an older opset's attribute form into the newest input form, in place (at import)."""

    def parse(self, attrs: dict[str, Any]) -> None:
        """Read and validate attributes; store what `infer`/`run` need on self."""

    def infer(self, inputs: list[TensorInfo | None]) -> list[TensorInfo]:
        raise NotImplementedError

    def run(self, *arrays):
        raise NotImplementedError

    def lower(self, inputs: list[TensorInfo | None], outputs: list[TensorInfo], ctx) -> Callable:
        """Return the callable the executor runs for this node (arrays in, tuple of arrays out)."""
        return self.run

    # Nodes whose inputs are all constant are evaluated once at plan time unless this is False.
    foldable: ClassVar[bool] = True

    # Block width c when the layout pass (fastconv/plan/layout.py) runs this node on NCHWc buffers (its data
    # input and output blocked, shape (N, ceil(C/c), H, W, c)); 0: NCHW. Set on plan-time copies only.
    layout: int = 0

    def blockable(self, inputs: list[TensorInfo | None], ctx) -> bool:
        """Whether `lower` can build a blocked runner for these (NCHW) input infos: pools and ChannelAffine."""
        return False

    # -- helpers -----------------------------------------------------------------------------------
    def fail(self, msg: str):
        raise InvalidModelError(f"{self.node.label()}: {msg}")

    def unsupported(self, msg: str):
        raise UnsupportedError(f"{self.node.label()}: {msg}")

    def require_float32(self, *infos: TensorInfo | None, names=("input",)):
        for k, info in enumerate(infos):
            if info is not None and info.dtype != F32:
                name = names[k] if k < len(names) else f"input {k}"
                self.unsupported(f"{name} has dtype {info.dtype}; only float32 is supported for this op")

    def const_input(self, info: TensorInfo | None, what: str, default=None) -> np.ndarray | None:
        """The value of an input that must be known at plan time (shape tensors, axes, pads...)."""
        if info is None:
            return default
        if info.value is None:
            raise ValueRequired(f"{self.node.label()}: {what} must be a constant or computable from input "
                                "shapes at plan time", info)
        return info.value

    def axis(self, axis: int, rank: int, what: str = "axis") -> int:
        if not -rank <= axis < rank:
            self.fail(f"{what} {axis} is out of range for rank {rank}")
        return axis % rank

    @property
    def num_outputs(self) -> int:
        return len(self.node.outputs)

    def has_output(self, k: int) -> bool:
        return len(self.node.outputs) > k and bool(self.node.outputs[k])


def int_tuple(attrs: dict, name: str, default=None):
    """An ints attribute as a tuple of Python ints (or `default` when absent)."""
    v = attrs.get(name)
    return default if v is None else tuple(int(x) for x in v)


def contiguous(x: np.ndarray, dtype=None) -> np.ndarray:
    """C-contiguous array, keeping 0-d arrays 0-d (np.ascontiguousarray would make them 1-d)."""
    return np.asarray(x, dtype=dtype, order="C")


def same_as_input(inputs: list[TensorInfo | None], k: int = 0) -> list[TensorInfo]:
    return [TensorInfo(inputs[k].dtype, inputs[k].shape)]
