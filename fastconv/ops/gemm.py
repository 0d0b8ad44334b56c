"""Gemm and MatMul: float32 on fastconv's packed SIMD GEMM (kernels/numba/gemm.py), other dtypes on numpy.
Constant weights are laid out once at plan time, in `lower`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import get_num_threads

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.buffers import accepts_out, output
from fastconv.kernels.numba import gemm as kg
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.epilogue import NO_EPILOGUE, Epilogue, apply_epilogue
from fastconv.kernels.registry import register_kernel, select_kernel
from fastconv.ops.base import Op, contiguous
from fastconv.ops.registry import register_op

GEMM_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64))
MATMUL_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint32, np.uint64))


@dataclass(frozen=True)
class GemmConfig:
    """Y (m, n) = alpha * A' (m, k) @ B' (k, n) + beta * C, C broadcasting to (m, n) (c_shape None: no C)."""

    dtype: str
    m: int
    k: int
    n: int
    trans_a: bool
    trans_b: bool
    alpha: float
    beta: float
    c_shape: tuple | None
    b_const: bool = False   # B known at plan time (weights): laid out once

    @property
    def a_shape(self) -> tuple:
        """A as the kernels reshape their first input (A itself, or the tensor a fused Flatten read)."""
        return (self.k, self.m) if self.trans_a else (self.m, self.k)


@register_op("Gemm", since=7, until=22)
class Gemm(Op):
    """Gemm-7/9/11/13: Y = alpha * A' @ B' + beta * C with A' = A^T if transA, B' = B^T if transB; A and B are
    2-D, C (optional from Gemm-11) broadcasts to (M, N). float32 (float64 too, computed by numpy)."""

    attributes = frozenset({"alpha", "beta", "transA", "transB"})

    # Set by plan-time fusion (fastconv/plan/fusion.py) on a copy of the op: a_2d, the 2-D shape A has after the
    # Flatten / Reshape whose input this Gemm now reads directly; epilogue, an activation fused into Y.
    a_2d: tuple | None = None
    epilogue: Epilogue = NO_EPILOGUE

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1.0))
        self.beta = float(attrs.get("beta", 1.0))
        if not np.isfinite(self.alpha):  # found by fuzzing: folded into B, inf * b + -inf * b' gives NaN
            self.unsupported(f"alpha {self.alpha} is not finite (fastconv folds alpha into constant weights)")
        self.trans_a = bool(attrs.get("transA", 0))
        self.trans_b = bool(attrs.get("transB", 0))

    def config(self, inputs) -> GemmConfig:
        a, b = inputs[0], inputs[1]
        if self.a_2d is not None:
            a = TensorInfo(a.dtype, self.a_2d)
        c = inputs[2] if len(inputs) > 2 else None
        for name, info in (("A", a), ("B", b), ("C", c)):
            if info is not None and info.dtype not in GEMM_DTYPES:
                self.unsupported(f"{name} has dtype {info.dtype}; Gemm supports float32 and float64")
        if b.dtype != a.dtype or (c is not None and c.dtype != a.dtype):
            self.fail(f"A, B and C must share one dtype, got {[str(i.dtype) for i in inputs if i is not None]}")
        if len(a.shape) != 2 or len(b.shape) != 2:
            self.fail(f"A and B must be 2-D, got A {list(a.shape)} and B {list(b.shape)}")
        m, k = a.shape[::-1] if self.trans_a else a.shape
        k2, n = b.shape[::-1] if self.trans_b else b.shape
        if k != k2:
            self.fail(f"inner dimensions differ: A {list(a.shape)} (transA={int(self.trans_a)}) and "
                      f"B {list(b.shape)} (transB={int(self.trans_b)})")
        if c is not None:
            ok = len(c.shape) <= 2 and all(cd in (1, od) for cd, od in zip(c.shape[::-1], (n, m)))
            if not ok:
                self.fail(f"C of shape {list(c.shape)} does not broadcast to (M, N) = ({m}, {n})")
        return GemmConfig(str(a.dtype), m, k, n, self.trans_a, self.trans_b, self.alpha, self.beta,
                          None if c is None else tuple(c.shape), b.value is not None)

    def infer(self, inputs):
        cfg = self.config(inputs)
        return [TensorInfo(inputs[0].dtype, (cfg.m, cfg.n))]

    def lower(self, inputs, outputs, ctx):
        cfg = self.config(inputs)
        kernel = select_kernel("Gemm", cfg, ctx.platform, ctx.kernel_overrides.get("Gemm"))
        c = inputs[2] if len(inputs) > 2 else None
        return kernel.build(cfg, ctx.platform, inputs[1].value, None if c is None else c.value, self.epilogue)

    def run(self, a, b, c=None):
        infos = [None if v is None else TensorInfo(v.dtype, tuple(v.shape)) for v in (a, b, c)]
        return gemm_numpy(self.config(infos), None, None, None)(a, b, c)


@register_kernel("Gemm", "gemm_numpy")
def gemm_numpy(cfg: GemmConfig, platform, b_const=None, c_const=None, epilogue: Epilogue = NO_EPILOGUE):
    """Any dtype, through numpy.matmul (BLAS for floats). A constant B is stored as alpha * B' (contiguous, so BLAS reads it without a transpose); a constant C
    as beta * C in its own (broadcastable) shape. Y comes out of np.matmul and C is added into it in place."""
    dtype = np.dtype(cfg.dtype)
    alpha, beta = dtype.type(cfg.alpha), dtype.type(cfg.beta)
    bp = None if b_const is None else np.ascontiguousarray((b_const.T if cfg.trans_b else b_const) * alpha,
                                                           dtype=dtype)
    cp = None
    if c_const is not None and cfg.beta != 0.0:
        cp = np.ascontiguousarray(c_const * beta if cfg.beta != 1.0 else c_const, dtype=dtype)
    use_c = cfg.c_shape is not None and cfg.beta != 0.0
    a_shape = cfg.a_shape

    def run(a, b=None, c=None):
        a = a.reshape(a_shape)
        a = a.T if cfg.trans_a else a
        if bp is not None:
            y = np.matmul(a, bp)
        else:
            y = np.matmul(a, b.T if cfg.trans_b else b)
            if cfg.alpha != 1.0:
                y *= alpha
        if cp is not None:
            y += cp
        elif use_c:
            y += c if cfg.beta == 1.0 else c * beta
        return (apply_epilogue(y, epilogue),)

    return run


def matmul_shape(sa: tuple, sb: tuple) -> tuple:
    """numpy.matmul's output shape (1-D operands promoted then squeezed); raises ValueError when invalid."""
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"MatMul operands must have rank >= 1, got shapes {list(sa)} and {list(sb)}")
    a = (1, *sa) if len(sa) == 1 else tuple(sa)
    b = (*sb, 1) if len(sb) == 1 else tuple(sb)
    if a[-1] != b[-2]:
        raise ValueError(f"cannot multiply shapes {list(sa)} and {list(sb)}: inner dimensions {a[-1]} and "
                         f"{b[-2]} differ")
    try:
        batch = np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise ValueError(f"batch dimensions of shapes {list(sa)} and {list(sb)} do not broadcast") from None
    out = (*batch, a[-2], b[-1])
    if len(sa) == 1:
        out = out[:-2] + out[-1:]
    if len(sb) == 1:
        out = out[:-1]
    return out


