"""Elementwise ops with ONNX (numpy-style) broadcasting: activations, arithmetic, comparisons, logic, Cast.

Every op keeps its input dtype (comparisons give bool, Cast its target). Float attributes are converted to the
input's dtype before they meet an array, so numpy never promotes float32 to float64. NaN propagates as in
onnxruntime: Relu, Max, Min and Clip pass a NaN input through; a NaN Clip bound is ignored.
"""
from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from onnx import TensorProto, helper

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.buffers import accepts_out, output
from fastconv.kernels.numba.unary import erf
from fastconv.ops.base import BOOL, SUPPORTED_DTYPES, Op, same_as_input
from fastconv.ops.registry import register_op, schema_version

# numpy dtype kinds an op accepts: f float, i signed int, u unsigned int, b bool
FLOAT, NUMERIC, ANY = "f", "fiu", "fiub"


def check_kind(op: Op, info: TensorInfo, kinds: str, what: str = "input") -> None:
    if info.dtype.kind not in kinds:
        names = {"f": "float", "i": "signed integer", "u": "unsigned integer", "b": "bool"}
        op.fail(f"{what} has dtype {info.dtype}; {op.op_type} takes {' or '.join(names[k] for k in kinds)} "
                "tensors")


def broadcast(op: Op, *shapes) -> tuple:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        op.fail(f"input shapes {[list(s) for s in shapes]} do not broadcast")


def onnx_dtype(op: Op, elem_type: int, what: str) -> np.dtype:
    """The numpy dtype of an ONNX element type, or UnsupportedError for types fastconv does not carry."""
    try:
        dt = np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:
        dt = None
    if dt is None or dt not in SUPPORTED_DTYPES:
        name = TensorProto.DataType.Name(elem_type) if elem_type in TensorProto.DataType.values() else elem_type
        op.unsupported(f"{what} {name} is not supported (fastconv carries float32/float64, integer and bool "
                       "tensors)")
    return dt


class Unary(Op):
    """y = f(x), same shape and dtype."""

    kinds: ClassVar[str] = FLOAT
    # compute with numpy's floating-point warnings off (overflow in exp, log of negatives, inf * 0 ...):
    # onnxruntime does not warn either. Costs ~0.6 us per call, so ops that cannot warn turn it off.
    quiet: ClassVar[bool] = True

    def infer(self, inputs):
        check_kind(self, inputs[0], self.kinds)
        return same_as_input(inputs)

    def run(self, x):
        if x.ndim == 0:  # numpy gives scalars, not arrays, for 0-d operands: f's in-place steps need arrays
            return (self.run(x.reshape(1))[0].reshape(()),)
        if self.quiet:
            with np.errstate(all="ignore"):
                return (np.asarray(self.f(x)),)
        return (np.asarray(self.f(x)),)

    def f(self, x):
        raise NotImplementedError


class Binary(Op):
    """y = f(a, b) with multidirectional broadcasting; both inputs share one dtype."""

    kinds: ClassVar[str] = NUMERIC
    quiet: ClassVar[bool] = False

    def infer(self, inputs):
        a, b = inputs
        if a.dtype != b.dtype:
            self.fail(f"input dtypes differ: {a.dtype} and {b.dtype}")
        check_kind(self, a, self.kinds)
        return [TensorInfo(self.out_dtype(a.dtype), broadcast(self, a.shape, b.shape))]

    def out_dtype(self, dtype):
        return dtype

    def run(self, a, b):
        if self.quiet:
            with np.errstate(all="ignore"):
                return (np.asarray(self.f(a, b), dtype=self.out_dtype(a.dtype)),)
        return (np.asarray(self.f(a, b), dtype=self.out_dtype(a.dtype)),)

    def f(self, a, b):
        raise NotImplementedError

    # numpy ufunc computing f on float operands: then lower() writes into the planned buffer (`out=`)
    ufunc: ClassVar = None

    def lower(self, inputs, outputs, ctx):
        info = outputs[0]
        if self.ufunc is None or info is None or info.dtype.kind != "f" or inputs[0].dtype != info.dtype or \
                any(not isinstance(d, int) for d in info.shape):
            return self.run
        shape, dtype, ufunc, quiet = tuple(info.shape), info.dtype, self.ufunc, self.quiet

        @accepts_out
        def run(a, b, out=None):
            y = output(out, shape, dtype)
            if quiet:
                with np.errstate(all="ignore"):
                    return (ufunc(a, b, out=y),)
            return (ufunc(a, b, out=y),)

        return run


