"""Packed, register-blocked SGEMM on the SIMD layer: C = act(A @ B + bias_row [+ R]), multithreaded.

Used by every GEMM-shaped kernel (1x1 convolutions, im2col convolutions, Gemm / MatMul, ConvTranspose), so
that fastconv runs no BLAS call on its hot paths: numpy's OpenBLAS keeps a thread pool of its own, which
`num_threads` cannot bound and whose spinning workers starved Numba's (see docs/KERNELS.md, "threads").

Layout. A is packed once (weights) or per call (activations) into row panels (ceil(M/MR), K, MR) by
`layout.pack_gemm_a`, so the MR values one k step broadcasts are adjacent. B is used in place, row-major
(K, N) with a row stride `ldb`: each k step loads NV consecutive vectors of B's row k. For a convolution B is
the NCHW input itself (K = input channels, N = pixels), or the im2col column buffer, and C is the NCHW
output: no layout conversion at all. C rows have their own stride `ldc` and offset, so a band of an output
image can be written in place. The optional residual R is read at C's offsets.

Micro-kernel `_gMRxNV` (generated source, like conv_nchwc's tiles): MR rows x NV vectors of W columns, MR*NV
accumulators in vector registers; per k step NV vector loads of B, MR broadcast loads of A (folded into the
FMAs on AVX-512), MR*NV FMAs. 6 x 4 at W = 16 (24 zmm accumulators + 4 B vectors of 32 registers), 6 x 2 at
W = 8 (12 ymm + 2 of 16 on AVX2); 1-row tiles for a GEMV-like A (Gemm at batch 1). Column tails: the whole
vectors left after the last full panel in one tile of NV = 1-3 (a 7x7 map's 49 pixels: one 6x3 tile plus
the tail), the last N % W columns through a zero-padded copy. Row tails: A's panel is
zero-padded and only the valid rows are stored. Work: prange over (batch x row-panel chunk per thread x
column tasks x row panels), so that threads get equal shares and consecutive tasks share B's panel in cache.

Tiles are generated: edit `emit_tiles` and run `python -m fastconv.kernels.numba.gemm`.
"""
from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from fastconv.kernels.numba import layout
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.codegen import regenerate
from fastconv.kernels.numba.conv_nchwc import _bload
from fastconv.kernels.numba.epilogue import (
    CHEAP,
    NO_EPILOGUE,
    NO_RESIDUAL,
    Epilogue,
    activate,
    activate_block,
    activate_cheap,
)
from fastconv.kernels.numba.simd import lanes, vadd, vbroadcast, vfma, vload, vload_n, vstore, vstore_n, width_token

TILES = ((6, 4), (6, 3), (6, 2), (6, 1), (1, 4), (1, 3), (1, 2), (1, 1))  # (MR, NV) pairs the driver uses



def emit_tile(mr: int, nv: int) -> str:
    L = []
    a = L.append
    acc = [[f"c{i}_{v}" for v in range(nv)] for i in range(mr)]
    a("@njit(cache=True, nogil=True)")
    a(f"def _g{mr}x{nv}(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):")
    a(f'    """C rows m0.. (mvalid of {mr}) x {nv} vectors of columns = A panel @ B + bias; fused epilogue."""')
    a("    n = lanes(w)")
    for i in range(mr):
        a(f"    c{i}_0 = vbroadcast(bias[m0 + {i}], w)")
        for v in range(1, nv):
            a(f"    c{i}_{v} = c{i}_0")
    a("    ai = a0")
    a("    bi = b0")
    a("    for k in range(kk):")
    for v in range(nv):
        a(f"        b{v} = vload(b, bi{' + ' + str(v) + ' * n' if v else ''}, w)")
    for i in range(mr):
        a(f"        x{i} = _bload(ap, ai{' + ' + str(i) if i else ''}, w)")
        for v in range(nv):
            a(f"        {acc[i][v]} = vfma(x{i}, b{v}, {acc[i][v]})")
    a(f"        ai += {mr}")
    a("        bi += ldb")
    for i in range(mr):
        ind = "    "
        if i:
            a(f"    if mvalid > {i}:")
            ind = "        "
        row = f"c0 + {i} * ldc" if i else "c0"
        for v in range(nv):
            off = f"{row} + {v} * n" if v else row
            a(f"{ind}if has_res:")
            a(f"{ind}    {acc[i][v]} = vadd({acc[i][v]}, vload(rf, {off}, w))")
            a(f"{ind}vstore(c, {off}, activate_cheap({acc[i][v]}, kind, alpha, beta))")
    a("    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time")
    a(f"        activate_block(c, c0, ldc, min(mvalid, {mr}), {nv} * n, kind, alpha, beta, w)")
    return "\n".join(L) + "\n"


def emit_tiles(tiles=TILES) -> str:
    return "\n\n".join(emit_tile(mr, nv) for mr, nv in tiles)


