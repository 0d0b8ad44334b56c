"""Normalization and softmax ops: BatchNormalization (inference), InstanceNormalization, LRN,
LpNormalization, Softmax, LogSoftmax."""
from __future__ import annotations

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.ops.base import Op, contiguous, same_as_input
from fastconv.ops.registry import register_op


def _channel_shape(x: np.ndarray) -> tuple:
    return (1, -1) + (1,) * (x.ndim - 2)


@register_op("BatchNormalization")
class BatchNormalization(Op):
    """Inference form: y = (x - mean) / sqrt(var + eps) * scale + B over axis 1. Scale and shift are folded
    into one multiply-add at plan time when the statistics are constant."""

    attributes = frozenset({"epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"})

    def parse(self, attrs):
        self.epsilon = float(attrs.get("epsilon", 1e-5))
        if int(attrs.get("training_mode", 0)):
            self.unsupported("training_mode=1 is not supported (inference only)")
        if int(attrs.get("spatial", 1)) != 1:
            self.unsupported("spatial=0 is not supported")
        if self.num_outputs > 1 and any(self.node.outputs[1:]):
            self.unsupported("running mean/var outputs (training) are not supported")

    def infer(self, inputs):
        x = inputs[0]
        self.require_float32(*inputs[:5], names=("X", "scale", "B", "mean", "var"))
        if len(x.shape) < 2:
            self.fail(f"X must have rank >= 2, got {list(x.shape)}")
        c = x.shape[1]
        for name, info in zip(("scale", "B", "mean", "var"), inputs[1:5]):
            if tuple(info.shape) != (c,):
                self.fail(f"{name} has shape {list(info.shape)}; expected [{c}]")
        return same_as_input(inputs)

    def affine(self, scale, b, mean, var):
        a = (scale / np.sqrt(var + np.float32(self.epsilon))).astype(np.float32)
        return a, (b - mean * a).astype(np.float32)

    def lower(self, inputs, outputs, ctx):
        if all(i.value is not None for i in inputs[1:5]):
            a, s = self.affine(*[i.value for i in inputs[1:5]])
            shape = (1, -1) + (1,) * (len(inputs[0].shape) - 2)
            a, s = a.reshape(shape), s.reshape(shape)

            def run(x, *_):
                y = x * a
                y += s
                return (y,)

            return run
        return self.run

    def run(self, x, scale, b, mean, var):
        a, s = self.affine(scale, b, mean, var)
        shape = _channel_shape(x)
        return (contiguous(x * a.reshape(shape) + s.reshape(shape), np.float32),)


@register_op("InstanceNormalization")
class InstanceNormalization(Op):
    attributes = frozenset({"epsilon"})

    def parse(self, attrs):
        self.epsilon = float(attrs.get("epsilon", 1e-5))

    def infer(self, inputs):
        self.require_float32(*inputs, names=("input", "scale", "B"))
        x = inputs[0]
        if len(x.shape) < 3:
            self.fail(f"input must have rank >= 3, got {list(x.shape)}")
        return same_as_input(inputs)

    def run(self, x, scale, b):
        axes = tuple(range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True, dtype=np.float64)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        shape = _channel_shape(x)
        y = (x - mean) / np.sqrt(var + self.epsilon) * scale.reshape(shape) + b.reshape(shape)
        return (contiguous(y, np.float32),)


@register_op("LRN")
class LRN(Op):
    """Across-channel local response normalization."""

    attributes = frozenset({"alpha", "beta", "bias", "size"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1e-4))
        self.beta = float(attrs.get("beta", 0.75))
        self.bias = float(attrs.get("bias", 1.0))
        if "size" not in attrs or int(attrs["size"]) < 1:
            self.fail("attribute size (>= 1) is required")
        self.size = int(attrs["size"])

    def infer(self, inputs):
        self.require_float32(inputs[0])
        return same_as_input(inputs)

    def run(self, x):
        c = x.shape[1]
        sq = (x.astype(np.float32) ** 2)
        # window [c - floor((size-1)/2), c + ceil((size-1)/2)] via a cumulative sum over channels
        lo, hi = (self.size - 1) // 2, -(-(self.size - 1) // 2)
        cs = np.concatenate([np.zeros_like(sq[:, :1]), np.cumsum(sq, axis=1, dtype=np.float64)], axis=1)
        idx = np.arange(c)
        top = np.minimum(idx + hi, c - 1) + 1
        bot = np.maximum(idx - lo, 0)
        s = cs[:, top] - cs[:, bot]
        y = x / (self.bias + self.alpha / self.size * s) ** self.beta
        return (contiguous(y, np.float32),)


@register_op("LpNormalization")
class LpNormalization(Op):
    attributes = frozenset({"axis", "p"})

    def parse(self, attrs):
        self.axis_attr = int(attrs.get("axis", -1))
        self.p = int(attrs.get("p", 2))
        if self.p not in (1, 2):
            self.fail(f"p must be 1 or 2, got {self.p}")

    def infer(self, inputs):
        self.require_float32(inputs[0])
        self.axis(self.axis_attr, len(inputs[0].shape))
        return same_as_input(inputs)

    def run(self, x):
        norm = np.abs(x).sum(self.axis_attr, keepdims=True) if self.p == 1 else \
            np.sqrt((x * x).sum(self.axis_attr, keepdims=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(norm == 0, 0, x / norm)
        return (contiguous(y, x.dtype),)


class _SoftmaxBase(Op):
    """Softmax-13+: along one axis (default -1). Softmax-1/11: the input is flattened to 2-D at `axis`
    (default 1) and normalised over the second dimension."""

    attributes = frozenset({"axis"})

    def parse(self, attrs):
        self.legacy = self.opset < 13
        self.axis_attr = int(attrs.get("axis", 1 if self.legacy else -1))

    def infer(self, inputs):
        x = inputs[0]
        if x.dtype.kind != "f":
            self.unsupported(f"input dtype {x.dtype} is not supported")
        rank = len(x.shape)
        self.axis(self.axis_attr, max(rank, 1) if not self.legacy else rank + (rank == 0))
        return same_as_input(inputs)

    def run(self, x):
        if self.legacy:
            a = self.axis_attr % x.ndim if x.ndim else 0
            lead = int(np.prod(x.shape[:a], dtype=np.int64))
            flat = x.reshape(lead, -1)
            return (contiguous(self.normalize(flat, 1).reshape(x.shape), x.dtype),)
        return (contiguous(self.normalize(x, self.axis_attr), x.dtype),)


@register_op("Softmax")
class Softmax(_SoftmaxBase):
    def normalize(self, x, axis):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


@register_op("LogSoftmax")
class LogSoftmax(_SoftmaxBase):
    def normalize(self, x, axis):
        z = x - x.max(axis=axis, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