class Compare(Binary):
    kinds = ANY

    def out_dtype(self, dtype):
        return BOOL


class Variadic(Op):
    """y = f(x0, f(x1, ...)) over one or more inputs with multidirectional broadcasting."""

    kinds: ClassVar[str] = NUMERIC

    def infer(self, inputs):
        if not inputs or any(i is None for i in inputs):
            self.fail("needs one or more inputs, none of them empty")
        if len({i.dtype for i in inputs}) > 1:
            self.fail(f"input dtypes differ: {[str(i.dtype) for i in inputs]}")
        check_kind(self, inputs[0], self.kinds)
        return [TensorInfo(inputs[0].dtype, broadcast(self, *[i.shape for i in inputs]))]

    def run(self, *xs):
        y = xs[0]
        for x in xs[1:]:
            y = self.f(y, x)
        if y is xs[0]:
            y = y.copy()
        return (self.finish(np.asarray(y), len(xs)),)

    def finish(self, y, n):
        return y


# --- activations -----------------------------------------------------------------------------------------

@register_op("Relu")
class Relu(Unary):
    kinds = "fi"
    quiet = False

    def f(self, x):
        return np.maximum(x, x.dtype.type(0))


@register_op("LeakyRelu")
class LeakyRelu(Unary):
    quiet = False
    attributes = frozenset({"alpha"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 0.01))

    def f(self, x):
        return np.where(x < 0, x * x.dtype.type(self.alpha), x)


def _prelu_slope(op: Op, x_shape, s_shape):
    """The shape to view the slope as: numpy (unidirectional) broadcasting to x, or the legacy per-channel
    form (a 1-D slope of x.shape[1] values) that older exporters emit."""
    try:
        if tuple(np.broadcast_shapes(x_shape, s_shape)) == tuple(x_shape):
            return tuple(s_shape)
    except ValueError:
        pass
    if len(s_shape) == 1 and len(x_shape) >= 2 and s_shape[0] == x_shape[1]:
        return (s_shape[0],) + (1,) * (len(x_shape) - 2)
    op.fail(f"slope shape {list(s_shape)} does not broadcast to input shape {list(x_shape)}")


@register_op("PRelu")
class PRelu(Op):
    def infer(self, inputs):
        x, slope = inputs
        if x.dtype != slope.dtype:
            self.fail(f"input dtypes differ: {x.dtype} and {slope.dtype}")
        check_kind(self, x, NUMERIC)
        _prelu_slope(self, x.shape, slope.shape)
        return same_as_input(inputs)

    def slope_shape(self, x_shape, s_shape) -> tuple:
        """The shape the slope is viewed as to broadcast against x (numpy's rules, or the legacy per-channel
        form)."""
        return _prelu_slope(self, x_shape, s_shape)

    def run(self, x, slope):
        slope = slope.reshape(self.slope_shape(x.shape, slope.shape))
        return (np.where(x < 0, x * slope, x),)


