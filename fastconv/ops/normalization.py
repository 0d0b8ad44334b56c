"""Normalization ops (inference): BatchNormalization, InstanceNormalization, LRN, LpNormalization, and
Softmax / LogSoftmax. All keep the input's float dtype; constants are converted to it before use."""
from __future__ import annotations

import math

import numpy as np
from numba import get_num_threads

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.buffers import accepts_out, output
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.epilogue import (
    Epilogue,
    channel_affine_f32,
    channel_affine_nchwc_f32,
    channel_affine_prelu_f32,
    channel_affine_prelu_nchwc_f32,
)
from fastconv.kernels.numba.simd import width_token
from fastconv.kernels.numba.softmax import softmax_f32, softmax_par_f32, softmax_tasks
from fastconv.ops.base import Op, same_as_input
from fastconv.ops.elementwise import FLOAT, check_kind
from fastconv.ops.registry import register_op, schema_version


def _channel_view(v: np.ndarray, rank: int) -> np.ndarray:
    """A per-channel vector (C,) shaped (C, 1, ..., 1) to broadcast against (N, C, D1, ..., Dk)."""
    return v.reshape((-1,) + (1,) * (rank - 2))


def _check_channel_params(op: Op, x: TensorInfo, params, names) -> None:
    check_kind(op, x, FLOAT)
    if len(x.shape) < 2:
        op.fail(f"input must have rank >= 2 (N, C, ...); got shape {list(x.shape)}")
    c = x.shape[1]
    for name, p in zip(names, params):
        if p is None:
            op.fail(f"input '{name}' is required")
        check_kind(op, p, FLOAT, name)
        if tuple(p.shape) != (c,):
            op.fail(f"{name} has shape {list(p.shape)}; expected [{c}] for input shape {list(x.shape)}")


@register_op("BatchNormalization")
class BatchNormalization(Op):
    """Inference form: y = (x - mean) / sqrt(var + epsilon) * scale + B, per channel (axis 1).

    Training mode (training_mode=1, or the statistics outputs that imply it) is refused. With constant
    parameters the affine pair (a, b), y = x * a + b, is computed once when the step is lowered."""

    attributes = frozenset({"epsilon", "momentum", "spatial", "training_mode"})
    NAMES = ("scale", "B", "input_mean", "input_var")

    def parse(self, attrs):
        self.epsilon = float(attrs.get("epsilon", 1e-5))
        if attrs.get("spatial", 1) != 1:
            self.unsupported("spatial=0 (per-activation statistics) is not supported")
        if attrs.get("training_mode", 0):
            self.unsupported("training_mode=1 is not supported (inference only)")
        if sum(1 for o in self.node.outputs[1:] if o):
            self.unsupported("the running/saved statistics outputs exist only in training mode, which is not "
                             "supported (inference only)")

    def infer(self, inputs):
        if len(inputs) != 5:
            self.fail(f"needs 5 inputs (X, scale, B, input_mean, input_var); got {len(inputs)}")
        _check_channel_params(self, inputs[0], inputs[1:], self.NAMES)
        return same_as_input(inputs)

    def affine(self, scale, bias, mean, var, dtype, rank):
        a = scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + self.epsilon)
        b = bias.astype(np.float64) - mean.astype(np.float64) * a
        return _channel_view(a.astype(dtype), rank), _channel_view(b.astype(dtype), rank)

    @staticmethod
    def apply(x, a, b):
        y = x * a
        y += b
        return y

    def run(self, x, scale, bias, mean, var):
        with np.errstate(all="ignore"):
            return (self.apply(x, *self.affine(scale, bias, mean, var, x.dtype, x.ndim)),)

    def lower(self, inputs, outputs, ctx):
        params = [i.value for i in inputs[1:]]
        if any(p is None for p in params):
            return self.run
        with np.errstate(all="ignore"):
            a, b = self.affine(*params, inputs[0].dtype, len(inputs[0].shape))
        apply = self.apply
        return lambda x, *_: (apply(x, a, b),)


