"""Reductions: ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp.

Newest form only: `axes` is an optional int64 input (ReduceSum since 13, the others since 18); older nodes have
their `axes` attribute turned into that input at import. No axes reduces everything unless
noop_with_empty_axes=1, which reduces nothing: only the elementwise part applies (ReduceL1 gives |x|,
ReduceSumSquare x^2, ReduceLogSum log x), as in onnxruntime and onnx's reference. Reducing an empty set gives
the operation's identity (0 for sums, 1 for products, -inf / +inf or the integer limits for Max / Min).
Output dtype = input dtype.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.ops.base import Op
from fastconv.ops.elementwise import check_kind
from fastconv.ops.registry import register_op, schema_version


class Reduce(Op):
    attributes = frozenset({"axes", "keepdims", "noop_with_empty_axes"})
    axes_input_since: ClassVar[int] = 18
    kinds: ClassVar[str] = "fiu"

    @classmethod
    def upgrade(cls, node, add_constant):
        if schema_version("", node.op_type, node.opset) < cls.axes_input_since and "axes" in node.attrs:
            axes = node.attrs.pop("axes")
            node.inputs = node.inputs[:1] + [add_constant(np.array(axes, np.int64).reshape(-1), "axes")]

    def parse(self, attrs):
        if "axes" in attrs:
            self.fail(f"'axes' is an input, not an attribute, since {self.op_type}-{self.axes_input_since}")
        self.keepdims = bool(attrs.get("keepdims", 1))
        self.noop = bool(attrs.get("noop_with_empty_axes", 0))

    def resolve_axes(self, axes, rank: int) -> tuple:
        """The sorted reduced axes; () when there are none and noop_with_empty_axes is set."""
        if axes is None or np.size(axes) == 0:
            return () if self.noop else tuple(range(rank))
        if np.asarray(axes).dtype.kind not in "iu":
            self.fail(f"axes must be integers; got {np.asarray(axes).dtype}")
        out = sorted(self.axis(int(a), max(rank, 1), "axes entry") for a in np.asarray(axes).reshape(-1))
        if len(set(out)) != len(out):
            self.fail(f"axes {np.asarray(axes).tolist()} repeat an axis")
        return tuple(out)

    def out_shape(self, shape, axes) -> tuple:
        if self.keepdims:
            return tuple(1 if k in axes else d for k, d in enumerate(shape))
        return tuple(d for k, d in enumerate(shape) if k not in axes)

    def infer(self, inputs):
        x = inputs[0]
        check_kind(self, x, self.kinds)
        axes = self.const_input(inputs[1] if len(inputs) > 1 else None, "axes")
        return [TensorInfo(x.dtype, self.out_shape(x.shape, self.resolve_axes(axes, len(x.shape))))]

    def run(self, x, axes=None):
        axes = self.resolve_axes(axes, x.ndim)
        with np.errstate(all="ignore"):
            y = np.asarray(self.reduce(x, axes)).astype(x.dtype, copy=False)
        return (y.reshape(self.out_shape(x.shape, axes)),)

    def lower(self, inputs, outputs, ctx):
        axes = self.resolve_axes(self.const_input(inputs[1] if len(inputs) > 1 else None, "axes"),
                                 len(inputs[0].shape))
        reduce, shape = self.reduce, outputs[0].shape

        def run(x, *_):
            with np.errstate(all="ignore"):
                return (np.asarray(reduce(x, axes)).astype(x.dtype, copy=False).reshape(shape),)

        return run

    def reduce(self, x, axes):
        """The reduction with keepdims=True."""
        raise NotImplementedError


def _lowest(dtype):
    return False if dtype.kind == "b" else (-np.inf if dtype.kind == "f" else np.iinfo(dtype).min)


def _highest(dtype):
    return True if dtype.kind == "b" else (np.inf if dtype.kind == "f" else np.iinfo(dtype).max)


@register_op("ReduceSum")
class ReduceSum(Reduce):
    axes_input_since = 13

    def reduce(self, x, axes):
        return np.sum(x, axis=axes, dtype=x.dtype, keepdims=True)


@register_op("ReduceMean")
class ReduceMean(Reduce):
    def reduce(self, x, axes):
        return np.mean(x, axis=axes, keepdims=True)


@register_op("ReduceMax")
class ReduceMax(Reduce):
    kinds = "fiub"

    def reduce(self, x, axes):
        return np.max(x, axis=axes, keepdims=True, initial=_lowest(x.dtype))


@register_op("ReduceMin")
class ReduceMin(Reduce):
    kinds = "fiub"

    def reduce(self, x, axes):
        return np.min(x, axis=axes, keepdims=True, initial=_highest(x.dtype))


@register_op("ReduceProd")
class ReduceProd(Reduce):
    def reduce(self, x, axes):
        return np.prod(x, axis=axes, dtype=x.dtype, keepdims=True)


@register_op("ReduceL1")
class ReduceL1(Reduce):
    def reduce(self, x, axes):
        return np.sum(np.abs(x), axis=axes, dtype=x.dtype, keepdims=True)


@register_op("ReduceL2")
class ReduceL2(Reduce):
    def reduce(self, x, axes):
        return np.sqrt(np.sum(np.square(x), axis=axes, dtype=x.dtype, keepdims=True))


@register_op("ReduceSumSquare")
class ReduceSumSquare(Reduce):
    def reduce(self, x, axes):
        return np.sum(np.square(x), axis=axes, dtype=x.dtype, keepdims=True)


@register_op("ReduceLogSum")
class ReduceLogSum(Reduce):
    def reduce(self, x, axes):
        return np.log(np.sum(x, axis=axes, dtype=x.dtype, keepdims=True))


@register_op("ReduceLogSumExp")
class ReduceLogSumExp(Reduce):
    def reduce(self, x, axes):
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf).astype(x.dtype)
        m[~np.isfinite(m)] = 0
        return np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
