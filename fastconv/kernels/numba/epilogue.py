"""Fused convolution epilogue: out = act(acc + bias [+ residual]), applied to a kernel's accumulators before
they are stored, so the output is written once.

An `Epilogue` is the plan-time description (the activation's ONNX name and parameters, whether a residual
tensor is added); kernels receive it as `(kind, alpha, beta)` numbers (`Epilogue.args`) and the residual as an
array of the output's layout (a 1-element dummy when there is none). `activate(v, kind, alpha, beta)` is the
vector form used inside micro-kernels; `activate_array` the same math on a whole array, for kernels without a
vector epilogue and for the tests. Order follows the ONNX graph it replaces: bias, then the residual Add,
then the activation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from fastconv.kernels.numba.simd import (
    lanes,
    vadd,
    vbroadcast,
    vdiv,
    vexp,
    vfma,
    vload,
    vload_n,
    vmax,
    vmin,
    vmul,
    vstore,
    vstore_n,
    vsub,
    vzero,
)

# activation codes passed to kernels
NONE, RELU, CLIP, LEAKY_RELU, HARD_SIGMOID, HARD_SWISH, SIGMOID, SILU, TANH, MISH = range(10)
ACTIVATIONS = {None: NONE, "Relu": RELU, "Clip": CLIP, "LeakyRelu": LEAKY_RELU, "HardSigmoid": HARD_SIGMOID,
               "HardSwish": HARD_SWISH, "Sigmoid": SIGMOID, "Silu": SILU, "Tanh": TANH, "Mish": MISH}


@dataclass(frozen=True)
class Epilogue:
    """activation: an ONNX op name from ACTIVATIONS ("Silu" = x * sigmoid(x), "Mish" = x * tanh(softplus(x)))
    or None. alpha/beta: Clip's min/max, LeakyRelu's alpha, HardSigmoid's alpha/beta (HardSwish uses 1/6 and
    1/2). residual: a tensor of the output's shape is added before the activation."""

    activation: str | None = None
    alpha: float = 0.0
    beta: float = 0.0
    residual: bool = False

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown fused activation {self.activation!r}; have {sorted(map(str, ACTIVATIONS))}")

    @property
    def args(self) -> tuple:
        alpha, beta = self.alpha, self.beta
        if self.activation == "HardSwish":
            alpha, beta = 1.0 / 6.0, 0.5
        return ACTIVATIONS[self.activation], np.float32(alpha), np.float32(beta)

    @property
    def is_identity(self) -> bool:
        return self.activation is None and not self.residual

    def describe(self) -> str:
        parts = (["+residual"] if self.residual else []) + ([self.activation] if self.activation else [])
        return ",".join(parts) or "bias"


NO_EPILOGUE = Epilogue()
NO_RESIDUAL = np.zeros(1, np.float32)


@njit(inline="always")
def activate(v, kind, alpha, beta):
    """act(v) lane-wise for activation code `kind` (NONE returns v)."""
    if kind == RELU:
        return vmax(v, vbroadcast(0.0, v))
    if kind == CLIP:
        return vmin(vmax(v, vbroadcast(alpha, v)), vbroadcast(beta, v))
    if kind == LEAKY_RELU:
        return vadd(vmax(v, vbroadcast(0.0, v)), vmul(vmin(v, vbroadcast(0.0, v)), vbroadcast(alpha, v)))
    if kind == HARD_SIGMOID or kind == HARD_SWISH:
        h = vmin(vmax(vadd(vmul(v, vbroadcast(alpha, v)), vbroadcast(beta, v)), vbroadcast(0.0, v)),
                 vbroadcast(1.0, v))
        if kind == HARD_SWISH:
            return vmul(v, h)
        return h
    if kind == SIGMOID or kind == SILU:
        s = vdiv(vbroadcast(1.0, v), vadd(vbroadcast(1.0, v), vexp(vsub(vbroadcast(0.0, v), v))))
        if kind == SILU:
            return vmul(v, s)
        return s
    if kind == TANH:
        # tanh(x) = 1 - 2 / (exp(2x) + 1): exact limits at +-inf, absolute error ~1e-7 near 0
        one = vbroadcast(1.0, v)
        return vsub(one, vdiv(vbroadcast(2.0, v), vadd(vexp(vadd(v, v)), one)))
    if kind == MISH:
        # x * tanh(softplus(x)) = x * q / (q + 2) with q = e^x (e^x + 2): one exp, no log, no cancellation for
        # x << 0 (q ~ 2 e^x, relative error a few ulps); e^x clamped at x = 20, where q / (q + 2) is 1 in float32,
        # so that large x gives x (not inf / inf). NaN propagates through the exp.
        two = vbroadcast(2.0, v)
        e = vexp(vmin(v, vbroadcast(20.0, v)))
        q = vmul(e, vadd(e, two))
        return vmul(v, vdiv(q, vadd(q, two)))
    return v