class ChannelAffine(Op):
    """Plan-time op (never in an ONNX file): y = act(x * scale[c] + shift[c]) along axis 1, float32, one pass.
    fastconv/plan/fusion.py builds it from chains of BatchNormalization and Mul / Add / Sub / Div by
    per-channel constants (and a following activation) that do not follow a convolution: DenseNet's
    BN -> Mul -> Add -> Relu before each conv is four numpy passes with temporaries otherwise. With `slope`
    (C,), the activation is PRelu with that per-channel slope (a conv's epilogue takes only one)."""

    op_type = "ChannelAffine"
    domain = "ai.fastconv"
    attributes = frozenset({"scale", "shift", "epilogue", "slope"})
    PARALLEL_FLOATS = 100_000   # below: one thread (a parallel region costs more than the pass)

    def parse(self, attrs):
        self.scale = np.asarray(attrs["scale"], np.float32)
        self.shift = np.asarray(attrs["shift"], np.float32)
        self.epilogue = attrs.get("epilogue") or Epilogue()
        # PRelu with a per-channel slope (C,) applied after the affine instead of the epilogue's activation
        self.slope = None if attrs.get("slope") is None else np.asarray(attrs["slope"], np.float32)

    def infer(self, inputs):
        return same_as_input(inputs)

    def _runner(self, shape):
        n, c = shape[0], shape[1]
        size = int(np.prod(shape[2:], dtype=np.int64))
        kind, alpha, beta = self.epilogue.args
        a, b = self.scale, self.shift
        parallel = n * c * size >= self.PARALLEL_FLOATS
        if self.slope is not None:
            return self._prelu_runner(shape, n, c, size, parallel)
        kernel = bound(channel_affine_f32)

        @accepts_out
        def run(x, out=None):
            y = output(out, shape)
            chunks = max(1, min(get_num_threads(), n * c)) if parallel else 1
            kernel(np.ascontiguousarray(x, np.float32).reshape(n, c, size), a, b, kind, alpha, beta,
                   y.reshape(n, c, size), chunks)
            return (y,)

        return run

    def _prelu_runner(self, shape, n, c, size, parallel):
        a, b, slope = self.scale, self.shift, self.slope
        kernel = bound(channel_affine_prelu_f32)

        @accepts_out
        def run(x, out=None):
            y = output(out, shape)
            chunks = max(1, min(get_num_threads(), n * c)) if parallel else 1
            kernel(np.ascontiguousarray(x, np.float32).reshape(n, c, size), a, b, slope, y.reshape(n, c, size),
                   chunks)
            return (y,)

        return run

    def _blocked_runner(self, shape, width):
        """On NCHWc buffers (N, Cb, H, W, c) (fastconv/plan/layout.py); padding lanes get scale 0, shift 0 (and
        slope 0)."""
        n, cb = shape[0], shape[1]
        size = int(np.prod(shape[2:-1], dtype=np.int64))
        a = np.zeros(cb * width, np.float32)
        b = np.zeros(cb * width, np.float32)
        a[:self.scale.size] = self.scale
        b[:self.shift.size] = self.shift
        kind, alpha, beta = self.epilogue.args
        parallel = n * cb * size * width >= self.PARALLEL_FLOATS
        tok = width_token(width)
        if self.slope is not None:
            slope = np.zeros(cb * width, np.float32)
            slope[:self.slope.size] = self.slope
            prelu = bound(channel_affine_prelu_nchwc_f32)

            @accepts_out
            def run_prelu(x, out=None):
                y = output(out, shape)
                chunks = max(1, min(get_num_threads(), n * cb)) if parallel else 1
                prelu(x.reshape(n, cb, size, width), a, b, slope, y.reshape(n, cb, size, width), chunks, tok)
                return (y,)

            return run_prelu
        kernel = bound(channel_affine_nchwc_f32)

        @accepts_out
        def run(x, out=None):
            y = output(out, shape)
            chunks = max(1, min(get_num_threads(), n * cb)) if parallel else 1
            kernel(x.reshape(n, cb, size, width), a, b, kind, alpha, beta, y.reshape(n, cb, size, width), chunks,
                   tok)
            return (y,)

        return run

    def blockable(self, inputs, ctx):
        return len(inputs[0].shape) == 4

    def run(self, x):
        return self._runner(tuple(x.shape))(x)

    def lower(self, inputs, outputs, ctx):
        if self.layout:
            return self._blocked_runner(tuple(inputs[0].shape), self.layout)
        return self._runner(tuple(inputs[0].shape))


@register_op("InstanceNormalization")
class InstanceNormalization(Op):
    """y = (x - mean) / sqrt(var + epsilon) * scale + B, statistics per (n, c) over the spatial axes."""

    attributes = frozenset({"epsilon"})

    def parse(self, attrs):
        self.epsilon = float(attrs.get("epsilon", 1e-5))

    def infer(self, inputs):
        _check_channel_params(self, inputs[0], inputs[1:3], ("scale", "B"))
        return same_as_input(inputs)

    def run(self, x, scale, bias):
        n, c = x.shape[:2]
        t = x.dtype.type
        # (N, C, S) with S contiguous: numpy's pairwise summation keeps float32 statistics accurate
        x3 = np.ascontiguousarray(x).reshape(n, c, -1)
        d = x3 - x3.mean(axis=2, keepdims=True)
        var = np.square(d).mean(axis=2, keepdims=True)
        a = scale.astype(x.dtype).reshape(1, c, 1) / np.sqrt(var + t(self.epsilon))
        d *= a
        d += bias.astype(x.dtype).reshape(1, c, 1)
        return (d.reshape(x.shape),)


