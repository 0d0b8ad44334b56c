"""Blocked-layout reorders (NCHW <-> NCHWc) and plan-time weight packing.

Activations: NCHWc stores channel block b of image n as a (S, c) matrix, S = the flattened spatial size and
c the block width (8 or 16, the SIMD width in floats): x_c[n, b, *s, j] = x[n, b*c + j, *s], channels past C
are zero. Tensors of 1-3 spatial dims are flattened to one spatial axis by the Python wrappers, so the Numba
kernels see (N, C, S) and (N, Cb, S, c) only.

Weights are packed once at plan time with plain numpy; every packed array is C-contiguous float32 and
zero-padded to whole blocks, so kernels never test for a channel tail.

Measured once on the shared 2-core AMD EPYC dev box (best of 100, microseconds, preallocated output;
numpy baseline = zero-pad channels if needed + reshape/transpose + copy):

                        to NCHWc 1T / 2T   numpy  |  to NCHW 1T / 2T   numpy
    1x64x56x56   c=8        43 / 22          87   |       40 / 21        63
    1x64x56x56   c=16       47 / 25          72   |       38 / 19        89
    1x3x224x224  c=8        94 / 48        1081   |       58 / 30        47
    1x3x224x224  c=16      102 / 53         419   |       63 / 32        94

The 2T column is with OMP_WAIT_POLICY=ACTIVE. fastconv sets PASSIVE at import; then each parallel call pays
the OpenMP wake-up, and 2 threads measured 50-79 us for the same calls (no faster than 1 thread at this size).
"""
from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from fastconv.kernels.numba.bound import bound

# Spatial positions per parallel task: one task moves TILE*c floats (16 KiB at c=16), so a task's source and
# destination stay in L1 and a 1x3x224x224 input (one channel block) still splits across threads.
TILE = 256
PARALLEL_FLOATS = 32_768  # floats moved below which a layout copy runs on the calling thread


def driver(par, ser, small: bool):
    """The entry point a runner calls for a copy kernel with a serial twin: the twin when the copy is small
    (opening a parallel region costs ~3 us even at one thread, 5 us at two with one idle), else the prange
    kernel unless the session runs one thread (read per call: sessions differ)."""
    ser_b = bound(ser)
    if small:
        return ser_b
    par_b = bound(par)

    def run(*args):
        (ser_b if get_num_threads() == 1 else par_b)(*args)

    return run


@njit(cache=True, inline="always")
def _blocked_tile(x, out, n, b, s0, s1, c):
    """out[n, b, s0:s1, :] from channels b*c .. b*c+c-1 of x[n]; channels past C written as zeros."""
    ch0 = b * c
    cv = min(c, x.shape[1] - ch0)
    o = out[n, b]
    xs = x[n]
    if cv == c:
        for s in range(s0, s1):
            for j in range(c):
                o[s, j] = xs[ch0 + j, s]
    else:
        # Tail block: zero the slab (contiguous), then scatter the cv existing channels into it.
        for s in range(s0, s1):
            for j in range(c):
                o[s, j] = 0.0
        for j in range(cv):
            xr = xs[ch0 + j]
            for s in range(s0, s1):
                o[s, j] = xr[s]


@njit(cache=True, inline="always")
def _plain_tile(y, out, n, b, s0, s1, c):
    """out[n, b*c + j, s0:s1] = y[n, b, s0:s1, j] for the channels that exist in out."""
    ch0 = b * c
    cv = min(c, out.shape[1] - ch0)
    yb = y[n, b]
    on = out[n]
    # Square c x c (tail block: cv x 8) sub-transposes with compile-time trip counts: measured 1.5-2x faster
    # than one strided pass per channel row (c=16: 56 -> 38 us on 1x64x56x56).
    sb = s0
    if cv == c:
        while sb + c <= s1:
            for j in range(c):
                for si in range(c):
                    on[ch0 + j, sb + si] = yb[sb + si, j]
            sb += c
    else:
        while sb + 8 <= s1:
            for j in range(cv):
                for si in range(8):
                    on[ch0 + j, sb + si] = yb[sb + si, j]
            sb += 8
    for j in range(cv):
        for s in range(sb, s1):
            on[ch0 + j, s] = yb[s, j]


# One loop nest per direction: tasks = (image x channel block x spatial tile of TILE positions), each writing
# its destination rows contiguously (NCHWc rows of c floats; NCHW channel rows of the tile). The literal
# block widths (inlined helpers) give LLVM constant trip counts for the two widths a platform can choose.
@njit(cache=True, parallel=True, nogil=True)
def nchw_to_nchwc_f32(x, out):
    """x (N, C, S) -> out (N, ceil(C/c), S, c), c = out.shape[3]; tail channels zero-filled."""
    _nchw_to_nchwc(x, out)


@njit(cache=True, nogil=True)
def nchw_to_nchwc_serial_f32(x, out):
    """nchw_to_nchwc_f32 on the calling thread."""
    _nchw_to_nchwc(x, out)


@njit(cache=True, nogil=True, inline="always")
def _nchw_to_nchwc(x, out):
    n_, _, s_ = x.shape
    cb, c = out.shape[1], out.shape[3]
    nt = (s_ + TILE - 1) // TILE
    for t in prange(n_ * cb * nt):
        n, r = t // (cb * nt), t % (cb * nt)
        b, s0 = r // nt, (r % nt) * TILE
        s1 = min(s0 + TILE, s_)
        if c == 16:
            _blocked_tile(x, out, n, b, s0, s1, 16)
        elif c == 8:
            _blocked_tile(x, out, n, b, s0, s1, 8)
        else:
            _blocked_tile(x, out, n, b, s0, s1, c)