@dataclass(frozen=True)
class MatMulConfig:
    dtype: str
    a_shape: tuple
    b_shape: tuple
    out_shape: tuple
    b_const: bool = False   # B known at plan time (weights)


@register_op("MatMul", since=1, until=22)
class MatMul(Op):
    """MatMul-1/9/13: numpy.matmul semantics (batch broadcasting, 1-D operands promoted then squeezed)."""

    def config(self, inputs) -> MatMulConfig:
        a, b = inputs
        for name, info in (("A", a), ("B", b)):
            if info.dtype not in MATMUL_DTYPES:
                self.unsupported(f"{name} has dtype {info.dtype}; MatMul supports "
                                 f"{sorted(str(d) for d in MATMUL_DTYPES)}")
        if a.dtype != b.dtype:
            self.fail(f"A and B must share one dtype, got {a.dtype} and {b.dtype}")
        try:
            shape = matmul_shape(tuple(a.shape), tuple(b.shape))
        except ValueError as e:
            self.fail(str(e))
        return MatMulConfig(str(a.dtype), tuple(a.shape), tuple(b.shape), shape, b.value is not None)

    def infer(self, inputs):
        return [TensorInfo(inputs[0].dtype, self.config(inputs).out_shape)]

    def lower(self, inputs, outputs, ctx):
        cfg = self.config(inputs)
        kernel = select_kernel("MatMul", cfg, ctx.platform, ctx.kernel_overrides.get("MatMul"))
        return kernel.build(cfg, ctx.platform, inputs[1].value)

    def run(self, a, b):
        return (contiguous(np.matmul(a, b)),)


@register_kernel("MatMul", "matmul_numpy")
def matmul_numpy(cfg: MatMulConfig, platform, b_const=None):
    """A 2-D B (weights) meets a stacked A as one (batch * m, k) @ (k, n) product instead of one BLAS call per
    matrix of the stack. A constant B is made contiguous once, here."""
    bp = None if b_const is None else np.ascontiguousarray(b_const)
    flatten = len(cfg.b_shape) == 2 and len(cfg.a_shape) > 2
    rows, k = int(np.prod(cfg.a_shape[:-1])), cfg.a_shape[-1]

    def run(a, b=None):
        b = bp if bp is not None else b
        if flatten:
            return (np.matmul(a.reshape(rows, k), b).reshape(cfg.out_shape),)
        return (contiguous(np.matmul(a, b)),)

    return run