@register_op("LRN")
class LRN(Op):
    """Local response normalization across channels:
    y = x / (bias + alpha / size * sum of x^2 over the channel window) ** beta."""

    attributes = frozenset({"alpha", "beta", "bias", "size"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1e-4))
        self.beta = float(attrs.get("beta", 0.75))
        self.bias = float(attrs.get("bias", 1.0))
        if "size" not in attrs:
            self.fail("attribute 'size' is required")
        self.size = int(attrs["size"])
        if self.size < 1:
            self.fail(f"size must be >= 1; got {self.size}")

    def infer(self, inputs):
        check_kind(self, inputs[0], FLOAT)
        if len(inputs[0].shape) < 2:
            self.fail(f"input must have rank >= 2; got shape {list(inputs[0].shape)}")
        return same_as_input(inputs)

    def run(self, x):
        t = x.dtype.type
        c = x.shape[1]
        before = (self.size - 1) // 2
        sq = np.square(x)
        padded = np.zeros((x.shape[0], c + self.size - 1) + x.shape[2:], x.dtype)
        padded[:, before:before + c] = sq
        acc = padded[:, 0:c].copy()
        for k in range(1, self.size):
            acc += padded[:, k:k + c]
        acc *= t(self.alpha / self.size)
        acc += t(self.bias)
        np.power(acc, t(self.beta), out=acc)
        return (np.divide(x, acc, out=acc),)


@register_op("LpNormalization")
class LpNormalization(Op):
    """y = x / ||x||_p along one axis (p = 1 or 2); an all-zero vector stays zero."""

    attributes = frozenset({"axis", "p"})

    def parse(self, attrs):
        self.axis_attr = int(attrs.get("axis", -1))
        self.p = int(attrs.get("p", 2))
        if self.p not in (1, 2):
            self.fail(f"p must be 1 or 2; got {self.p}")

    def infer(self, inputs):
        check_kind(self, inputs[0], FLOAT)
        self.axis(self.axis_attr, len(inputs[0].shape))
        return same_as_input(inputs)

    def run(self, x):
        axis = self.axis(self.axis_attr, x.ndim)
        if self.p == 1:
            norm = np.abs(x).sum(axis=axis, keepdims=True)
        else:
            norm = np.sqrt(np.square(x).sum(axis=axis, keepdims=True))
        norm[norm == 0] = 1
        return (x / norm,)


class _SoftmaxBase(Op):
    """Softmax-13+: along one axis (default -1). Softmax-1/11: over the input flattened to 2-D at `axis`
    (default 1), i.e. jointly over every axis from `axis` on."""

    attributes = frozenset({"axis"})

    def parse(self, attrs):
        self.legacy = schema_version("", self.op_type, self.opset) < 13
        self.axis_attr = int(attrs.get("axis", 1 if self.legacy else -1))

    def axes(self, rank: int) -> tuple:
        axis = self.axis(self.axis_attr, rank)
        return tuple(range(axis, rank)) if self.legacy else (axis,)

    def infer(self, inputs):
        check_kind(self, inputs[0], FLOAT)
        self.axes(len(inputs[0].shape))
        return same_as_input(inputs)

    def run(self, x):
        if x.size == 0:
            return (x.copy(),)
        axes = self.axes(x.ndim)
        with np.errstate(all="ignore"):
            return (self.finish(x - x.max(axis=axes, keepdims=True), axes),)


@register_op("Softmax")
class Softmax(_SoftmaxBase):
    """float32 runs on one SIMD kernel (kernels/numba/softmax.py) over the tensor seen as (pre, n, post), n the
    softmax axis (the legacy form's flattened trailing axes), shapes fixed at plan time."""

    PARALLEL_FLOATS = 200_000   # below: one thread (a parallel region costs more than the pass)

    @staticmethod
    def finish(shifted, axes):
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=axes, keepdims=True)
        return shifted

    def lower(self, inputs, outputs, ctx):
        shape = tuple(inputs[0].shape)
        if inputs[0].dtype != np.float32 or math.prod(shape) == 0:
            return self.run
        axes = self.axes(len(shape))
        pre, n, post = math.prod(shape[:axes[0]]), math.prod(shape[axes[0]:axes[-1] + 1]), \
            math.prod(shape[axes[-1] + 1:])
        tasks = softmax_tasks(pre, post)
        parallel = tasks > 1 and pre * n * post >= self.PARALLEL_FLOATS
        par, ser = bound(softmax_par_f32), bound(softmax_f32)

        @accepts_out
        def run(x, out=None):
            y = output(out, shape)
            if parallel:
                par(np.ascontiguousarray(x).reshape(-1), y.reshape(-1), tasks, n, post, min(tasks, get_num_threads()))
            else:
                ser(np.ascontiguousarray(x).reshape(-1), y.reshape(-1), tasks, n, post)
            return (y,)

        return run


@register_op("LogSoftmax")
class LogSoftmax(_SoftmaxBase):
    @staticmethod
    def finish(shifted, axes):
        shifted -= np.log(np.exp(shifted).sum(axis=axes, keepdims=True))
        return shifted
