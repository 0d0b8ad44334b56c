"""Elementwise ops with ONNX (numpy-style multidirectional) broadcasting: activations, arithmetic,
comparisons, logic and Cast. Glue over numpy: constants are cast to the input dtype so float32 stays float32."""
from __future__ import annotations

import math

import numpy as np
from numba import vectorize

from fastconv.graph.ir import TensorInfo
from fastconv.ops.base import BOOL, F32, Op, contiguous, same_as_input
from fastconv.ops.registry import register_op

FLOAT = "f"
NUMERIC = "fiu"


class Unary(Op):
    """y = f(x), same shape and dtype. `kinds` lists the numpy dtype kinds accepted."""

    kinds = FLOAT

    def infer(self, inputs):
        x = inputs[0]
        if x.dtype.kind not in self.kinds:
            self.unsupported(f"input dtype {x.dtype} is not supported")
        return same_as_input(inputs)

    def run(self, x, *rest):
        return (contiguous(self.f(x), x.dtype),)

    def f(self, x):
        raise NotImplementedError


class Binary(Op):
    """y = f(a, b) with multidirectional broadcasting; inputs share one dtype."""

    kinds = NUMERIC

    def infer(self, inputs):
        a, b = inputs
        if a.dtype != b.dtype:
            self.fail(f"input dtypes differ: {a.dtype} and {b.dtype}")
        if a.dtype.kind not in self.kinds:
            self.unsupported(f"input dtype {a.dtype} is not supported")
        try:
            shape = tuple(np.broadcast_shapes(a.shape, b.shape))
        except ValueError:
            self.fail(f"input shapes {list(a.shape)} and {list(b.shape)} do not broadcast")
        return [TensorInfo(self.out_dtype(a.dtype), shape)]

    def out_dtype(self, dtype):
        return dtype

    def run(self, a, b):
        return (contiguous(self.f(a, b), self.out_dtype(a.dtype)),)

    def f(self, a, b):
        raise NotImplementedError


class Variadic(Op):
    """Sum / Max / Min / Mean over any number of broadcasting inputs."""

    def infer(self, inputs):
        if not inputs:
            self.fail("needs at least one input")
        dtypes = {i.dtype for i in inputs}
        if len(dtypes) != 1:
            self.fail(f"input dtypes differ: {sorted(map(str, dtypes))}")
        try:
            shape = tuple(np.broadcast_shapes(*[i.shape for i in inputs]))
        except ValueError:
            self.fail(f"input shapes {[list(i.shape) for i in inputs]} do not broadcast")
        return [TensorInfo(inputs[0].dtype, shape)]

    def run(self, *xs):
        y = xs[0]
        for x in xs[1:]:
            y = self.f(y, x)
        y = self.finish(y, len(xs))
        return (contiguous(np.broadcast_to(y, np.broadcast_shapes(*[x.shape for x in xs])), xs[0].dtype),)

    def finish(self, y, n):
        return y


def _unary(name, fn, kinds=FLOAT, since=1):
    cls = type(name, (Unary,), {"f": staticmethod(fn), "kinds": kinds, "__doc__": f"ONNX {name}."})
    return register_op(name, since=since)(cls)


def _binary(name, fn, kinds=NUMERIC, out=None):
    body = {"f": staticmethod(fn), "kinds": kinds, "__doc__": f"ONNX {name} with broadcasting."}
    if out is not None:
        body["out_dtype"] = lambda self, dtype: out
    return register_op(name)(type(name, (Binary,), body))


@vectorize(["float32(float32)", "float64(float64)"], cache=True)
def _erf(x):
    return math.erf(x)


def _sigmoid(x):
    # exp of -|x| never overflows; both branches give 1/(1+e^-x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


_unary("Relu", lambda x: np.maximum(x, x.dtype.type(0)), kinds="fi")
_unary("Sigmoid", _sigmoid)
_unary("Tanh", np.tanh)
_unary("Exp", np.exp)
_unary("Log", np.log)
_unary("Sqrt", np.sqrt)
_unary("Erf", _erf)
_unary("Floor", np.floor)
_unary("Ceil", np.ceil)
_unary("Reciprocal", lambda x: x.dtype.type(1) / x)
_unary("Neg", np.negative, kinds="fi")
_unary("Abs", np.abs, kinds=NUMERIC)
_unary("Softplus", lambda x: np.logaddexp(x.dtype.type(0), x))
_unary("Sign", np.sign, kinds=NUMERIC)
_unary("Identity", lambda x: x, kinds=NUMERIC + "b")
_unary("HardSwish", lambda x: x * np.clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1))
_unary("Round", np.round)
_unary("Sin", np.sin)
_unary("Cos", np.cos)