@register_op("Clip")
class Clip(Op):
    """y = min(max(x, min), max); absent bounds are the dtype's lowest / max (so +-inf clip to +-FLT_MAX), a
    NaN bound does not clip (as onnxruntime). Clip-6's attributes become inputs."""

    attributes = frozenset({"min", "max"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if schema_version("", "Clip", node.opset) >= 11:
            return
        inputs = node.inputs[:1]
        for k, name in enumerate(("min", "max"), start=1):
            if name in node.attrs:
                value = np.array(node.attrs.pop(name), np.float32)
                inputs += [""] * (k - len(inputs)) + [add_constant(value, name)]
        node.inputs = inputs

    def parse(self, attrs):
        if attrs:
            self.fail(f"attributes {sorted(attrs)} are inputs since Clip-11")

    def infer(self, inputs):
        x = inputs[0]
        check_kind(self, x, NUMERIC)
        for name, b in zip(("min", "max"), inputs[1:]):
            if b is not None and (b.dtype.kind not in NUMERIC or int(np.prod(b.shape)) != 1):
                self.fail(f"{name} must be a scalar of the input's type; got {b.dtype}{list(b.shape)}")
        return same_as_input(inputs)

    def run(self, x, lo=None, hi=None):
        limits = np.finfo(x.dtype) if x.dtype.kind == "f" else np.iinfo(x.dtype)
        bounds = []
        for b, default in ((lo, limits.min), (hi, limits.max)):
            b = x.dtype.type(default) if b is None else b.reshape(()).astype(x.dtype)
            bounds.append(None if b != b else b)  # b != b: a NaN bound does not clip
        lo, hi = bounds
        if lo is not None and hi is not None:
            return (np.asarray(np.clip(x, lo, hi)),)
        if lo is not None:
            return (np.asarray(np.maximum(x, lo)),)
        return (np.asarray(np.minimum(x, hi)),) if hi is not None else (x.copy(),)


@register_op("Sigmoid")
class Sigmoid(Unary):
    def f(self, x):
        y = np.negative(x)
        np.exp(y, out=y)
        y += x.dtype.type(1)
        return np.reciprocal(y, out=y)


@register_op("HardSigmoid")
class HardSigmoid(Unary):
    attributes = frozenset({"alpha", "beta"})

    def parse(self, attrs):
        self.alpha, self.beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))

    def f(self, x):
        t = x.dtype.type
        y = x * t(self.alpha)
        y += t(self.beta)
        return np.clip(y, t(0), t(1), out=y)


@register_op("HardSwish", since=14)
class HardSwish(Unary):
    def f(self, x):
        t = x.dtype.type
        y = x * t(1 / 6)
        y += t(0.5)
        np.clip(y, t(0), t(1), out=y)
        return np.multiply(y, x, out=y)


@register_op("Elu")
class Elu(Unary):
    attributes = frozenset({"alpha"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1.0))

    def f(self, x):
        neg = np.expm1(np.minimum(x, x.dtype.type(0)))
        neg *= x.dtype.type(self.alpha)
        return np.where(x < 0, neg, x)


@register_op("Selu")
class Selu(Unary):
    attributes = frozenset({"alpha", "gamma"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1.67326319217681884765625))
        self.gamma = float(attrs.get("gamma", 1.05070102214813232421875))

    def f(self, x):
        t = x.dtype.type
        neg = np.expm1(np.minimum(x, t(0)))
        neg *= t(self.alpha)
        y = np.where(x > 0, x, neg)
        y *= t(self.gamma)
        return y


@register_op("Celu", since=12)
class Celu(Unary):
    attributes = frozenset({"alpha"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1.0))

    def f(self, x):
        t = x.dtype.type
        neg = np.expm1(np.minimum(x, t(0)) / t(self.alpha))
        neg *= t(self.alpha)
        return np.where(x < 0, neg, x)


@register_op("Softplus")
class Softplus(Unary):
    def f(self, x):
        return np.logaddexp(x, x.dtype.type(0))


@register_op("Softsign")
class Softsign(Unary):
    def f(self, x):
        d = np.abs(x)
        d += x.dtype.type(1)
        return np.divide(x, d, out=d)


@register_op("ThresholdedRelu", since=10)
class ThresholdedRelu(Unary):
    attributes = frozenset({"alpha"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1.0))

    def f(self, x):
        return np.where(x > x.dtype.type(self.alpha), x, x.dtype.type(0))


@register_op("Shrink", since=9)
class Shrink(Unary):
    kinds = NUMERIC
    attributes = frozenset({"bias", "lambd"})

    def parse(self, attrs):
        self.bias, self.lambd = float(attrs.get("bias", 0.0)), float(attrs.get("lambd", 0.5))

    def f(self, x):
        t = x.dtype.type
        return np.where(x < -self.lambd, x + t(self.bias), np.where(x > self.lambd, x - t(self.bias), t(0)))


