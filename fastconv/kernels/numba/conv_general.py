"""Convolution kernels for any geometry (1-3 spatial axes, stride, dilation, asymmetric padding), float32.

Layouts: activations NCDHW (1-D and 2-D convolutions are viewed as 3-D with unit leading axes).
`im2col_rows_f32` unrolls a band of output rows into a column matrix for one BLAS matmul per group.
`conv_depthwise_f32` runs group == C_in convolutions directly: im2col + GEMM would have K = kernel volume,
too short for BLAS to pay off. `bias_add_f32` is the epilogue of the GEMM-only (1x1) path.

im2col never materialises padding: for each kernel tap the range of output columns whose input column
lies inside the image is computed once (`_valid_range`), so inner loops are branch-free and vectorise.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from fastconv.kernels.numba.simd import lanes, vload_n, vstore_n

# Indices known to be >= 0 are cast to unsigned: numba then skips negative-index wraparound, which
# otherwise blocks vectorisation of the inner loops.
U = np.uint64
PARALLEL_FLOATS = 65_536  # column-matrix floats below which im2col stays on the calling thread


@njit(cache=True, nogil=True)
def _valid_range(off, stride, in_size, out_size):
    """[lo, hi): the outputs o with 0 <= o * stride + off < in_size, clipped to [0, out_size); lo <= hi."""
    lo = 0 if off >= 0 else (stride - 1 - off) // stride
    hi = (in_size - 1 - off) // stride + 1  # floor division: negative numerators give hi <= 0
    hi = min(max(hi, 0), out_size)
    return min(lo, hi), hi


@njit(cache=True, nogil=True, _nrt=False)
def _im2col_tasks(xf, cf, cg, d, h, w, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, oh, ow, r0, r1, k0, k1,
                  vw):
    """Rows k0..k1 of cols (flat cf, (r1 - r0) * ow floats each) from x (flat xf, (Cg, D, H, W)). Flat offsets
    and row counters instead of array views and divisions per output row: each view costs an NRT incref /
    decref pair, each division tens of cycles, more than copying the short row segments of small layers;
    unit-stride segments are copied a (masked) vector at a time, without a scalar remainder loop."""
    lanes_ = lanes(vw)
    kvol = kd * kh * kw
    n = (r1 - r0) * ow
    for k in range(k0, k1):
        c = k // kvol
        rem = k % kvol
        a = rem // (kh * kw)
        b = (rem // kw) % kh
        e = rem % kw
        off = e * dw - pw
        lo, hi = _valid_range(off, sw, w, ow)
        crow = k * n
        oz = r0 // oh
        oy = r0 - oz * oh
        for r in range(r0, r1):
            iz = oz * sd - pd + a * dd
            iy = oy * sh - ph + b * dh
            oy += 1
            if oy == oh:
                oy = 0
                oz += 1
            base = crow + (r - r0) * ow
            if iz < 0 or iz >= d or iy < 0 or iy >= h:
                for j in range(ow):
                    cf[U(base + j)] = 0.0
                continue
            xrow = ((c * d + iz) * h + iy) * w + off
            for j in range(lo):
                cf[U(base + j)] = 0.0
            if sw == 1:
                for j in range(lo, hi, lanes_):
                    cnt = min(lanes_, hi - j)
                    vstore_n(cf, base + j, vload_n(xf, xrow + j, cnt, vw), cnt)
            else:
                for j in range(lo, hi):
                    cf[U(base + j)] = xf[U(xrow + j * sw)]
            for j in range(hi, ow):
                cf[U(base + j)] = 0.0


@njit(cache=True, parallel=True, nogil=True)
def im2col_rows_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, oh, ow, r0, r1, cols, nthreads, vw):
    """x: (Cg, D, H, W) one image and group. For output rows r in [r0, r1) (r = oz * oh + oy):
    cols[(c * kd + a) * kh + b) * kw + e, (r - r0) * ow + ox] = x[c, oz*sd - pd + a*dd, oy*sh - ph + b*dh,
    ox*sw - pw + e*dw], 0 outside the image. Parallel over chunks of the rows of cols (channel x kernel tap)
    on nthreads threads (numba.get_num_threads() of the caller: read inside, it makes the function
    uncacheable); a column matrix under PARALLEL_FLOATS floats is filled on one thread. vw: a width token."""
    cg, d, h, w = x.shape
    rows = cg * kd * kh * kw
    chunks = 1 if rows * (r1 - r0) * ow < PARALLEL_FLOATS else min(rows, nthreads)
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    for ch in prange(chunks):
        _im2col_tasks(xf, cf, cg, d, h, w, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, oh, ow, r0, r1,
                      ch * rows // chunks, (ch + 1) * rows // chunks, vw)


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def conv_depthwise_f32(x, wgt, bias, sd, sh, sw, dd, dh, dw, pd, ph, pw, out):
    """x: (N, C, D, H, W); wgt: (C * mult, kd, kh, kw); bias: (C * mult,); out: (N, C * mult, od, oh, ow).
    Output channel m reads input channel m // mult; one task per (image, output channel) plane.

    A task copies its input channel, zero-padded in H and W, into a buffer split into sh x sw stride
    phases: xp[z, y % sh, x % sw, (y // sh) * wq + x // sw] = padded[z, y, x]. In a phase plane of width wq,
    output (oy, ox) and tap (b, e) read element (oy + b*dh // sh) * wq + ox + e*dw // sw, so each tap is one
    unit-stride pass over the flattened output plane (computed wq wide; the extra columns are dropped)."""
    n_, c_, d, h, w = x.shape
    m_, kd, kh, kw = wgt.shape
    mult = m_ // c_
    od, oh, ow = out.shape[2], out.shape[3], out.shape[4]
    hq = (max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1) + sh - 1) // sh
    wq = (max(w + pw, (ow - 1) * sw + (kw - 1) * dw + 1) + sw - 1) // sw
    span = (oh - 1) * wq + ow
    for t in prange(n_ * m_):
        n = t // m_
        m = t % m_
        c = m // mult
        xp = np.zeros((d, sh, sw, hq * wq), np.float32)
        acc = np.empty(span, np.float32)
        for z in range(d):
            for y in range(h):
                xrow = x[n, c, z, y]
                yp = y + ph
                for px in range(sw):
                    i0 = (px - pw) % sw  # first input column landing in phase px
                    dst = (yp // sh) * wq + (i0 + pw) // sw
                    plane = xp[z, yp % sh, px]
                    for j in range((w - i0 + sw - 1) // sw):
                        plane[U(dst + j)] = xrow[U(i0 + j * sw)]
        for oz in range(od):
            for i in range(span):
                acc[U(i)] = bias[m]
            for a in range(kd):
                iz = oz * sd - pd + a * dd
                if iz < 0 or iz >= d:
                    continue
                for b in range(kh):
                    for e in range(kw):
                        wv = wgt[m, a, b, e]
                        plane = xp[iz, (b * dh) % sh, (e * dw) % sw]
                        off = ((b * dh) // sh) * wq + (e * dw) // sw
                        for i in range(span):
                            acc[U(i)] += wv * plane[U(i + off)]
            for oy in range(oh):
                orow = out[n, m, oz, oy]
                for ox in range(ow):
                    orow[U(ox)] = acc[U(oy * wq + ox)]


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
