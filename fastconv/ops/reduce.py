"""Reductions. The axes attribute of older opsets (ReduceSum < 13, the others < 18) becomes an input."""
from __future__ import annotations

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.ops.base import I64, Op, contiguous
from fastconv.ops.registry import register_op


class _Reduce(Op):
    attributes = frozenset({"axes", "keepdims", "noop_with_empty_axes"})
    axes_input_since = 18

    @classmethod
    def upgrade(cls, node, add_constant):
        if node.opset < cls.axes_input_since and "axes" in node.attrs:
            axes = node.attrs.pop("axes")
            node.inputs = [node.inputs[0], add_constant(np.array(axes, np.int64), "axes")]

    def parse(self, attrs):
        self.keepdims = bool(attrs.get("keepdims", 1))
        self.noop = bool(attrs.get("noop_with_empty_axes", 0))

    def resolve_axes(self, rank, axes):
        if axes is None or axes.size == 0:
            return None if self.noop else tuple(range(rank))
        out = tuple(sorted({self.axis(int(a), max(rank, 1)) for a in axes.reshape(-1)}))
        return out

    def infer(self, inputs):
        x = inputs[0]
        if x.dtype.kind not in "fiu":
            self.unsupported(f"input dtype {x.dtype} is not supported")
        axes_info = inputs[1] if len(inputs) > 1 else None
        axes = self.const_input(axes_info, "axes")
        self._axes = self.resolve_axes(len(x.shape), axes)
        if self._axes is None:
            return [TensorInfo(self.out_dtype(x.dtype), tuple(x.shape))]
        shape = [1 if k in self._axes else d for k, d in enumerate(x.shape)] if self.keepdims else \
            [d for k, d in enumerate(x.shape) if k not in self._axes]
        return [TensorInfo(self.out_dtype(x.dtype), tuple(shape))]

    def out_dtype(self, dtype):
        return dtype

    def run(self, x, axes=None):
        ax = self.resolve_axes(x.ndim, axes)
        if ax is None:
            return (contiguous(self.post(x.copy()), x.dtype),)
        return (contiguous(self.reduce(x, ax), self.out_dtype(x.dtype)),)

    def post(self, x):
        return x


def _reduce_op(name, fn, since=18, post=None):
    body = {"reduce": lambda self, x, ax: fn(x, ax, self.keepdims), "axes_input_since": since}
    if post is not None:
        body["post"] = lambda self, x: post(x)
    return register_op(name)(type(name, (_Reduce,), body))


_reduce_op("ReduceSum", lambda x, ax, k: np.sum(x, axis=ax, keepdims=k, dtype=x.dtype), since=13)
_reduce_op("ReduceMean", lambda x, ax, k: np.mean(x, axis=ax, keepdims=k, dtype=np.float64 if x.dtype.kind != "f"
                                                  else x.dtype))
_reduce_op("ReduceMax", lambda x, ax, k: np.max(x, axis=ax, keepdims=k) if x.size else
           np.full(_kept(x.shape, ax, k), -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min, x.dtype))
_reduce_op("ReduceMin", lambda x, ax, k: np.min(x, axis=ax, keepdims=k) if x.size else
           np.full(_kept(x.shape, ax, k), np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max, x.dtype))
_reduce_op("ReduceProd", lambda x, ax, k: np.prod(x, axis=ax, keepdims=k, dtype=x.dtype))
_reduce_op("ReduceSumSquare", lambda x, ax, k: np.sum(x * x, axis=ax, keepdims=k, dtype=x.dtype),
           post=lambda x: x * x)
_reduce_op("ReduceL1", lambda x, ax, k: np.sum(np.abs(x), axis=ax, keepdims=k, dtype=x.dtype), post=np.abs)
_reduce_op("ReduceL2", lambda x, ax, k: np.sqrt(np.sum(x.astype(np.float64) ** 2, axis=ax, keepdims=k)),
           post=np.abs)
_reduce_op("ReduceLogSumExp", lambda x, ax, k: _logsumexp(x, ax, k))
_reduce_op("ReduceLogSum", lambda x, ax, k: np.log(np.sum(x, axis=ax, keepdims=k)))


def _kept(shape, ax, keep):
    return tuple(1 if i in ax else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in ax)


def _logsumexp(x, ax, keep):
    x64 = x.astype(np.float64)
    m = np.max(x64, axis=ax, keepdims=True) if x.size else np.zeros(_kept(x.shape, ax, True))
    m = np.where(np.isfinite(m), m, 0)
    y = np.log(np.sum(np.exp(x64 - m), axis=ax, keepdims=True)) + m
    return y if keep else y.reshape(_kept(x.shape, ax, False))


class _ArgReduce(Op):
    attributes = frozenset({"axis", "keepdims", "select_last_index"})

    def parse(self, attrs):
        self.axis_attr = int(attrs.get("axis", 0))
        self.keepdims = bool(attrs.get("keepdims", 1))
        self.last = bool(attrs.get("select_last_index", 0))

    def infer(self, inputs):
        x = inputs[0]
        a = self.axis(self.axis_attr, len(x.shape))
        shape = [1 if k == a else d for k, d in enumerate(x.shape)] if self.keepdims else \
            [d for k, d in enumerate(x.shape) if k != a]
        return [TensorInfo(I64, tuple(shape))]

    def run(self, x):
        a = self.axis_attr % x.ndim
        if self.last:
            y = x.shape[a] - 1 - self.fn(np.flip(x, a), axis=a)
        else:
            y = self.fn(x, axis=a)
        if self.keepdims:
            y = np.expand_dims(y, a)
        return (contiguous(y, np.int64),)


@register_op("ArgMax")
class ArgMax(_ArgReduce):
    fn = staticmethod(np.argmax)


@register_op("ArgMin")
class ArgMin(_ArgReduce):
    fn = staticmethod(np.argmin)