@register_op("Gelu", since=20)
class Gelu(Unary):
    attributes = frozenset({"approximate"})

    def parse(self, attrs):
        self.approximate = attrs.get("approximate", "none")
        if self.approximate not in ("none", "tanh"):
            self.fail(f"approximate must be 'none' or 'tanh', not {self.approximate!r}")

    def f(self, x):
        t = x.dtype.type
        if self.approximate == "tanh":
            inner = np.tanh(t(math.sqrt(2 / math.pi)) * (x + t(0.044715) * x * x * x))
        else:
            inner = erf(x * t(1 / math.sqrt(2)))
        inner += t(1)
        inner *= x
        inner *= t(0.5)
        return inner


@register_op("Mish", since=18)
class Mish(Unary):
    def f(self, x):
        return x * np.tanh(np.logaddexp(x, x.dtype.type(0)))


# --- unary math -------------------------------------------------------------------------------------------

# op: (since, dtype kinds, quiet, numpy function). Round is half-to-even, as ONNX specifies.
_UNARY = {
    "Tanh": (1, FLOAT, False, np.tanh),
    "Sqrt": (1, FLOAT, True, np.sqrt),
    "Exp": (1, FLOAT, True, np.exp),
    "Log": (1, FLOAT, True, np.log),
    "Reciprocal": (1, FLOAT, True, np.reciprocal),
    "Floor": (1, FLOAT, False, np.floor),
    "Ceil": (1, FLOAT, False, np.ceil),
    "Round": (11, FLOAT, False, np.round),
    "Neg": (1, "fi", False, np.negative),
    "Abs": (1, NUMERIC, False, np.abs),
    "Sign": (9, NUMERIC, False, np.sign),
    "Not": (1, "b", False, np.logical_not),
}
for _name, (_since, _kinds, _quiet, _fn) in _UNARY.items():
    register_op(_name, since=_since)(
        type(_name, (Unary,), {"kinds": _kinds, "quiet": _quiet, "f": staticmethod(_fn), "__module__": __name__}))


@register_op("Erf", since=9)
class Erf(Unary):
    kinds = NUMERIC

    def f(self, x):
        return erf(x) if x.dtype.kind == "f" else np.round(erf(x.astype(np.float64))).astype(x.dtype)


@register_op("IsNaN", since=9)
class IsNaN(Unary):
    def infer(self, inputs):
        check_kind(self, inputs[0], FLOAT)
        return [TensorInfo(BOOL, inputs[0].shape)]

    def f(self, x):
        return np.isnan(x)


@register_op("IsInf", since=10)
class IsInf(IsNaN):
    attributes = frozenset({"detect_negative", "detect_positive"})

    def parse(self, attrs):
        self.neg, self.pos = bool(attrs.get("detect_negative", 1)), bool(attrs.get("detect_positive", 1))

    def f(self, x):
        if self.neg and self.pos:
            return np.isinf(x)
        if self.neg:
            return np.isneginf(x)
        return np.isposinf(x) if self.pos else np.zeros(x.shape, BOOL)


# --- binary arithmetic --------------------------------------------------------------------------------------

@register_op("Add")
class Add(Binary):
    ufunc = np.add

    def f(self, a, b):
        return a + b


@register_op("Sub")
class Sub(Binary):
    ufunc = np.subtract

    def f(self, a, b):
        return a - b


@register_op("Mul")
class Mul(Binary):
    ufunc = np.multiply

    def f(self, a, b):
        return a * b


@register_op("Div")
class Div(Binary):
    """Integer division truncates toward zero (C, onnxruntime), not toward -inf as numpy's //."""

    quiet = True

    def f(self, a, b):
        if a.dtype.kind == "f":
            return a / b
        q = np.floor_divide(a, b)
        if a.dtype.kind == "i":
            q += ((q * b != a) & ((a < 0) != (b < 0))).astype(q.dtype)
        return q


@register_op("Mod", since=10)
class Mod(Binary):
    """fmod=0: A - floor(A / B) * B, the divisor's sign (floats too, as Mod-28 defines it); fmod=1:
    A - trunc(A / B) * B, the dividend's sign (C fmod)."""

    quiet = True
    attributes = frozenset({"fmod"})

    def parse(self, attrs):
        self.fmod = bool(attrs.get("fmod", 0))

    def f(self, a, b):
        return np.fmod(a, b) if self.fmod else np.mod(a, b)