def _f32(cfg, platform) -> bool:
    return cfg.dtype == "float32"


@register_kernel("Gemm", "gemm_simd_f32", priority=10, supports=_f32)
def gemm_simd_f32(cfg: GemmConfig, platform, b_const=None, c_const=None, epilogue: Epilogue = NO_EPILOGUE):
    """float32 on the packed SIMD GEMM: A' is packed per call (activations; a few KB at small batch), B' is
    used row-major, laid out once with alpha folded in when constant; beta * C added after."""
    width = platform.simd_width
    bp = None if b_const is None else np.ascontiguousarray((b_const.T if cfg.trans_b else b_const) * np.float32(cfg.alpha),
                                                           dtype=np.float32)
    use_c = cfg.c_shape is not None and cfg.beta != 0.0
    cp = None
    if c_const is not None and use_c:
        cp = np.ascontiguousarray(c_const * np.float32(cfg.beta), dtype=np.float32)

    a_shape = cfg.a_shape

    def run(a, b=None, c=None):
        a = a.reshape(a_shape)
        pa = kg.PackedA(a.T if cfg.trans_a else a)
        if bp is not None:
            bb = bp
        else:
            bb = np.ascontiguousarray(b.T if cfg.trans_b else b, dtype=np.float32)
        y = kg.gemm(pa, bb, np.empty((cfg.m, cfg.n), np.float32), width)
        if bp is None and cfg.alpha != 1.0:
            y *= np.float32(cfg.alpha)
        if cp is not None:
            y += cp
        elif use_c:
            y += c if cfg.beta == 1.0 else c * np.float32(cfg.beta)
        return (apply_epilogue(y, epilogue),)

    return run


def _row_bias(cfg: GemmConfig) -> bool:
    """C broadcasts along the rows of Y (shape (), (1,), (n,), (1, n) or (1, 1)): one value per column."""
    return len(cfg.c_shape) < 2 or cfg.c_shape[0] == 1


def _prefer_rows(cfg: GemmConfig, platform) -> bool:
    """Constant weights and few rows, or weights small enough to stay in L2 (k * n <= 128 K floats). Measured at
    2 threads (us, gemm_rows / panel kernel): 8x400x120 21 / 64, 8x120x84 5 / 50, 32x400x120 43 / 92, 64x512x128
    83 / 148; but 8x2048x1000 317 / 262, 16x2048x1000 824 / 385 (streaming B once per row block loses)."""
    return cfg.b_const and (cfg.m < 6 or cfg.k * cfg.n <= 1 << 17)