def emit_epilogue(a, accs, offs, rows, stride, count, base, ind):
    """Source of a register tile's epilogue (for the generated micro-kernels): residual add and Relu / Clip on
    the accumulators `accs`, their stores at `offs`, then any other activation over the stored block (`rows`
    rows of `count` floats, `stride` apart, from `base`; L1-hot) by `activate_block`. Inlining every
    activation into every tile quadrupled the stem's compile time and the NCHWc conv's (116 -> 26 s; the exp-based
    ones expand to ~40 instructions per accumulator; measured in docs/KERNELS.md)."""
    a(f"{ind}if has_res:")
    for acc, off in zip(accs, offs):
        a(f"{ind}    {acc} = vadd({acc}, vload(rf, {off}, w))")
    a(f"{ind}if kind == RELU:")
    a(f"{ind}    z = vzero(w)")
    for acc in accs:
        a(f"{ind}    {acc} = vmax({acc}, z)")
    a(f"{ind}elif kind == CLIP:")
    a(f"{ind}    lo = vbroadcast(alpha, w)")
    a(f"{ind}    hi = vbroadcast(beta, w)")
    for acc in accs:
        a(f"{ind}    {acc} = vmin(vmax({acc}, lo), hi)")
    for acc, off in zip(accs, offs):
        a(f"{ind}vstore(of, {off}, {acc})")
    a(f"{ind}if kind > CLIP:")
    a(f"{ind}    activate_block(of, {base}, {stride}, {rows}, {count}, kind, alpha, beta, w)")


@njit(cache=True, nogil=True)
def activate_block(of, o0, stride, rows, count, kind, alpha, beta, w):
    """of[o0 + k*stride + j] = act(...) for k < rows, j < count (a multiple of W): a tile's stored output.
    Compiled once per width and called by every tile, rather than inlined into each (see emit_epilogue)."""
    n = lanes(w)
    for k in range(rows):
        for j in range(0, count, n):
            off = o0 + k * stride + j
            vstore(of, off, activate(vload(of, off, w), kind, alpha, beta))


CHEAP = HARD_SWISH   # activation codes <= CHEAP need no exp: activate_cheap applies them in registers


@njit(inline="always")
def activate_cheap(v, kind, alpha, beta):
    """The activations without an exp (kinds <= CHEAP: Relu, Clip, LeakyRelu, HardSigmoid, HardSwish), for
    micro-kernels to apply in registers; v unchanged for the others, which run after the store (activate_block
    or activate_rows). Used by the GEMM and depthwise tiles, whose reductions are short (pointwise convs, 9
    taps), so a second pass over the output costs relatively more; the dense conv tiles keep only Relu / Clip
    (emit_epilogue): their reductions are long and they are many (docs/KERNELS.md, fused epilogue)."""
    if kind <= CHEAP:
        return activate(v, kind, alpha, beta)
    return v


@njit(cache=True, nogil=True)
def activate_rows(of, o0, stride, rows, count, kind, alpha, beta, w):
    """of[o0 + k*stride + j] = act(...) for k < rows, j < count <= W: one partial vector per row (planar
    micro-kernels whose rows are narrower than a vector)."""
    for k in range(rows):
        off = o0 + k * stride
        vstore_n(of, off, activate(vload_n(of, off, count, w), kind, alpha, beta), count)


_CHUNK = 4096  # floats per parallel task of apply_epilogue_f32