@njit(cache=True, parallel=True, nogil=True)
def nchwc_to_nchw_f32(y, out):
    """y (N, Cb, S, c) -> out (N, C, S) with C = out.shape[1] <= Cb*c; padding channels dropped."""
    _nchwc_to_nchw(y, out)


@njit(cache=True, nogil=True)
def nchwc_to_nchw_serial_f32(y, out):
    """nchwc_to_nchw_f32 on the calling thread."""
    _nchwc_to_nchw(y, out)


@njit(cache=True, nogil=True, inline="always")
def _nchwc_to_nchw(y, out):
    n_, cb, s_, c = y.shape
    nt = (s_ + TILE - 1) // TILE
    for t in prange(n_ * cb * nt):
        n, r = t // (cb * nt), t % (cb * nt)
        b, s0 = r // nt, (r % nt) * TILE
        s1 = min(s0 + TILE, s_)
        if c == 16:
            _plain_tile(y, out, n, b, s0, s1, 16)
        elif c == 8:
            _plain_tile(y, out, n, b, s0, s1, 8)
        else:
            _plain_tile(y, out, n, b, s0, s1, c)


def _check_out(out, shape):
    # A reshape of a non-contiguous `out` would be a copy, and the kernel's writes would be lost.
    if out.shape != tuple(shape) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {tuple(shape)}")


def reorder_nchw_to_nchwc(x: np.ndarray, c: int, out: np.ndarray | None = None) -> np.ndarray:
    """(N, C, *spatial) float32 -> (N, ceil(C/c), *spatial, c); 1-3 spatial dims; tail channels are zero."""
    if x.ndim < 3:
        raise ValueError(f"expected (N, C, *spatial) with 1-3 spatial dims, got shape {x.shape}")
    n, ch, *sp = x.shape
    cb = -(-ch // c)
    x3 = np.ascontiguousarray(x, dtype=np.float32).reshape(n, ch, -1)
    if out is None:
        out = np.empty((n, cb, *sp, c), np.float32)
    _check_out(out, (n, cb, *sp, c))
    (nchw_to_nchwc_serial_f32 if x3.size < PARALLEL_FLOATS else nchw_to_nchwc_f32)(x3, out.reshape(n, cb, -1, c))
    return out


def reorder_nchwc_to_nchw(y: np.ndarray, C: int, out: np.ndarray | None = None) -> np.ndarray:
    """(N, Cb, *spatial, c) float32 -> (N, C, *spatial), dropping the Cb*c - C padding channels."""
    n, cb, *sp, c = y.shape
    if not (cb - 1) * c < C <= cb * c:
        raise ValueError(f"{C} channels do not fit {cb} blocks of {c}")
    y4 = np.ascontiguousarray(y, dtype=np.float32).reshape(n, cb, -1, c)
    if out is None:
        out = np.empty((n, C, *sp), np.float32)
    _check_out(out, (n, C, *sp))
    (nchwc_to_nchw_serial_f32 if y4.size < PARALLEL_FLOATS else nchwc_to_nchw_f32)(y4, out.reshape(n, C, -1))
    return out


def _pad_axis(a: np.ndarray, axis: int, block: int) -> np.ndarray:
    extra = -a.shape[axis] % block
    if extra == 0:
        return a
    widths = [(0, 0)] * a.ndim
    widths[axis] = (0, extra)
    return np.pad(a, widths)


def pack_oihw_to_OIhwio(w: np.ndarray, c_in_block: int, c_out_block: int) -> np.ndarray:
    """(O, I, *k) -> (ceil(O/bo), ceil(I/bi), *k, bi, bo): p[ob, ib, *t, i, o] = w[ob*bo + o, ib*bi + i, *t],
    zero where the channel is past O or I. The direct-conv layout [OCb][ICb][KH][KW][ic][oc]."""
    bi, bo = c_in_block, c_out_block
    w = _pad_axis(_pad_axis(np.asarray(w, np.float32), 0, bo), 1, bi)
    o, i, *k = w.shape
    nk = len(k)
    p = w.reshape(o // bo, bo, i // bi, bi, *k)
    return np.ascontiguousarray(p.transpose(0, 2, *range(4, 4 + nk), 3, 1))


def pack_depthwise_to_Chwc(w: np.ndarray, c: int) -> np.ndarray:
    """(C*mult, 1, *k) -> (ceil(C*mult/c), *k, c): p[b, *t, j] = w[b*c + j, 0, *t], zero past C*mult."""
    if w.shape[1] != 1:
        raise ValueError(f"depthwise weights must be (C*mult, 1, *k), got {w.shape}")
    w = _pad_axis(np.asarray(w, np.float32)[:, 0], 0, c)
    m, *k = w.shape
    p = w.reshape(m // c, c, *k)
    return np.ascontiguousarray(np.moveaxis(p, 1, -1))


def pack_gemm_b(b: np.ndarray, nr: int) -> np.ndarray:
    """B (K, N) -> column panels (ceil(N/nr), K, nr): p[q, k, j] = b[k, q*nr + j], zero past N."""
    b = _pad_axis(np.asarray(b, np.float32), 1, nr)
    k, n = b.shape
    return np.ascontiguousarray(b.reshape(k, n // nr, nr).transpose(1, 0, 2))


def pack_gemm_a(a: np.ndarray, mr: int) -> np.ndarray:
    """A (M, K) -> row panels (ceil(M/mr), K, mr): p[q, k, i] = a[q*mr + i, k], zero past M."""
    a = _pad_axis(np.asarray(a, np.float32), 0, mr)
    m, k = a.shape
    return np.ascontiguousarray(a.reshape(m // mr, mr, k).transpose(0, 2, 1))