@register_op("Not")
class Not(Unary):
    kinds = "b"

    def f(self, x):
        return np.logical_not(x)


class _Alpha(Unary):
    attributes = frozenset({"alpha"})
    default_alpha = 0.01

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", self.default_alpha))


@register_op("LeakyRelu")
class LeakyRelu(_Alpha):
    def f(self, x):
        return np.where(x >= 0, x, x * x.dtype.type(self.alpha))


@register_op("Elu")
class Elu(_Alpha):
    default_alpha = 1.0

    def f(self, x):
        return np.where(x > 0, x, x.dtype.type(self.alpha) * np.expm1(np.minimum(x, 0)))


@register_op("Celu")
class Celu(_Alpha):
    default_alpha = 1.0

    def f(self, x):
        a = x.dtype.type(self.alpha)
        return np.maximum(x, 0) + np.minimum(0, a * np.expm1(np.minimum(x, 0) / a))


@register_op("Selu")
class Selu(Unary):
    attributes = frozenset({"alpha", "gamma"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1.67326319217681884765625))
        self.gamma = float(attrs.get("gamma", 1.05070102214813232421875))

    def f(self, x):
        t = x.dtype.type
        return t(self.gamma) * np.where(x > 0, x, t(self.alpha) * np.expm1(np.minimum(x, 0)))


@register_op("HardSigmoid")
class HardSigmoid(Unary):
    attributes = frozenset({"alpha", "beta"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 0.2))
        self.beta = float(attrs.get("beta", 0.5))

    def f(self, x):
        t = x.dtype.type
        return np.clip(x * t(self.alpha) + t(self.beta), t(0), t(1))


@register_op("ThresholdedRelu")
class ThresholdedRelu(_Alpha):
    default_alpha = 1.0

    def f(self, x):
        return np.where(x > x.dtype.type(self.alpha), x, x.dtype.type(0))


@register_op("PRelu")
class PRelu(Binary):
    """y = x if x >= 0 else slope * x; slope broadcasts to x (opset < 9: per-channel slopes of shape (C,)
    or (C, 1, 1) are aligned with axis 1 as onnxruntime does)."""

    kinds = "fi"

    def infer(self, inputs):
        x, s = inputs
        if len(s.shape) < len(x.shape) and len(s.shape) >= 1 and len(x.shape) >= 2 and s.shape[0] == x.shape[1] \
                and s.shape[0] != 1 and s.shape[-1] != x.shape[-1]:
            self._channel_slope = len(x.shape) - 1 - len(s.shape)
        else:
            self._channel_slope = 0
        (out,) = super().infer([x, TensorInfo(s.dtype, self._slope_shape(s.shape))])
        if out.shape != tuple(x.shape):
            self.fail(f"slope of shape {list(s.shape)} does not broadcast to X {list(x.shape)}")
        return [out]

    def _slope_shape(self, shape):
        return tuple(shape) + (1,) * getattr(self, "_channel_slope", 0)

    def run(self, x, slope):
        if not hasattr(self, "_channel_slope"):
            self.infer([TensorInfo(x.dtype, x.shape), TensorInfo(slope.dtype, slope.shape)])
        slope = slope.reshape(self._slope_shape(slope.shape))
        return (contiguous(np.where(x >= 0, x, x * slope), x.dtype),)