@register_op("Pow")
class Pow(Op):
    """y = base ** exponent in the base's dtype; mixed types compute in double (as std::pow does) and
    convert back, integer results truncated."""

    def infer(self, inputs):
        base, exponent = inputs
        check_kind(self, base, "fiu", "base")
        check_kind(self, exponent, "fiu", "exponent")
        return [TensorInfo(base.dtype, broadcast(self, base.shape, exponent.shape))]

    def run(self, a, b):
        with np.errstate(all="ignore"):
            if a.dtype.kind == "f" and b.dtype == a.dtype:
                return (np.asarray(np.power(a, b)),)
            y = np.power(a.astype(np.float64), b.astype(np.float64))
            return (np.asarray(y.astype(a.dtype)),)


# --- comparison and logic ---------------------------------------------------------------------------------

# op: (since, dtype kinds, numpy function); the result is bool
_COMPARE = {
    "Equal": (1, ANY, np.equal),
    "Less": (1, NUMERIC, np.less),
    "LessOrEqual": (12, NUMERIC, np.less_equal),
    "Greater": (1, NUMERIC, np.greater),
    "GreaterOrEqual": (12, NUMERIC, np.greater_equal),
    "And": (1, "b", np.logical_and),
    "Or": (1, "b", np.logical_or),
    "Xor": (1, "b", np.logical_xor),
}
for _name, (_since, _kinds, _fn) in _COMPARE.items():
    register_op(_name, since=_since)(
        type(_name, (Compare,), {"kinds": _kinds, "f": staticmethod(_fn), "__module__": __name__}))


@register_op("Where", since=9)
class Where(Op):
    def infer(self, inputs):
        cond, x, y = inputs
        if cond.dtype != BOOL:
            self.fail(f"condition has dtype {cond.dtype}; it must be bool")
        if x.dtype != y.dtype:
            self.fail(f"X and Y dtypes differ: {x.dtype} and {y.dtype}")
        return [TensorInfo(x.dtype, broadcast(self, cond.shape, x.shape, y.shape))]

    def run(self, cond, x, y):
        return (np.asarray(np.where(cond, x, y)),)


# --- variadic -----------------------------------------------------------------------------------------------

@register_op("Sum")
class Sum(Variadic):
    def f(self, a, b):
        return a + b


@register_op("Mean")
class Mean(Variadic):
    kinds = FLOAT

    def f(self, a, b):
        return a + b

    def finish(self, y, n):
        y /= y.dtype.type(n)
        return y


@register_op("Max")
class Max(Variadic):
    def f(self, a, b):
        return np.maximum(a, b)


@register_op("Min")
class Min(Variadic):
    def f(self, a, b):
        return np.minimum(a, b)


# --- type conversion --------------------------------------------------------------------------------------

# Cast-23/24 add element types fastconv refuses (4-bit float, float8e8m0) and `round_mode`, which applies to
# float8e8m0 targets only: for the types fastconv carries, Cast-24 (and the type-only 25/28) is Cast-21.
@register_op("Cast", until=24)
class Cast(Op):
    """Conversion as C casts do it: float to int truncates toward zero, NaN to bool is True."""

    attributes = frozenset({"to", "saturate", "round_mode"})

    def parse(self, attrs):
        if "to" not in attrs:
            self.fail("attribute 'to' is required")
        self.to = onnx_dtype(self, attrs["to"], "target type")

    def infer(self, inputs):
        return [TensorInfo(self.to, inputs[0].shape)]

    def run(self, x, like=None):
        with np.errstate(invalid="ignore", over="ignore"):
            return (np.asarray(x.astype(self.to if like is None else like.dtype)),)


@register_op("CastLike", since=15, until=24)
class CastLike(Cast):
    attributes = frozenset({"saturate", "round_mode"})

    def parse(self, attrs):
        pass

    def infer(self, inputs):
        return [TensorInfo(inputs[1].dtype, inputs[0].shape)]