# ---- generated code (emitted by this module's emit function): do not edit by hand ----
@njit(cache=True, nogil=True)
def _g6x4(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 6) x 4 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    c0_1 = c0_0
    c0_2 = c0_0
    c0_3 = c0_0
    c1_0 = vbroadcast(bias[m0 + 1], w)
    c1_1 = c1_0
    c1_2 = c1_0
    c1_3 = c1_0
    c2_0 = vbroadcast(bias[m0 + 2], w)
    c2_1 = c2_0
    c2_2 = c2_0
    c2_3 = c2_0
    c3_0 = vbroadcast(bias[m0 + 3], w)
    c3_1 = c3_0
    c3_2 = c3_0
    c3_3 = c3_0
    c4_0 = vbroadcast(bias[m0 + 4], w)
    c4_1 = c4_0
    c4_2 = c4_0
    c4_3 = c4_0
    c5_0 = vbroadcast(bias[m0 + 5], w)
    c5_1 = c5_0
    c5_2 = c5_0
    c5_3 = c5_0
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        b1 = vload(b, bi + 1 * n, w)
        b2 = vload(b, bi + 2 * n, w)
        b3 = vload(b, bi + 3 * n, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        c0_1 = vfma(x0, b1, c0_1)
        c0_2 = vfma(x0, b2, c0_2)
        c0_3 = vfma(x0, b3, c0_3)
        x1 = _bload(ap, ai + 1, w)
        c1_0 = vfma(x1, b0, c1_0)
        c1_1 = vfma(x1, b1, c1_1)
        c1_2 = vfma(x1, b2, c1_2)
        c1_3 = vfma(x1, b3, c1_3)
        x2 = _bload(ap, ai + 2, w)
        c2_0 = vfma(x2, b0, c2_0)
        c2_1 = vfma(x2, b1, c2_1)
        c2_2 = vfma(x2, b2, c2_2)
        c2_3 = vfma(x2, b3, c2_3)
        x3 = _bload(ap, ai + 3, w)
        c3_0 = vfma(x3, b0, c3_0)
        c3_1 = vfma(x3, b1, c3_1)
        c3_2 = vfma(x3, b2, c3_2)
        c3_3 = vfma(x3, b3, c3_3)
        x4 = _bload(ap, ai + 4, w)
        c4_0 = vfma(x4, b0, c4_0)
        c4_1 = vfma(x4, b1, c4_1)
        c4_2 = vfma(x4, b2, c4_2)
        c4_3 = vfma(x4, b3, c4_3)
        x5 = _bload(ap, ai + 5, w)
        c5_0 = vfma(x5, b0, c5_0)
        c5_1 = vfma(x5, b1, c5_1)
        c5_2 = vfma(x5, b2, c5_2)
        c5_3 = vfma(x5, b3, c5_3)
        ai += 6
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if has_res:
        c0_1 = vadd(c0_1, vload(rf, c0 + 1 * n, w))
    vstore(c, c0 + 1 * n, activate_cheap(c0_1, kind, alpha, beta))
    if has_res:
        c0_2 = vadd(c0_2, vload(rf, c0 + 2 * n, w))
    vstore(c, c0 + 2 * n, activate_cheap(c0_2, kind, alpha, beta))
    if has_res:
        c0_3 = vadd(c0_3, vload(rf, c0 + 3 * n, w))
    vstore(c, c0 + 3 * n, activate_cheap(c0_3, kind, alpha, beta))
    if mvalid > 1:
        if has_res:
            c1_0 = vadd(c1_0, vload(rf, c0 + 1 * ldc, w))
        vstore(c, c0 + 1 * ldc, activate_cheap(c1_0, kind, alpha, beta))
        if has_res:
            c1_1 = vadd(c1_1, vload(rf, c0 + 1 * ldc + 1 * n, w))
        vstore(c, c0 + 1 * ldc + 1 * n, activate_cheap(c1_1, kind, alpha, beta))
        if has_res:
            c1_2 = vadd(c1_2, vload(rf, c0 + 1 * ldc + 2 * n, w))
        vstore(c, c0 + 1 * ldc + 2 * n, activate_cheap(c1_2, kind, alpha, beta))
        if has_res:
            c1_3 = vadd(c1_3, vload(rf, c0 + 1 * ldc + 3 * n, w))
        vstore(c, c0 + 1 * ldc + 3 * n, activate_cheap(c1_3, kind, alpha, beta))
    if mvalid > 2:
        if has_res:
            c2_0 = vadd(c2_0, vload(rf, c0 + 2 * ldc, w))
        vstore(c, c0 + 2 * ldc, activate_cheap(c2_0, kind, alpha, beta))
        if has_res:
            c2_1 = vadd(c2_1, vload(rf, c0 + 2 * ldc + 1 * n, w))
        vstore(c, c0 + 2 * ldc + 1 * n, activate_cheap(c2_1, kind, alpha, beta))
        if has_res:
            c2_2 = vadd(c2_2, vload(rf, c0 + 2 * ldc + 2 * n, w))
        vstore(c, c0 + 2 * ldc + 2 * n, activate_cheap(c2_2, kind, alpha, beta))
        if has_res:
            c2_3 = vadd(c2_3, vload(rf, c0 + 2 * ldc + 3 * n, w))
        vstore(c, c0 + 2 * ldc + 3 * n, activate_cheap(c2_3, kind, alpha, beta))
    if mvalid > 3:
        if has_res:
            c3_0 = vadd(c3_0, vload(rf, c0 + 3 * ldc, w))
        vstore(c, c0 + 3 * ldc, activate_cheap(c3_0, kind, alpha, beta))
        if has_res:
            c3_1 = vadd(c3_1, vload(rf, c0 + 3 * ldc + 1 * n, w))
        vstore(c, c0 + 3 * ldc + 1 * n, activate_cheap(c3_1, kind, alpha, beta))
        if has_res:
            c3_2 = vadd(c3_2, vload(rf, c0 + 3 * ldc + 2 * n, w))
        vstore(c, c0 + 3 * ldc + 2 * n, activate_cheap(c3_2, kind, alpha, beta))
        if has_res:
            c3_3 = vadd(c3_3, vload(rf, c0 + 3 * ldc + 3 * n, w))
        vstore(c, c0 + 3 * ldc + 3 * n, activate_cheap(c3_3, kind, alpha, beta))
    if mvalid > 4:
        if has_res:
            c4_0 = vadd(c4_0, vload(rf, c0 + 4 * ldc, w))
        vstore(c, c0 + 4 * ldc, activate_cheap(c4_0, kind, alpha, beta))
        if has_res:
            c4_1 = vadd(c4_1, vload(rf, c0 + 4 * ldc + 1 * n, w))
        vstore(c, c0 + 4 * ldc + 1 * n, activate_cheap(c4_1, kind, alpha, beta))
        if has_res:
            c4_2 = vadd(c4_2, vload(rf, c0 + 4 * ldc + 2 * n, w))
        vstore(c, c0 + 4 * ldc + 2 * n, activate_cheap(c4_2, kind, alpha, beta))
        if has_res:
            c4_3 = vadd(c4_3, vload(rf, c0 + 4 * ldc + 3 * n, w))
        vstore(c, c0 + 4 * ldc + 3 * n, activate_cheap(c4_3, kind, alpha, beta))
    if mvalid > 5:
        if has_res:
            c5_0 = vadd(c5_0, vload(rf, c0 + 5 * ldc, w))
        vstore(c, c0 + 5 * ldc, activate_cheap(c5_0, kind, alpha, beta))
        if has_res:
            c5_1 = vadd(c5_1, vload(rf, c0 + 5 * ldc + 1 * n, w))
        vstore(c, c0 + 5 * ldc + 1 * n, activate_cheap(c5_1, kind, alpha, beta))
        if has_res:
            c5_2 = vadd(c5_2, vload(rf, c0 + 5 * ldc + 2 * n, w))
        vstore(c, c0 + 5 * ldc + 2 * n, activate_cheap(c5_2, kind, alpha, beta))
        if has_res:
            c5_3 = vadd(c5_3, vload(rf, c0 + 5 * ldc + 3 * n, w))
        vstore(c, c0 + 5 * ldc + 3 * n, activate_cheap(c5_3, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 6), 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _g6x3(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 6) x 3 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    c0_1 = c0_0
    c0_2 = c0_0
    c1_0 = vbroadcast(bias[m0 + 1], w)
    c1_1 = c1_0
    c1_2 = c1_0
    c2_0 = vbroadcast(bias[m0 + 2], w)
    c2_1 = c2_0
    c2_2 = c2_0
    c3_0 = vbroadcast(bias[m0 + 3], w)
    c3_1 = c3_0
    c3_2 = c3_0
    c4_0 = vbroadcast(bias[m0 + 4], w)
    c4_1 = c4_0
    c4_2 = c4_0
    c5_0 = vbroadcast(bias[m0 + 5], w)
    c5_1 = c5_0
    c5_2 = c5_0
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        b1 = vload(b, bi + 1 * n, w)
        b2 = vload(b, bi + 2 * n, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        c0_1 = vfma(x0, b1, c0_1)
        c0_2 = vfma(x0, b2, c0_2)
        x1 = _bload(ap, ai + 1, w)
        c1_0 = vfma(x1, b0, c1_0)
        c1_1 = vfma(x1, b1, c1_1)
        c1_2 = vfma(x1, b2, c1_2)
        x2 = _bload(ap, ai + 2, w)
        c2_0 = vfma(x2, b0, c2_0)
        c2_1 = vfma(x2, b1, c2_1)
        c2_2 = vfma(x2, b2, c2_2)
        x3 = _bload(ap, ai + 3, w)
        c3_0 = vfma(x3, b0, c3_0)
        c3_1 = vfma(x3, b1, c3_1)
        c3_2 = vfma(x3, b2, c3_2)
        x4 = _bload(ap, ai + 4, w)
        c4_0 = vfma(x4, b0, c4_0)
        c4_1 = vfma(x4, b1, c4_1)
        c4_2 = vfma(x4, b2, c4_2)
        x5 = _bload(ap, ai + 5, w)
        c5_0 = vfma(x5, b0, c5_0)
        c5_1 = vfma(x5, b1, c5_1)
        c5_2 = vfma(x5, b2, c5_2)
        ai += 6
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if has_res:
        c0_1 = vadd(c0_1, vload(rf, c0 + 1 * n, w))
    vstore(c, c0 + 1 * n, activate_cheap(c0_1, kind, alpha, beta))
    if has_res:
        c0_2 = vadd(c0_2, vload(rf, c0 + 2 * n, w))
    vstore(c, c0 + 2 * n, activate_cheap(c0_2, kind, alpha, beta))
    if mvalid > 1:
        if has_res:
            c1_0 = vadd(c1_0, vload(rf, c0 + 1 * ldc, w))
        vstore(c, c0 + 1 * ldc, activate_cheap(c1_0, kind, alpha, beta))
        if has_res:
            c1_1 = vadd(c1_1, vload(rf, c0 + 1 * ldc + 1 * n, w))
        vstore(c, c0 + 1 * ldc + 1 * n, activate_cheap(c1_1, kind, alpha, beta))
        if has_res:
            c1_2 = vadd(c1_2, vload(rf, c0 + 1 * ldc + 2 * n, w))
        vstore(c, c0 + 1 * ldc + 2 * n, activate_cheap(c1_2, kind, alpha, beta))
    if mvalid > 2:
        if has_res:
            c2_0 = vadd(c2_0, vload(rf, c0 + 2 * ldc, w))
        vstore(c, c0 + 2 * ldc, activate_cheap(c2_0, kind, alpha, beta))
        if has_res:
            c2_1 = vadd(c2_1, vload(rf, c0 + 2 * ldc + 1 * n, w))
        vstore(c, c0 + 2 * ldc + 1 * n, activate_cheap(c2_1, kind, alpha, beta))
        if has_res:
            c2_2 = vadd(c2_2, vload(rf, c0 + 2 * ldc + 2 * n, w))
        vstore(c, c0 + 2 * ldc + 2 * n, activate_cheap(c2_2, kind, alpha, beta))
    if mvalid > 3:
        if has_res:
            c3_0 = vadd(c3_0, vload(rf, c0 + 3 * ldc, w))
        vstore(c, c0 + 3 * ldc, activate_cheap(c3_0, kind, alpha, beta))
        if has_res:
            c3_1 = vadd(c3_1, vload(rf, c0 + 3 * ldc + 1 * n, w))
        vstore(c, c0 + 3 * ldc + 1 * n, activate_cheap(c3_1, kind, alpha, beta))
        if has_res:
            c3_2 = vadd(c3_2, vload(rf, c0 + 3 * ldc + 2 * n, w))
        vstore(c, c0 + 3 * ldc + 2 * n, activate_cheap(c3_2, kind, alpha, beta))
    if mvalid > 4:
        if has_res:
            c4_0 = vadd(c4_0, vload(rf, c0 + 4 * ldc, w))
        vstore(c, c0 + 4 * ldc, activate_cheap(c4_0, kind, alpha, beta))
        if has_res:
            c4_1 = vadd(c4_1, vload(rf, c0 + 4 * ldc + 1 * n, w))
        vstore(c, c0 + 4 * ldc + 1 * n, activate_cheap(c4_1, kind, alpha, beta))
        if has_res:
            c4_2 = vadd(c4_2, vload(rf, c0 + 4 * ldc + 2 * n, w))
        vstore(c, c0 + 4 * ldc + 2 * n, activate_cheap(c4_2, kind, alpha, beta))
    if mvalid > 5:
        if has_res:
            c5_0 = vadd(c5_0, vload(rf, c0 + 5 * ldc, w))
        vstore(c, c0 + 5 * ldc, activate_cheap(c5_0, kind, alpha, beta))
        if has_res:
            c5_1 = vadd(c5_1, vload(rf, c0 + 5 * ldc + 1 * n, w))
        vstore(c, c0 + 5 * ldc + 1 * n, activate_cheap(c5_1, kind, alpha, beta))
        if has_res:
            c5_2 = vadd(c5_2, vload(rf, c0 + 5 * ldc + 2 * n, w))
        vstore(c, c0 + 5 * ldc + 2 * n, activate_cheap(c5_2, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 6), 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _g6x2(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 6) x 2 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    c0_1 = c0_0
    c1_0 = vbroadcast(bias[m0 + 1], w)
    c1_1 = c1_0
    c2_0 = vbroadcast(bias[m0 + 2], w)
    c2_1 = c2_0
    c3_0 = vbroadcast(bias[m0 + 3], w)
    c3_1 = c3_0
    c4_0 = vbroadcast(bias[m0 + 4], w)
    c4_1 = c4_0
    c5_0 = vbroadcast(bias[m0 + 5], w)
    c5_1 = c5_0
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        b1 = vload(b, bi + 1 * n, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        c0_1 = vfma(x0, b1, c0_1)
        x1 = _bload(ap, ai + 1, w)
        c1_0 = vfma(x1, b0, c1_0)
        c1_1 = vfma(x1, b1, c1_1)
        x2 = _bload(ap, ai + 2, w)
        c2_0 = vfma(x2, b0, c2_0)
        c2_1 = vfma(x2, b1, c2_1)
        x3 = _bload(ap, ai + 3, w)
        c3_0 = vfma(x3, b0, c3_0)
        c3_1 = vfma(x3, b1, c3_1)
        x4 = _bload(ap, ai + 4, w)
        c4_0 = vfma(x4, b0, c4_0)
        c4_1 = vfma(x4, b1, c4_1)
        x5 = _bload(ap, ai + 5, w)
        c5_0 = vfma(x5, b0, c5_0)
        c5_1 = vfma(x5, b1, c5_1)
        ai += 6
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if has_res:
        c0_1 = vadd(c0_1, vload(rf, c0 + 1 * n, w))
    vstore(c, c0 + 1 * n, activate_cheap(c0_1, kind, alpha, beta))
    if mvalid > 1:
        if has_res:
            c1_0 = vadd(c1_0, vload(rf, c0 + 1 * ldc, w))
        vstore(c, c0 + 1 * ldc, activate_cheap(c1_0, kind, alpha, beta))
        if has_res:
            c1_1 = vadd(c1_1, vload(rf, c0 + 1 * ldc + 1 * n, w))
        vstore(c, c0 + 1 * ldc + 1 * n, activate_cheap(c1_1, kind, alpha, beta))
    if mvalid > 2:
        if has_res:
            c2_0 = vadd(c2_0, vload(rf, c0 + 2 * ldc, w))
        vstore(c, c0 + 2 * ldc, activate_cheap(c2_0, kind, alpha, beta))
        if has_res:
            c2_1 = vadd(c2_1, vload(rf, c0 + 2 * ldc + 1 * n, w))
        vstore(c, c0 + 2 * ldc + 1 * n, activate_cheap(c2_1, kind, alpha, beta))
    if mvalid > 3:
        if has_res:
            c3_0 = vadd(c3_0, vload(rf, c0 + 3 * ldc, w))
        vstore(c, c0 + 3 * ldc, activate_cheap(c3_0, kind, alpha, beta))
        if has_res:
            c3_1 = vadd(c3_1, vload(rf, c0 + 3 * ldc + 1 * n, w))
        vstore(c, c0 + 3 * ldc + 1 * n, activate_cheap(c3_1, kind, alpha, beta))
    if mvalid > 4:
        if has_res:
            c4_0 = vadd(c4_0, vload(rf, c0 + 4 * ldc, w))
        vstore(c, c0 + 4 * ldc, activate_cheap(c4_0, kind, alpha, beta))
        if has_res:
            c4_1 = vadd(c4_1, vload(rf, c0 + 4 * ldc + 1 * n, w))
        vstore(c, c0 + 4 * ldc + 1 * n, activate_cheap(c4_1, kind, alpha, beta))
    if mvalid > 5:
        if has_res:
            c5_0 = vadd(c5_0, vload(rf, c0 + 5 * ldc, w))
        vstore(c, c0 + 5 * ldc, activate_cheap(c5_0, kind, alpha, beta))
        if has_res:
            c5_1 = vadd(c5_1, vload(rf, c0 + 5 * ldc + 1 * n, w))
        vstore(c, c0 + 5 * ldc + 1 * n, activate_cheap(c5_1, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 6), 2 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _g6x1(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 6) x 1 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    c1_0 = vbroadcast(bias[m0 + 1], w)
    c2_0 = vbroadcast(bias[m0 + 2], w)
    c3_0 = vbroadcast(bias[m0 + 3], w)
    c4_0 = vbroadcast(bias[m0 + 4], w)
    c5_0 = vbroadcast(bias[m0 + 5], w)
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        x1 = _bload(ap, ai + 1, w)
        c1_0 = vfma(x1, b0, c1_0)
        x2 = _bload(ap, ai + 2, w)
        c2_0 = vfma(x2, b0, c2_0)
        x3 = _bload(ap, ai + 3, w)
        c3_0 = vfma(x3, b0, c3_0)
        x4 = _bload(ap, ai + 4, w)
        c4_0 = vfma(x4, b0, c4_0)
        x5 = _bload(ap, ai + 5, w)
        c5_0 = vfma(x5, b0, c5_0)
        ai += 6
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if mvalid > 1:
        if has_res:
            c1_0 = vadd(c1_0, vload(rf, c0 + 1 * ldc, w))
        vstore(c, c0 + 1 * ldc, activate_cheap(c1_0, kind, alpha, beta))
    if mvalid > 2:
        if has_res:
            c2_0 = vadd(c2_0, vload(rf, c0 + 2 * ldc, w))
        vstore(c, c0 + 2 * ldc, activate_cheap(c2_0, kind, alpha, beta))
    if mvalid > 3:
        if has_res:
            c3_0 = vadd(c3_0, vload(rf, c0 + 3 * ldc, w))
        vstore(c, c0 + 3 * ldc, activate_cheap(c3_0, kind, alpha, beta))
    if mvalid > 4:
        if has_res:
            c4_0 = vadd(c4_0, vload(rf, c0 + 4 * ldc, w))
        vstore(c, c0 + 4 * ldc, activate_cheap(c4_0, kind, alpha, beta))
    if mvalid > 5:
        if has_res:
            c5_0 = vadd(c5_0, vload(rf, c0 + 5 * ldc, w))
        vstore(c, c0 + 5 * ldc, activate_cheap(c5_0, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 6), 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _g1x4(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 1) x 4 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    c0_1 = c0_0
    c0_2 = c0_0
    c0_3 = c0_0
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        b1 = vload(b, bi + 1 * n, w)
        b2 = vload(b, bi + 2 * n, w)
        b3 = vload(b, bi + 3 * n, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        c0_1 = vfma(x0, b1, c0_1)
        c0_2 = vfma(x0, b2, c0_2)
        c0_3 = vfma(x0, b3, c0_3)
        ai += 1
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if has_res:
        c0_1 = vadd(c0_1, vload(rf, c0 + 1 * n, w))
    vstore(c, c0 + 1 * n, activate_cheap(c0_1, kind, alpha, beta))
    if has_res:
        c0_2 = vadd(c0_2, vload(rf, c0 + 2 * n, w))
    vstore(c, c0 + 2 * n, activate_cheap(c0_2, kind, alpha, beta))
    if has_res:
        c0_3 = vadd(c0_3, vload(rf, c0 + 3 * n, w))
    vstore(c, c0 + 3 * n, activate_cheap(c0_3, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 1), 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _g1x3(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 1) x 3 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    c0_1 = c0_0
    c0_2 = c0_0
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        b1 = vload(b, bi + 1 * n, w)
        b2 = vload(b, bi + 2 * n, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        c0_1 = vfma(x0, b1, c0_1)
        c0_2 = vfma(x0, b2, c0_2)
        ai += 1
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if has_res:
        c0_1 = vadd(c0_1, vload(rf, c0 + 1 * n, w))
    vstore(c, c0 + 1 * n, activate_cheap(c0_1, kind, alpha, beta))
    if has_res:
        c0_2 = vadd(c0_2, vload(rf, c0 + 2 * n, w))
    vstore(c, c0 + 2 * n, activate_cheap(c0_2, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 1), 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _g1x2(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 1) x 2 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    c0_1 = c0_0
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        b1 = vload(b, bi + 1 * n, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        c0_1 = vfma(x0, b1, c0_1)
        ai += 1
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if has_res:
        c0_1 = vadd(c0_1, vload(rf, c0 + 1 * n, w))
    vstore(c, c0 + 1 * n, activate_cheap(c0_1, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 1), 2 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _g1x1(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    """C rows m0.. (mvalid of 1) x 1 vectors of columns = A panel @ B + bias; fused epilogue."""
    n = lanes(w)
    c0_0 = vbroadcast(bias[m0 + 0], w)
    ai = a0
    bi = b0
    for k in range(kk):
        b0 = vload(b, bi, w)
        x0 = _bload(ap, ai, w)
        c0_0 = vfma(x0, b0, c0_0)
        ai += 1
        bi += ldb
    if has_res:
        c0_0 = vadd(c0_0, vload(rf, c0, w))
    vstore(c, c0, activate_cheap(c0_0, kind, alpha, beta))
    if kind > CHEAP:  # the exp-based activations over the stored tile: inlined, 2x compile time
        activate_block(c, c0, ldc, min(mvalid, 1), 1 * n, kind, alpha, beta, w)
# ---- end of generated code ----


@njit(cache=True, nogil=True, inline="always")
def _tile(mr, nv, ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w):
    if mr == 6:
        if nv == 4:
            _g6x4(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)
        elif nv == 3:
            _g6x3(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)
        elif nv == 2:
            _g6x2(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)
        else:
            _g6x1(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)
    else:
        if nv == 4:
            _g1x4(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)
        elif nv == 3:
            _g1x3(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)
        elif nv == 2:
            _g1x2(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)
        else:
            _g1x1(ap, a0, b, b0, ldb, c, c0, ldc, kk, bias, m0, mvalid, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True, inline="always")
def _gemm(ap, m, b, b_off, b_bstride, ldb, c, c_off, c_bstride, ldc, n_cols, nb, ng, b_gstride, c_gstride, bias,
          res, has_res, kind, alpha, beta, nthreads, w):
    """The body of gemm_f32 (a parfor once inlined there) and of gemm_serial_f32 (where prange is a plain loop).
    For each of nb batch items t and ng groups g: C_tg (m, n_cols) = act(A_g @ B_tg + bias_g [+ R_tg]).

    ap (ng * Mq, K, MR): the groups' packed A stacked (MR 6 or 1); bias (ng * Mq * MR,) likewise; b, c, res flat
    float32; B_tg row k at b[b_off + t*b_bstride + g*b_gstride + k*ldb], C_tg row i at
    c[c_off + t*c_bstride + g*c_gstride + i*ldc] (R_tg likewise in res when has_res). All items and groups are
    one parallel loop: a grouped 1x1 conv is one call (one call per group cost 3-10 us each in dispatch and
    thread wake-up: ShuffleNet's layers are a few us of FMAs). nthreads: numba.get_num_threads() of the caller
    (read outside: inside, it would make the function uncacheable)."""
    n = lanes(w)
    nv = 4 if n == 16 else 2
    kk, mr = ap.shape[1], ap.shape[2]
    mq = ap.shape[0] // ng
    items = nb * ng
    apf = ap.reshape(-1)
    panel = nv * n
    full = n_cols // panel
    rem_vec = (n_cols - full * panel) // n
    tail = n_cols - full * panel - rem_vec * n
    # column tasks: `full` panels of nv vectors, one task for the remaining whole vectors, one for the tail
    ncol_tasks = full + (1 if rem_vec else 0) + (1 if tail else 0)
    tail0 = n_cols - tail
    # the last `tail` (< W) columns: zero-padded copies of B (and R), results through a scratch C
    bt = np.zeros((items, kk, n), np.float32)
    ct = np.empty((items, mq * mr, n), np.float32)
    rt = np.zeros((items, mq * mr, n) if has_res else (1, 1, n), np.float32)
    if tail:
        for t in range(items):
            bo = b_off + (t // ng) * b_bstride + (t % ng) * b_gstride
            co = c_off + (t // ng) * c_bstride + (t % ng) * c_gstride
            for k in range(kk):
                for j in range(tail):
                    bt[t, k, j] = b[bo + k * ldb + tail0 + j]
            if has_res:
                for i in range(m):
                    for j in range(tail):
                        rt[t, i, j] = res[co + i * ldc + tail0 + j]
    btf = bt.reshape(-1)
    ctf = ct.reshape(-1)
    rtf = rt.reshape(-1)
    # Task order (item, row-panel chunk, column task, row panel in chunk): prange gives each thread one
    # contiguous range, so with one chunk per thread every thread gets every column task (they differ in
    # cost: full panels, remainder, tail) for its own rows, and consecutive tasks share B's column panel.
    nchunk = max(1, min(nthreads, mq))
    qpc = (mq + nchunk - 1) // nchunk
    for task in prange(items * nchunk * ncol_tasks * qpc):
        t = task // (nchunk * ncol_tasks * qpc)
        r = task % (nchunk * ncol_tasks * qpc)
        chunk = r // (ncol_tasks * qpc)
        cj = (r // qpc) % ncol_tasks
        q = chunk * qpc + r % qpc
        if q >= mq:
            continue
        gi = t % ng
        bo = b_off + (t // ng) * b_bstride + gi * b_gstride
        co = c_off + (t // ng) * c_bstride + gi * c_gstride
        m0 = q * mr
        mvalid = min(mr, m - m0)
        a0 = (gi * mq + q) * kk * mr
        if cj < full or (cj == full and rem_vec):
            col = cj * panel
            tv = nv if cj < full else rem_vec
            _tile(mr, tv, apf, a0, b, bo + col, ldb, c, co + m0 * ldc + col, ldc, kk, bias, gi * mq * mr + m0,
                  mvalid, res, has_res, kind, alpha, beta, w)
        else:
            _tile(mr, 1, apf, a0, btf, t * kk * n, n, ctf, (t * mq * mr + m0) * n, n, kk, bias, gi * mq * mr + m0,
                  mvalid, rtf, has_res, kind, alpha, beta, w)
    if tail:
        for t in range(items):
            co = c_off + (t // ng) * c_bstride + (t % ng) * c_gstride
            for i in range(m):
                for j in range(tail):
                    c[co + i * ldc + tail0 + j] = ct[t, i, j]


@njit(cache=True, parallel=True, nogil=True)
def gemm_f32(ap, m, b, b_off, b_bstride, ldb, c, c_off, c_bstride, ldc, n_cols, nb, ng, b_gstride, c_gstride, bias,
             res, has_res, kind, alpha, beta, nthreads, w):
    """For each of nb batch items t and ng groups g: C_tg (m, n_cols) = act(A_g @ B_tg + bias_g [+ R_tg]),
    on `nthreads` threads: see _gemm (ap, b, c layouts) and gemm_driver (when to use gemm_serial_f32)."""
    _gemm(ap, m, b, b_off, b_bstride, ldb, c, c_off, c_bstride, ldc, n_cols, nb, ng, b_gstride, c_gstride, bias,
          res, has_res, kind, alpha, beta, nthreads, w)


@njit(cache=True, nogil=True)
def gemm_serial_f32(ap, m, b, b_off, b_bstride, ldb, c, c_off, c_bstride, ldc, n_cols, nb, ng, b_gstride, c_gstride,
                    bias, res, has_res, kind, alpha, beta, nthreads, w):
    """gemm_f32 on the calling thread (same arguments; nthreads is ignored)."""
    _gemm(ap, m, b, b_off, b_bstride, ldb, c, c_off, c_bstride, ldc, n_cols, nb, ng, b_gstride, c_gstride, bias,
          res, has_res, kind, alpha, beta, 1, w)


PARALLEL_MACS = 400_000  # products below which a GEMM runs on the calling thread (~4 us at 1 thread)


class gemm_driver:
    """Calls gemm_f32, or gemm_serial_f32 when the product is too small to pay for a parallel region (~3 us to
    open one here, even at one thread) or one thread runs: both bound once (kernels/numba/bound.py)."""

    def __init__(self):
        self._par = bound(gemm_f32)
        self._ser = bound(gemm_serial_f32)

    def __call__(self, ap, m, b, b_off, b_bstride, ldb, c, c_off, c_bstride, ldc, n_cols, nb, ng, b_gstride,
                 c_gstride, bias, res, has_res, kind, alpha, beta, nthreads, w):
        small = m * ap.shape[1] * n_cols * nb * ng < PARALLEL_MACS
        fn = self._ser if small or nthreads == 1 else self._par
        fn(ap, m, b, b_off, b_bstride, ldb, c, c_off, c_bstride, ldc, n_cols, nb, ng, b_gstride, c_gstride, bias,
           res, has_res, kind, alpha, beta, nthreads, w)


def row_panel(m: int) -> int:
    """MR for an A of m rows: 6-row panels, or 1-row panels when A has fewer than 6 rows (GEMV-like)."""
    return 6 if m >= 6 else 1


class PackedA:
    """A (M, K), or one A per group (G, M, K), packed once for `gemm_f32` (weights), with its bias (M,) or
    (G, M) padded to the panel rows; groups stacked along the panels."""

    def __init__(self, a: np.ndarray, bias: np.ndarray | None = None):
        a = np.asarray(a, np.float32)
        a3 = a.reshape(-1, *a.shape[-2:])
        self.groups, self.m, self.k = a3.shape
        self.mr = row_panel(self.m)
        self.panels = np.concatenate([layout.pack_gemm_a(ag, self.mr) for ag in a3])
        mq = self.panels.shape[0] // self.groups
        self.bias = np.zeros((self.groups, mq * self.mr), np.float32)
        if bias is not None:
            self.bias[:, :self.m] = np.asarray(bias, np.float32).reshape(self.groups, self.m)
        self.bias = self.bias.reshape(-1)


def gemm(pa: PackedA, b: np.ndarray, c: np.ndarray, width: int, epilogue: Epilogue = NO_EPILOGUE,
         residual: np.ndarray | None = None) -> np.ndarray:
    """c (nb, M, N) = epilogue(A @ b (nb, K, N) + bias [+ residual (nb, M, N)]); b, c, residual C-contiguous
    float32, or 2-D (K, N) / (M, N) for one item. Returns c."""
    b3 = b.reshape(-1, *b.shape[-2:])
    c3 = c.reshape(-1, *c.shape[-2:])
    nb, k, n_cols = b3.shape
    if k != pa.k or c3.shape != (nb, pa.m, n_cols):
        raise ValueError(f"gemm: A {pa.m}x{pa.k}, B {b.shape}, C {c.shape} do not fit")
    res = NO_RESIDUAL
    if epilogue.residual:
        res = np.ascontiguousarray(residual, np.float32).reshape(-1)
        if res.size != c3.size:
            raise ValueError(f"gemm: residual of {res.size} values for C {c.shape}")
    kind, alpha, beta = epilogue.args
    threads = get_num_threads()
    fn = gemm_serial_f32 if threads == 1 or pa.m * k * n_cols * nb < PARALLEL_MACS else gemm_f32
    fn(pa.panels, pa.m, b3.reshape(-1), 0, k * n_cols, n_cols, c3.reshape(-1), 0, pa.m * n_cols, n_cols, n_cols, nb,
       1, 0, 0, pa.bias, res, epilogue.residual, kind, alpha, beta, threads, width_token(width))
    return c


# Small-M GEMM (Gemm at batch 1-5, where A is a few activation rows and B the layer's weights): Y (m, n) =
# act(A (m, k) @ B' (k, ldb) + bias (ldb,) [+ R (m, n)]). B' is laid out once at plan time, alpha folded in, its
# columns zero-padded to ldb (a multiple of 16) so every B load is a full vector, and stored in column panels
# of ROWS_PANEL (the last one narrower): panel p holds columns [64p, 64p + pw) as a (k, pw) row-major block
# (`pack_rows_b`), so a tile streams one contiguous block. Row-major (k, ldb) made each k step jump ldb floats
# (16 KB for AlexNet's 4096 columns, past the hardware prefetchers' page): 15.6 ms for its 9216 x 4096 layer at
# batch 1 against onnxruntime's 8.5. The bias runs along N (a Gemm's C), which the panel kernel above cannot
# take (its bias is per row of A). A is read in place (no packing: with
# one row per tile its broadcasts are consecutive floats). Tiles: 1 row x 4 vectors of 16 columns, then 1 vector;
# the last vector of a row stores only its valid columns. Vectors are 16 lanes on every target (a literal: a
# width token argument costs ~2 us per call, more than the whole product at LeNet's sizes).

@njit(cache=True, nogil=True, inline="always")
def _rows_out(acc, y, res, off, cnt, has_res, kind, alpha, beta):
    if cnt >= 16:
        if has_res:
            acc = vadd(acc, vload(res, off, 16))
        vstore(y, off, activate(acc, kind, alpha, beta))
    else:
        if has_res:
            acc = vadd(acc, vload_n(res, off, cnt, 16))
        vstore_n(y, off, activate(acc, kind, alpha, beta), cnt)


ROWS_PANEL = 64   # columns per panel of the small-M kernel's B' (its 4-vector tile)


def pack_rows_b(bk: np.ndarray) -> np.ndarray:
    """(k, ldb) float32 -> the small-M kernel's flat B': column panels of ROWS_PANEL, each (k, pw) row-major."""
    k, ldb = bk.shape
    return np.ascontiguousarray(np.concatenate([bk[:, c:c + ROWS_PANEL].ravel()
                                                for c in range(0, ldb, ROWS_PANEL)]), np.float32)


@njit(cache=True, nogil=True)
def _rows_range(a, bp, bias, res, y, m, k, n, ldb, v0, v1, has_res, kind, alpha, beta):
    """Columns [16*v0, 16*v1) (clipped to n) of every row of Y, v0 a multiple of 4; a, bp, bias, res, y
    C-contiguous float32 of any rank, read by flat offsets (A (m, k), B' from pack_rows_b, R and Y (m, n))."""
    v = v0
    while v < v1:
        col = v * 16
        panel = col // ROWS_PANEL * ROWS_PANEL   # the first column of v's panel
        pw = min(ROWS_PANEL, ldb - panel)        # its width
        if v + 4 <= v1:
            for i in range(m):
                c0 = vload(bias, col, 16)
                c1 = vload(bias, col + 16, 16)
                c2 = vload(bias, col + 32, 16)
                c3 = vload(bias, col + 48, 16)
                ai = i * k
                bi = panel * k
                for _ in range(k):
                    x = _bload(a, ai, 16)
                    c0 = vfma(x, vload(bp, bi, 16), c0)
                    c1 = vfma(x, vload(bp, bi + 16, 16), c1)
                    c2 = vfma(x, vload(bp, bi + 32, 16), c2)
                    c3 = vfma(x, vload(bp, bi + 48, 16), c3)
                    ai += 1
                    bi += ROWS_PANEL
                yo = i * n + col
                _rows_out(c0, y, res, yo, n - col, has_res, kind, alpha, beta)
                _rows_out(c1, y, res, yo + 16, n - col - 16, has_res, kind, alpha, beta)
                _rows_out(c2, y, res, yo + 32, n - col - 32, has_res, kind, alpha, beta)
                _rows_out(c3, y, res, yo + 48, n - col - 48, has_res, kind, alpha, beta)
            v += 4
        else:
            for i in range(m):
                c0 = vload(bias, col, 16)
                ai = i * k
                bi = panel * k + col - panel
                for _ in range(k):
                    c0 = vfma(_bload(a, ai, 16), vload(bp, bi, 16), c0)
                    ai += 1
                    bi += pw
                _rows_out(c0, y, res, i * n + col, n - col, has_res, kind, alpha, beta)
            v += 1


@njit(cache=True, nogil=True)
def gemm_rows_f32(a, bp, bias, res, y, m, k, n, ldb, has_res, kind, alpha, beta):
    """Y = act(A @ B' + bias [+ R]) on the calling thread (see the comment above)."""
    _rows_range(a, bp, bias, res, y, m, k, n, ldb, 0, ldb // 16, has_res, kind, alpha, beta)


@njit(cache=True, nogil=True, parallel=True)
def gemm_rows_par_f32(a, bp, bias, res, y, m, k, n, ldb, has_res, kind, alpha, beta, chunks):
    """gemm_rows_f32 with the columns split over `chunks` threads in runs of whole 4-vector tiles."""
    nvec = ldb // 16
    quads = (nvec + 3) // 4
    for c in prange(chunks):
        _rows_range(a, bp, bias, res, y, m, k, n, ldb, min(nvec, 4 * (c * quads // chunks)),
                    min(nvec, 4 * ((c + 1) * quads // chunks)), has_res, kind, alpha, beta)


if __name__ == "__main__":
    regenerate(__file__, emit_tiles())
