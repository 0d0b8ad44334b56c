"""Pooling kernels over NCDHW tensors (1-D and 2-D pools are viewed as 3-D with unit leading axes).

One parallel task per (image, channel) plane. The taps that fall inside the input are found per axis
(`_taps`, `_out_range`), so the loops carry no bounds tests and padded taps are never read. Pads may be
negative (onnxruntime's SAME padding with kernel < stride): windows then start later.

Without Indices, each output row is one accumulator row: for every tap of the window's depth and height, the
innermost loop runs over the output positions that tap reaches and reads one input row (contiguous when the
stride is 1), so LLVM vectorises it (check `inspect_asm` for packed vmaxps / vaddps). Those loops index
slices from 0: numba's negative-index wraparound test on `row[ox + off]` would stop the vectoriser.
MaxPool with Indices tracks the argmax per output position instead.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _taps(start, k, dil, lo, hi):
    """[a0, a1): the taps a < k of a window starting at `start` with lo <= start + a * dil < hi."""
    a0 = 0
    while a0 < k and start + a0 * dil < lo:
        a0 += 1
    a1 = k
    while a1 > a0 and start + (a1 - 1) * dil >= hi:
        a1 -= 1
    return a0, a1


@njit(cache=True, inline="always")
def _out_range(off, stride, size, out_size):
    """[o0, o1): the output positions o < out_size whose tap at input position o * stride + off is inside
    [0, size)."""
    o0 = 0 if off >= 0 else (-off + stride - 1) // stride
    o1 = 0 if size - 1 - off < 0 else (size - 1 - off) // stride + 1
    o1 = min(o1, out_size)
    return o0, max(o0, o1)


@njit(cache=True)
def _tap_ranges(k, dil, stride, pad, size, out_size):
    """Per tap e of the innermost axis, the output range it reaches (rows 0 and 1)."""
    r = np.empty((2, k), np.int64)
    for e in range(k):
        r[0, e], r[1, e] = _out_range(e * dil - pad, stride, size, out_size)
    return r


@njit(cache=True, parallel=True, nogil=True)
def maxpool_ncdhw(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, lowest, out):
    """Max over each window; a window with no tap inside the input gives `lowest` (as onnxruntime)."""
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    rng = _tap_ranges(kw, dw, sw, pw, w, ow)
    for t in prange(n_ * c_):
        xp = x[t // c_, t % c_]
        op = out[t // c_, t % c_]
        for oz in range(od):
            z0 = oz * sd - pd
            a0, a1 = _taps(z0, kd, dd, 0, d)
            for oy in range(oh):
                y0 = oy * sh - ph
                b0, b1 = _taps(y0, kh, dh, 0, h)
                row = op[oz, oy]
                row[:] = lowest
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        xrow = xp[z0 + a * dd, y0 + b * dh]
                        for e in range(kw):
                            o0, o1 = rng[0, e], rng[1, e]
                            xs = xrow[o0 * sw + e * dw - pw:]
                            rs = row[o0:o1]
                            if sw == 1:
                                for j in range(o1 - o0):
                                    v = xs[j]
                                    r = rs[j]
                                    rs[j] = v if v > r else r
                            elif sw == 2:  # a constant stride lets LLVM vectorise with interleaved loads
                                for j in range(o1 - o0):
                                    v = xs[2 * j]
                                    r = rs[j]
                                    rs[j] = v if v > r else r
                            else:
                                for j in range(o1 - o0):
                                    v = xs[j * sw]
                                    r = rs[j]
                                    rs[j] = v if v > r else r


@njit(cache=True, parallel=True, nogil=True)
def maxpool_indices_ncdhw(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, rank, lowest, out, idx, col_major):
    """Max and its flat index in x: row- or column-major (storage_order 1) over the spatial axes, plus
    plane * plane size. The first maximum in row-major tap order wins (as onnxruntime). A window with no tap
    inside the input gives `lowest` and the index of coordinate -1 on each real spatial axis (onnxruntime's)."""
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    zmiss = -1 if rank == 3 else 0
    ymiss = -1 if rank >= 2 else 0
    for t in prange(n_ * c_):
        xp = x[t // c_, t % c_]
        op = out[t // c_, t % c_]
        ip = idx[t // c_, t % c_]
        base = t * d * h * w
        for oz in range(od):
            z0 = oz * sd - pd
            a0, a1 = _taps(z0, kd, dd, 0, d)
            for oy in range(oh):
                y0 = oy * sh - ph
                b0, b1 = _taps(y0, kh, dh, 0, h)
                for ox in range(ow):
                    x0 = ox * sw - pw
                    e0, e1 = _taps(x0, kw, dw, 0, w)
                    best = lowest
                    bz, by, bx = zmiss, ymiss, -1
                    if a0 < a1 and b0 < b1 and e0 < e1:
                        bz, by, bx = z0 + a0 * dd, y0 + b0 * dh, x0 + e0 * dw
                        best = xp[bz, by, bx]
                        for a in range(a0, a1):
                            iz = z0 + a * dd
                            for b in range(b0, b1):
                                iy = y0 + b * dh
                                for e in range(e0, e1):
                                    ix = x0 + e * dw
                                    v = xp[iz, iy, ix]
                                    if v > best:
                                        best = v
                                        bz, by, bx = iz, iy, ix
                    op[oz, oy, ox] = best
                    if col_major:
                        ip[oz, oy, ox] = base + bz + d * (by + h * bx)
                    else:
                        ip[oz, oy, ox] = base + (bz * h + by) * w + bx


@njit(cache=True)
def _counts(k, dil, stride, pad, pad_end, size, out_size, include_pad):
    """Per output position along one axis: how many taps the mean divides by. Real taps stop at
    size + min(pad_end, 0); with include_pad, taps inside the padded input [-pad, size + pad_end) count."""
    cnt = np.empty(out_size, np.int64)
    for o in range(out_size):
        if include_pad:
            a0, a1 = _taps(o * stride - pad, k, dil, -pad, size + pad_end)
        else:
            a0, a1 = _taps(o * stride - pad, k, dil, 0, size + min(pad_end, 0))
        cnt[o] = a1 - a0
    return cnt


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def avgpool_ncdhw_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, qd, qh, qw, include_pad, out):
    """Mean over the taps inside the input; q*: end pads. With include_pad the divisor counts every tap inside
    the padded input [-p, size + q) (a ceil_mode window reaching past it is not charged for the overhang).
    A negative end pad drops the input's last -q positions from the mean, as onnxruntime does."""
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    # the sum reads real taps only: inner-axis ranges over w + min(qw, 0), depth/height ranges likewise
    rng = _tap_ranges(kw, dw, sw, pw, w + min(qw, 0), ow)
    cz = _counts(kd, dd, sd, pd, qd, d, od, include_pad)
    cy = _counts(kh, dh, sh, ph, qh, h, oh, include_pad)
    cx = _counts(kw, dw, sw, pw, qw, w, ow, include_pad)
    for t in prange(n_ * c_):
        xp = x[t // c_, t % c_]
        op = out[t // c_, t % c_]
        for oz in range(od):
            z0 = oz * sd - pd
            a0, a1 = _taps(z0, kd, dd, 0, d + min(qd, 0))
            for oy in range(oh):
                y0 = oy * sh - ph
                b0, b1 = _taps(y0, kh, dh, 0, h + min(qh, 0))
                row = op[oz, oy]
                row[:] = 0.0
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        xrow = xp[z0 + a * dd, y0 + b * dh]
                        for e in range(kw):
                            o0, o1 = rng[0, e], rng[1, e]
                            xs = xrow[o0 * sw + e * dw - pw:]
                            rs = row[o0:o1]
                            if sw == 1:
                                for j in range(o1 - o0):
                                    rs[j] += xs[j]
                            elif sw == 2:
                                for j in range(o1 - o0):
                                    rs[j] += xs[2 * j]
                            else:
                                for j in range(o1 - o0):
                                    rs[j] += xs[j * sw]
                czy = cz[oz] * cy[oy]
                for ox in range(ow):
                    cnt = czy * cx[ox]
                    row[ox] = row[ox] / cnt if cnt > 0 else 0.0


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def lppool_ncdhw_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, p, out):
    """(sum over the taps inside the input of |x|^p)^(1/p); padded taps add 0."""
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    rng = _tap_ranges(kw, dw, sw, pw, w, ow)
    inv_p = 1.0 / p
    for t in prange(n_ * c_):
        xp = x[t // c_, t % c_]
        op = out[t // c_, t % c_]
        for oz in range(od):
            z0 = oz * sd - pd
            a0, a1 = _taps(z0, kd, dd, 0, d)
            for oy in range(oh):
                y0 = oy * sh - ph
                b0, b1 = _taps(y0, kh, dh, 0, h)
                row = op[oz, oy]
                row[:] = 0.0
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        xrow = xp[z0 + a * dd, y0 + b * dh]
                        for e in range(kw):
                            o0, o1 = rng[0, e], rng[1, e]
                            xs = xrow[o0 * sw + e * dw - pw:]
                            rs = row[o0:o1]
                            for j in range(o1 - o0):
                                v = abs(xs[j * sw])
                                if p == 1:
                                    rs[j] += v
                                elif p == 2:
                                    rs[j] += v * v
                                else:
                                    rs[j] += v ** p
                if p == 2:
                    for ox in range(ow):
                        row[ox] = np.sqrt(row[ox])
                elif p != 1:
                    for ox in range(ow):
                        row[ox] = row[ox] ** inv_p