@register_kernel("Gemm", "gemm_rows_f32", priority=20, supports=_f32, prefer=_prefer_rows)
def gemm_rows_f32(cfg: GemmConfig, platform, b_const=None, c_const=None, epilogue: Epilogue = NO_EPILOGUE):
    """float32 on the small-M kernel (kernels/numba/gemm.py, `gemm_rows_f32`): the choice for fewer than 6 rows
    (Gemm at batch 1-5) with constant weights, runs anything. B' (alpha folded, columns padded to a multiple of
    16) and beta * C are laid out at plan time when constant: C along N is the kernel's bias, any other C a
    residual (m, n) added before the activation; A is read in place (transposed per call with transA, a view for
    one row). One kernel call writes the planned output: LeNet's 1 x 400 @ 400 x 120 + bias takes 2.7 us a call
    against 15.5 us through the panel kernel (A packed per call, C added in a second pass, width token unboxing)."""
    m, k, n = cfg.m, cfg.k, cfg.n
    ldb = -(-n // 16) * 16
    alpha, beta = np.float32(cfg.alpha), np.float32(cfg.beta)
    use_c = cfg.c_shape is not None and cfg.beta != 0.0
    row_c = use_c and _row_bias(cfg)
    has_res = use_c and not row_c
    kind, ea, eb = epilogue.args
    a_shape, trans_a = cfg.a_shape, cfg.trans_a
    parallel = m * k * n >= 1_000_000   # a parallel region costs a few us: only for products well above that

    def pack_b(b, bp):
        bp[:, :n] = b.T if cfg.trans_b else b
        if cfg.alpha != 1.0:
            bp[:, :n] *= alpha
        return kg.pack_rows_b(bp)

    def c_terms(c, bias, res):
        if row_c:
            bias[:n] = np.asarray(c, np.float32).reshape(-1) * beta
        elif has_res:
            np.multiply(np.broadcast_to(c, (m, n)), beta, out=res)

    bp = None if b_const is None else pack_b(b_const, np.zeros((k, ldb), np.float32))
    bias = np.zeros(ldb, np.float32)
    res = np.zeros((m, n) if has_res else 1, np.float32)
    c_fed = use_c and c_const is None
    if use_c and c_const is not None:
        c_terms(c_const, bias, res)

    rows_par, rows_ser = bound(kg.gemm_rows_par_f32), bound(kg.gemm_rows_f32)

    @accepts_out
    def run(a, b=None, c=None, out=None):
        y = output(out, (m, n))
        a = np.ascontiguousarray(a)      # bound kernels take the types of their first call (kernels/numba/bound.py)
        if trans_a:
            a = np.ascontiguousarray(a.reshape(a_shape).T)   # a view when m == 1
        bb = bp if bp is not None else pack_b(b, np.zeros((k, ldb), np.float32))
        bs, rs = bias, res
        if c_fed:
            bs, rs = np.zeros(ldb, np.float32), np.empty(res.shape, np.float32)
            c_terms(c, bs, rs)
        # the kernel reads every array by flat offsets: A of any rank (a fused Flatten's input) as it is
        if parallel:
            rows_par(a, bb, bs, rs, y, m, k, n, ldb, has_res, kind, ea, eb, min(get_num_threads(), -(-ldb // 64)))
        else:
            rows_ser(a, bb, bs, rs, y, m, k, n, ldb, has_res, kind, ea, eb)
        return (y,)

    return run


def _matmul_as_gemm(cfg: MatMulConfig) -> GemmConfig | None:
    """The Gemm of a MatMul whose B is a constant 2-D matrix: A's stack of rows (rows, k) @ B (k, n)."""
    if not (cfg.b_const and len(cfg.b_shape) == 2 and len(cfg.a_shape) >= 2):
        return None
    k, n = cfg.b_shape
    return GemmConfig("float32", int(np.prod(cfg.a_shape[:-1])), k, n, False, False, 1.0, 0.0, None, True)


@register_kernel("MatMul", "matmul_rows_f32", priority=20,
                 supports=lambda cfg, platform: _f32(cfg, platform) and _matmul_as_gemm(cfg) is not None,
                 prefer=lambda cfg, platform: _prefer_rows(_matmul_as_gemm(cfg), platform))
def matmul_rows_f32(cfg: MatMulConfig, platform, b_const=None):
    """A MatMul with constant 2-D weights on the Gemm op's small-M kernel (gemm_rows_f32: B laid out once, A
    read in place): PP-OCR's classifier head, 1 x 200 @ 200 x 2, took 53 us through the panel kernel (A packed
    per call) against onnxruntime's 4."""
    gemm = gemm_rows_f32(_matmul_as_gemm(cfg), platform, b_const)

    @accepts_out
    def run(a, b=None, out=None):
        y = output(out, cfg.out_shape)
        gemm(a, out=(y.reshape(-1, cfg.b_shape[1]),))
        return (y,)

    return run


@register_kernel("MatMul", "matmul_simd_f32", priority=10, supports=_f32)
def matmul_simd_f32(cfg: MatMulConfig, platform, b_const=None):
    """float32 on the packed SIMD GEMM, numpy.matmul semantics. A 2-D B (weights) meets the whole stack of A
    as one (batch * m, k) @ (k, n) product; otherwise one product per broadcast batch item."""
    width = platform.simd_width
    sa, sb = cfg.a_shape, cfg.b_shape
    a3 = (1, *sa) if len(sa) == 1 else sa
    b3 = (*sb, 1) if len(sb) == 1 else sb
    m, k, n = a3[-2], a3[-1], b3[-1]
    batch = np.broadcast_shapes(a3[:-2], b3[:-2])
    items = int(np.prod(batch))
    fold = len(b3) == 2  # B shared by every item: stack A's rows
    bp = None if b_const is None else np.ascontiguousarray(np.asarray(b_const, np.float32).reshape(b3))

    def run(a, b=None):
        bb = bp if bp is not None else np.asarray(b, np.float32).reshape(b3)
        aa = np.asarray(a, np.float32).reshape(a3)
        if fold:
            rows = int(np.prod(a3[:-1]))
            y = kg.gemm(kg.PackedA(aa.reshape(rows, k)), np.ascontiguousarray(bb), np.empty((rows, n), np.float32),
                        width)
            return (y.reshape(cfg.out_shape),)
        ab = np.broadcast_to(aa, (*batch, m, k)).reshape(items, m, k)
        bb = np.ascontiguousarray(np.broadcast_to(bb, (*batch, k, n))).reshape(items, k, n)
        y = np.empty((items, m, n), np.float32)
        for t in range(items):
            kg.gemm(kg.PackedA(ab[t]), bb[t], y[t], width)
        return (y.reshape(cfg.out_shape),)

    return run