@njit(cache=True, parallel=True, nogil=True)
def apply_epilogue_f32(y, res, has_res, kind, alpha, beta):
    """y = act(y [+ res]) in place, for kernels whose output is not produced by a vector epilogue. y and res:
    C-contiguous float32 of one size (res ignored unless has_res)."""
    yf = y.reshape(-1)
    rf = res.reshape(-1)
    n = yf.size
    for t in prange((n + _CHUNK - 1) // _CHUNK):
        lo = t * _CHUNK
        hi = min(n, lo + _CHUNK)
        i = lo
        while i + 16 <= hi:
            v = vload(yf, i, 16)
            if has_res:
                v = vadd(v, vload(rf, i, 16))
            vstore(yf, i, activate(v, kind, alpha, beta))
            i += 16
        if i < hi:  # tail through a 16-lane scratch
            tmp = np.zeros(16, np.float32)
            for j in range(hi - i):
                tmp[j] = yf[i + j] + (rf[i + j] if has_res else np.float32(0.0))
            vstore(tmp, 0, activate(vload(tmp, 0, 16), kind, alpha, beta))
            for j in range(hi - i):
                yf[i + j] = tmp[j]


def apply_epilogue(y: np.ndarray, epilogue: Epilogue, residual: np.ndarray | None = None) -> np.ndarray:
    """y = epilogue(y [+ residual]) in place (y: C-contiguous float32); returns y."""
    if epilogue.is_identity:
        return y
    res = NO_RESIDUAL
    if epilogue.residual:
        res = np.ascontiguousarray(residual, np.float32)
        if res.shape != y.shape:
            raise ValueError(f"residual shape {res.shape} != output shape {y.shape}")
    apply_epilogue_f32(y, res, epilogue.residual, *epilogue.args)
    return y


@njit(cache=True, nogil=True, _nrt=False)
def _affine_planes(xf, of, a, b, c_, s, p0, p1, kind, alpha, beta):
    for p in range(p0, p1):
        c = p % c_
        av = vbroadcast(a[c], 16)
        bv = vbroadcast(b[c], 16)
        base = p * s
        i = 0
        while i + 16 <= s:
            vstore(of, base + i, activate(vfma(vload(xf, base + i, 16), av, bv), kind, alpha, beta))
            i += 16
        if i < s:
            v = activate(vfma(vload_n(xf, base + i, s - i, 16), av, bv), kind, alpha, beta)
            vstore_n(of, base + i, v, s - i)


@njit(cache=True, nogil=True, _nrt=False)
def _prelu_planes(xf, of, a, b, slope, c_, s, p0, p1):
    for p in range(p0, p1):  # PRelu's slope is LeakyRelu's alpha of one channel
        _affine_planes(xf, of, a, b, c_, s, p, p + 1, LEAKY_RELU, slope[p % c_], np.float32(0.0))


@njit(cache=True, parallel=True, nogil=True)
def channel_affine_prelu_f32(x, a, b, slope, out, chunks):
    """out[n, c, :] = prelu(x[n, c, :] * a[c] + b[c], slope[c]) (PRelu with a per-channel slope: v if v >= 0
    else slope[c] * v), layout and work split as channel_affine_f32."""
    n_, c_, s = x.shape
    planes = n_ * c_
    for ch in prange(chunks):
        _prelu_planes(x.reshape(-1), out.reshape(-1), a, b, slope, c_, s, ch * planes // chunks,
                      (ch + 1) * planes // chunks)


@njit(cache=True, parallel=True, nogil=True)
def channel_affine_f32(x, a, b, kind, alpha, beta, out, chunks):
    """out[n, c, :] = act(x[n, c, :] * a[c] + b[c]) (one fma) for x, out (N, C, S) C-contiguous float32: a
    BatchNorm / per-channel Mul and Add chain with its activation, in one pass (fastconv/plan/fusion.py)."""
    n_, c_, s = x.shape
    planes = n_ * c_
    for ch in prange(chunks):
        _affine_planes(x.reshape(-1), out.reshape(-1), a, b, c_, s, ch * planes // chunks,
                       (ch + 1) * planes // chunks, kind, alpha, beta)


@njit(cache=True, nogil=True, _nrt=False)
def _affine_blocks(xf, of, a, b, cb, s, p0, p1, kind, alpha, beta, w):
    n = lanes(w)
    for p in range(p0, p1):
        blk = p % cb
        av = vload(a, blk * n, w)
        bv = vload(b, blk * n, w)
        base = p * s * n
        for i in range(s):
            vstore(of, base + i * n, activate(vfma(vload(xf, base + i * n, w), av, bv), kind, alpha, beta))


@njit(cache=True, parallel=True, nogil=True)
def channel_affine_nchwc_f32(x, a, b, kind, alpha, beta, out, chunks, w):
    """channel_affine_f32 on blocked (N, Cb, S, c) tensors (fastconv/plan/layout.py): a and b hold Cb*c
    per-channel values (zeros past C), one vector per channel block."""
    n_, cb, s, _ = x.shape
    planes = n_ * cb
    for ch in prange(chunks):
        _affine_blocks(x.reshape(-1), out.reshape(-1), a, b, cb, s, ch * planes // chunks,
                       (ch + 1) * planes // chunks, kind, alpha, beta, w)


@njit(cache=True, nogil=True, _nrt=False)
def _prelu_blocks(xf, of, a, b, slope, cb, s, p0, p1, w):
    n = lanes(w)
    zero = vzero(w)
    for p in range(p0, p1):
        blk = p % cb
        av = vload(a, blk * n, w)
        bv = vload(b, blk * n, w)
        sv = vload(slope, blk * n, w)
        base = p * s * n
        for i in range(s):   # activate()'s LeakyRelu with a vector of slopes: the same NaN behaviour
            v = vfma(vload(xf, base + i * n, w), av, bv)
            vstore(of, base + i * n, vadd(vmax(v, zero), vmul(vmin(v, zero), sv)))


@njit(cache=True, parallel=True, nogil=True)
def channel_affine_prelu_nchwc_f32(x, a, b, slope, out, chunks, w):
    """channel_affine_prelu_f32 on blocked (N, Cb, S, c) tensors: a, b and slope hold Cb*c per-channel values
    (zeros past C)."""
    n_, cb, s, _ = x.shape
    planes = n_ * cb
    for ch in prange(chunks):
        _prelu_blocks(x.reshape(-1), out.reshape(-1), a, b, slope, cb, s, ch * planes // chunks,
                      (ch + 1) * planes // chunks, w)