@register_op("Clip")
class Clip(Op):
    """y = min(max(x, lo), hi). Clip-6 min/max attributes become inputs at import."""

    attributes = frozenset({"min", "max"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if node.opset < 11:
            lo = node.attrs.pop("min", -3.4028234663852886e38)
            hi = node.attrs.pop("max", 3.4028234663852886e38)
            node.inputs = [node.inputs[0], add_constant(np.array(lo, np.float32), "min"),
                           add_constant(np.array(hi, np.float32), "max")]

    def infer(self, inputs):
        x = inputs[0]
        if x.dtype.kind not in NUMERIC:
            self.unsupported(f"input dtype {x.dtype} is not supported")
        for k, b in enumerate(inputs[1:3]):
            if b is not None and (b.dtype != x.dtype or len(b.shape) != 0 and b.shape != (1,)):
                self.fail(f"{'min' if k == 0 else 'max'} must be a scalar of dtype {x.dtype}")
        return same_as_input(inputs)

    def run(self, x, lo=None, hi=None):
        y = x
        if lo is not None:
            y = np.maximum(y, lo.reshape(()))
        if hi is not None:
            y = np.minimum(y, hi.reshape(()))
        return (contiguous(y, x.dtype),)


_binary("Add", np.add)
_binary("Sub", np.subtract)
_binary("Mul", np.multiply)
_binary("Equal", np.equal, kinds=NUMERIC + "b", out=BOOL)
_binary("Less", np.less, out=BOOL)
_binary("Greater", np.greater, out=BOOL)
_binary("LessOrEqual", np.less_equal, out=BOOL)
_binary("GreaterOrEqual", np.greater_equal, out=BOOL)
_binary("And", np.logical_and, kinds="b", out=BOOL)
_binary("Or", np.logical_or, kinds="b", out=BOOL)
_binary("Xor", np.logical_xor, kinds="b", out=BOOL)


@register_op("Div")
class Div(Binary):
    """Integer division truncates toward zero (C semantics, as onnxruntime)."""

    def f(self, a, b):
        if a.dtype.kind in "iu":
            q = np.abs(a) // np.abs(b)
            return np.where((a < 0) != (b < 0), -q, q) if a.dtype.kind == "i" else a // b
        return a / b


@register_op("Mod")
class Mod(Binary):
    attributes = frozenset({"fmod"})

    def parse(self, attrs):
        self.fmod = int(attrs.get("fmod", 0))

    def f(self, a, b):
        return np.fmod(a, b) if self.fmod else np.mod(a, b)


@register_op("Pow")
class Pow(Op):
    """y = x ** e; the output has x's dtype (the exponent may have another numeric dtype)."""

    def infer(self, inputs):
        x, e = inputs
        if x.dtype.kind not in NUMERIC or e.dtype.kind not in NUMERIC:
            self.unsupported(f"dtypes {x.dtype} ** {e.dtype} are not supported")
        try:
            shape = tuple(np.broadcast_shapes(x.shape, e.shape))
        except ValueError:
            self.fail(f"input shapes {list(x.shape)} and {list(e.shape)} do not broadcast")
        return [TensorInfo(x.dtype, shape)]

    def run(self, x, e):
        if x.dtype.kind == "f":
            y = np.power(x, e.astype(x.dtype))
        else:
            y = np.power(x.astype(np.float64), e.astype(np.float64))
        return (contiguous(y, x.dtype),)


@register_op("Sum")
class Sum(Variadic):
    def f(self, a, b):
        return a + b


@register_op("Max")
class Max(Variadic):
    def f(self, a, b):
        return np.maximum(a, b)


@register_op("Min")
class Min(Variadic):
    def f(self, a, b):
        return np.minimum(a, b)


@register_op("Mean")
class Mean(Variadic):
    def f(self, a, b):
        return a + b

    def finish(self, y, n):
        return y / y.dtype.type(n)


@register_op("Where")
class Where(Op):
    def infer(self, inputs):
        c, a, b = inputs
        if c.dtype != BOOL:
            self.fail(f"condition must be bool, got {c.dtype}")
        if a.dtype != b.dtype:
            self.fail(f"X and Y dtypes differ: {a.dtype} and {b.dtype}")
        try:
            shape = tuple(np.broadcast_shapes(c.shape, a.shape, b.shape))
        except ValueError:
            self.fail(f"shapes {list(c.shape)}, {list(a.shape)}, {list(b.shape)} do not broadcast")
        return [TensorInfo(a.dtype, shape)]

    def run(self, c, a, b):
        return (contiguous(np.where(c, a, b), a.dtype),)


_CAST_TARGETS = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32, 7: np.int64,
                 9: np.bool_, 11: np.float64, 12: np.uint32, 13: np.uint64}


@register_op("Cast")
class Cast(Op):
    attributes = frozenset({"to", "saturate"})

    def parse(self, attrs):
        to = int(attrs.get("to", 0))
        if to not in _CAST_TARGETS:
            import onnx

            name = onnx.TensorProto.DataType.Name(to) if to in onnx.TensorProto.DataType.values() else str(to)
            self.unsupported(f"cast to {name} is not supported")
        self.to = np.dtype(_CAST_TARGETS[to])

    def infer(self, inputs):
        return [TensorInfo(self.to, inputs[0].shape)]

    def run(self, x):
        if self.to.kind in "iu" and x.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                return (contiguous(np.trunc(x).astype(self.to)),)
        return (contiguous(x.astype(self.to)),)
