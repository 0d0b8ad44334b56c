"""Convolution kernels for any geometry (1-3 spatial axes, stride, dilation, asymmetric padding), float32.

Layouts: activations NCDHW (1-D and 2-D convolutions are viewed as 3-D with unit leading axes).
`im2col_rows_f32` unrolls a band of output rows into a column matrix for one BLAS matmul per group.
`conv_depthwise_f32` runs group == C_in convolutions directly: im2col + GEMM would have K = kernel volume,
too short for BLAS to pay off. `bias_add_f32` is the epilogue of the GEMM-only (1x1) path.

Padding is never materialised: for each kernel tap the range of output columns whose input column lies
inside the image is computed once (`_valid_range`), so inner loops are branch-free and vectorise.
"""
from __future__ import annotations

from numba import njit, prange


@njit(cache=True, nogil=True, inline="always")
def _valid_range(off, stride, in_size, out_size):
    """[lo, hi): the outputs o with 0 <= o * stride + off < in_size, clipped to [0, out_size); lo <= hi."""
    lo = 0 if off >= 0 else (stride - 1 - off) // stride
    hi = (in_size - 1 - off) // stride + 1  # floor division: negative numerators give hi <= 0
    hi = min(max(hi, 0), out_size)
    return min(lo, hi), hi


@njit(cache=True, parallel=True, nogil=True)
def im2col_rows_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, oh, ow, r0, r1, cols):
    """x: (Cg, D, H, W) one image and group. For output rows r in [r0, r1) (r = oz * oh + oy):
    cols[(c * kd + a) * kh + b) * kw + e, (r - r0) * ow + ox] = x[c, oz*sd - pd + a*dd, oy*sh - ph + b*dh,
    ox*sw - pw + e*dw], 0 outside the image. Parallel over the rows of cols (channel x kernel tap)."""
    cg, d, h, w = x.shape
    kvol = kd * kh * kw
    for k in prange(cg * kvol):
        c = k // kvol
        rem = k % kvol
        a = rem // (kh * kw)
        b = (rem // kw) % kh
        e = rem % kw
        off = e * dw - pw
        lo, hi = _valid_range(off, sw, w, ow)
        for r in range(r0, r1):
            iz = (r // oh) * sd - pd + a * dd
            iy = (r % oh) * sh - ph + b * dh
            base = (r - r0) * ow
            if iz < 0 or iz >= d or iy < 0 or iy >= h:
                for ox in range(ow):
                    cols[k, base + ox] = 0.0
                continue
            for ox in range(lo):
                cols[k, base + ox] = 0.0
            if sw == 1:
                for ox in range(lo, hi):
                    cols[k, base + ox] = x[c, iz, iy, ox + off]
            else:
                for ox in range(lo, hi):
                    cols[k, base + ox] = x[c, iz, iy, ox * sw + off]
            for ox in range(hi, ow):
                cols[k, base + ox] = 0.0


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def conv_depthwise_f32(x, wgt, bias, sd, sh, sw, dd, dh, dw, pd, ph, pw, out):
    """x: (N, C, D, H, W); wgt: (C * mult, kd, kh, kw); bias: (C * mult,); out: (N, C * mult, od, oh, ow).
    Output channel m reads input channel m // mult. One task per (image, channel, output depth slice); each
    output row starts at the bias and accumulates one kernel tap at a time over its valid column range."""
    n_, c_, d, h, w = x.shape
    m_, kd, kh, kw = wgt.shape
    mult = m_ // c_
    od, oh, ow = out.shape[2], out.shape[3], out.shape[4]
    for t in prange(n_ * m_ * od):
        n = t // (m_ * od)
        m = (t // od) % m_
        oz = t % od
        c = m // mult
        bv = bias[m]
        for oy in range(oh):
            for ox in range(ow):
                out[n, m, oz, oy, ox] = bv
            for a in range(kd):
                iz = oz * sd - pd + a * dd
                if iz < 0 or iz >= d:
                    continue
                for b in range(kh):
                    iy = oy * sh - ph + b * dh
                    if iy < 0 or iy >= h:
                        continue
                    for e in range(kw):
                        wv = wgt[m, a, b, e]
                        off = e * dw - pw
                        lo, hi = _valid_range(off, sw, w, ow)
                        if sw == 1:
                            for ox in range(lo, hi):
                                out[n, m, oz, oy, ox] += wv * x[n, c, iz, iy, ox + off]
                        else:
                            for ox in range(lo, hi):
                                out[n, m, oz, oy, ox] += wv * x[n, c, iz, iy, ox * sw + off]


@njit(cache=True, parallel=True, nogil=True)
def bias_add_f32(out, bias):
    """out: (N, M, P) += bias[M] per channel, in place."""
    n_, m_, p = out.shape
    for t in prange(n_ * m_):
        bv = bias[t % m_]
        n = t // m_
        m = t % m_
        for i in range(p):
            out[n, m, i] += bv
