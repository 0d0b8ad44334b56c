"""Direct convolution in the blocked NCHWc layout for dense KxK Conv (group == 1), built on the SIMD layer.

Micro-kernel (`_kTxB`, T = 8, 7, 4, 3, 1 output pixels, B = 3, 2, 1 blocks of W output channels; W = the
platform's SIMD width, 8 or 16, passed as a width token): T x B named vector accumulators (24 at most;
`row_tiles` uses only those that fit the register file). Loop order per tile: input-channel block -> kh ->
kw -> W input channels; per input channel B weight vectors are loaded and
each pixel's input value is broadcast once and FMA'd into its B accumulators: 3 + 7 loads per 21 FMAs (the
first version, 14 pixels x 1 block, needed 15 loads per 14 FMAs and reached 75-82% of the FMA peak; this one
96-98%, docs/KERNELS.md). The accumulators start from the bias; the epilogue (residual add, activation) is
applied before the single store. Rows are split into tiles at plan time (`row_tiles`: the cheapest split by a
cost model); output-channel blocks into balanced groups of at most 3.

Data: the input is copied once into a zero-bordered NCHWc buffer xp (N, ICb, Hp, Wp, W) (pads applied there,
Hp = pad_top + H + pad_bottom), so the inner loops have no edge branches; strides and dilations are plain
index steps. Weights are packed once by `layout.pack_oihw_to_OIhwio` ([OCb][ICb][KH][KW][ic][oc]); the bias
is zero-padded to OCb*W. Output (N, OCb, OH, OW, W). Work is split by prange over (batch x oc block x output
row). 1-D convs are the H = 1 case; 3-D convs are left to the general kernel.

The `_kTxB` functions are generated source (Numba's cache needs real source, so no exec at import): edit
`emit_tiles` and rerun `python -m fastconv.kernels.numba.conv_nchwc` to rewrite the generated section.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import get_num_threads, njit, prange, types
from numba.core.errors import TypingError
from numba.extending import intrinsic

from fastconv.kernels.buffers import accepts_out, output, take_shaped
from fastconv.kernels.numba import layout
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.codegen import regenerate
from fastconv.kernels.numba.epilogue import CLIP, NO_EPILOGUE, NO_RESIDUAL, RELU, activate_block, emit_epilogue
from fastconv.kernels.numba.simd import (
    SimdVec,
    _width_of,
    lanes,
    vadd,
    vbroadcast,
    vfma,
    vload,
    vmax,
    vmin,
    vstore,
    vzero,
    width_token,
)
from fastconv.platform import Platform

TILES = (8, 7, 4, 3, 1)  # pixels per micro-kernel; each row's split into tiles is chosen at plan time (row_tiles)
BLOCKS = (3, 2, 1)  # output-channel blocks per micro-kernel: up to 3 x 7 = 21 accumulators
_F32 = ir.FloatType()


@intrinsic
def _bload(typingctx, arr, offset, w):
    """Every lane = arr.flat[offset] (broadcast load). Unlike arr[offset] there is no negative-index
    wrap-around select, and no bounds check: the caller guarantees 0 <= offset < arr.size."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.float32 and arr.layout == "C"):
        raise TypingError(f"_bload: needs a C-contiguous float32 array, got {arr}")
    width = _width_of(w, "_bload")

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        off = context.cast(builder, args[1], sig.args[1], types.intp)
        val = builder.load(builder.gep(data, [off]), align=4)
        vty = ir.VectorType(_F32, width)
        one = builder.insert_element(ir.Constant(vty, ir.Undefined), val, ir.Constant(ir.IntType(32), 0))
        mask = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)
        return builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), mask)

    return SimdVec(width)(arr, offset, w), codegen




def emit_tile(t, nb, unit=False):
    """Source of `_k{t}x{nb}` (any stride: pixel j at xi + j * sxw) or `_k{t}x{nb}u` (unit stride: pixel j at
    xi + j * W, constant offsets, which spares the general-purpose registers the strided version spills):
    t output pixels x nb blocks of W output channels, t * nb vector accumulators. Per input channel: nb weight
    vector loads and t broadcast loads, each broadcast feeding nb FMAs."""
    L = []
    a = L.append
    name = f"_k{t}x{nb}u" if unit else f"_k{t}x{nb}"
    step = "n" if unit else "sxw"
    a("@njit(cache=True, nogil=True)")
    a(f"def {name}(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, "
      "kind, alpha, beta, w):")
    a(f'    """{t} output pixels x {nb} blocks of W output channels; fused epilogue."""')
    a("    n = lanes(w)")
    for b in range(nb):
        a(f"    a0_{b} = vload(bf, b0{' + ' + str(b) + ' * n' if b else ''}, w)")
        for j in range(1, t):
            a(f"    a{j}_{b} = a0_{b}")
    a("    wi = w0")
    a("    for ib in range(icb):")
    a("        for i in range(kh_):")
    a("            for j in range(kw_):")
    a("                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw")
    a("                for c in range(n):")
    for b in range(nb):
        a(f"                    w{b} = vload(wf, wi{' + ' + str(b) + ' * wblk' if b else ''}, w)")
    for j in range(t):
        off = "xi" if j == 0 else (f"xi + {step}" if j == 1 else f"xi + {j} * {step}")
        a(f"                    p{j} = _bload(xf, {off}, w)")
        for b in range(nb):
            a(f"                    a{j}_{b} = vfma(p{j}, w{b}, a{j}_{b})")
    a("                    xi += 1")
    a("                    wi += n")
    accs, offs = [], []
    for b in range(nb):
        ob = f" + {b} * os_ob" if b else ""
        accs += [f"a{j}_{b}" for j in range(t)]
        offs += [f"o0{ob}" if j == 0 else (f"o0{ob} + n" if j == 1 else f"o0{ob} + {j} * n") for j in range(t)]
    emit_epilogue(a, accs, offs, nb, "os_ob", f"{t} * n", "o0", "    ")
    return "\n".join(L) + "\n"


def emit_tiles(tiles=TILES, blocks=BLOCKS):
    return "\n\n".join(emit_tile(t, nb, unit) for unit in (False, True) for nb in blocks for t in tiles)


# ---- generated code (emitted by this module's emit function): do not edit by hand ----
@njit(cache=True, nogil=True)
def _k8x3(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """8 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a7_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    a7_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    a3_2 = a0_2
    a4_2 = a0_2
    a5_2 = a0_2
    a6_2 = a0_2
    a7_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    a3_2 = vfma(p3, w2, a3_2)
                    p4 = _bload(xf, xi + 4 * sxw, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    a4_2 = vfma(p4, w2, a4_2)
                    p5 = _bload(xf, xi + 5 * sxw, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    a5_2 = vfma(p5, w2, a5_2)
                    p6 = _bload(xf, xi + 6 * sxw, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    a6_2 = vfma(p6, w2, a6_2)
                    p7 = _bload(xf, xi + 7 * sxw, w)
                    a7_0 = vfma(p7, w0, a7_0)
                    a7_1 = vfma(p7, w1, a7_1)
                    a7_2 = vfma(p7, w2, a7_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a7_0 = vadd(a7_0, vload(rf, o0 + 7 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
        a7_1 = vadd(a7_1, vload(rf, o0 + 1 * os_ob + 7 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
        a3_2 = vadd(a3_2, vload(rf, o0 + 2 * os_ob + 3 * n, w))
        a4_2 = vadd(a4_2, vload(rf, o0 + 2 * os_ob + 4 * n, w))
        a5_2 = vadd(a5_2, vload(rf, o0 + 2 * os_ob + 5 * n, w))
        a6_2 = vadd(a6_2, vload(rf, o0 + 2 * os_ob + 6 * n, w))
        a7_2 = vadd(a7_2, vload(rf, o0 + 2 * os_ob + 7 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a7_0 = vmax(a7_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
        a7_1 = vmax(a7_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
        a3_2 = vmax(a3_2, z)
        a4_2 = vmax(a4_2, z)
        a5_2 = vmax(a5_2, z)
        a6_2 = vmax(a6_2, z)
        a7_2 = vmax(a7_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a7_0 = vmin(vmax(a7_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
        a7_1 = vmin(vmax(a7_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
        a3_2 = vmin(vmax(a3_2, lo), hi)
        a4_2 = vmin(vmax(a4_2, lo), hi)
        a5_2 = vmin(vmax(a5_2, lo), hi)
        a6_2 = vmin(vmax(a6_2, lo), hi)
        a7_2 = vmin(vmax(a7_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 7 * n, a7_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    vstore(of, o0 + 1 * os_ob + 7 * n, a7_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    vstore(of, o0 + 2 * os_ob + 3 * n, a3_2)
    vstore(of, o0 + 2 * os_ob + 4 * n, a4_2)
    vstore(of, o0 + 2 * os_ob + 5 * n, a5_2)
    vstore(of, o0 + 2 * os_ob + 6 * n, a6_2)
    vstore(of, o0 + 2 * os_ob + 7 * n, a7_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k7x3(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """7 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    a3_2 = a0_2
    a4_2 = a0_2
    a5_2 = a0_2
    a6_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    a3_2 = vfma(p3, w2, a3_2)
                    p4 = _bload(xf, xi + 4 * sxw, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    a4_2 = vfma(p4, w2, a4_2)
                    p5 = _bload(xf, xi + 5 * sxw, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    a5_2 = vfma(p5, w2, a5_2)
                    p6 = _bload(xf, xi + 6 * sxw, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    a6_2 = vfma(p6, w2, a6_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
        a3_2 = vadd(a3_2, vload(rf, o0 + 2 * os_ob + 3 * n, w))
        a4_2 = vadd(a4_2, vload(rf, o0 + 2 * os_ob + 4 * n, w))
        a5_2 = vadd(a5_2, vload(rf, o0 + 2 * os_ob + 5 * n, w))
        a6_2 = vadd(a6_2, vload(rf, o0 + 2 * os_ob + 6 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
        a3_2 = vmax(a3_2, z)
        a4_2 = vmax(a4_2, z)
        a5_2 = vmax(a5_2, z)
        a6_2 = vmax(a6_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
        a3_2 = vmin(vmax(a3_2, lo), hi)
        a4_2 = vmin(vmax(a4_2, lo), hi)
        a5_2 = vmin(vmax(a5_2, lo), hi)
        a6_2 = vmin(vmax(a6_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    vstore(of, o0 + 2 * os_ob + 3 * n, a3_2)
    vstore(of, o0 + 2 * os_ob + 4 * n, a4_2)
    vstore(of, o0 + 2 * os_ob + 5 * n, a5_2)
    vstore(of, o0 + 2 * os_ob + 6 * n, a6_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 7 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k4x3(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """4 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    a3_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    a3_2 = vfma(p3, w2, a3_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
        a3_2 = vadd(a3_2, vload(rf, o0 + 2 * os_ob + 3 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
        a3_2 = vmax(a3_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
        a3_2 = vmin(vmax(a3_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    vstore(of, o0 + 2 * os_ob + 3 * n, a3_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k3x3(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """3 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k1x3(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """1 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a0_1 = vload(bf, b0 + 1 * n, w)
    a0_2 = vload(bf, b0 + 2 * n, w)
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a0_1 = vmax(a0_1, z)
        a0_2 = vmax(a0_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k8x2(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """8 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a7_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    a7_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    p4 = _bload(xf, xi + 4 * sxw, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    p5 = _bload(xf, xi + 5 * sxw, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    p6 = _bload(xf, xi + 6 * sxw, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    p7 = _bload(xf, xi + 7 * sxw, w)
                    a7_0 = vfma(p7, w0, a7_0)
                    a7_1 = vfma(p7, w1, a7_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a7_0 = vadd(a7_0, vload(rf, o0 + 7 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
        a7_1 = vadd(a7_1, vload(rf, o0 + 1 * os_ob + 7 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a7_0 = vmax(a7_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
        a7_1 = vmax(a7_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a7_0 = vmin(vmax(a7_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
        a7_1 = vmin(vmax(a7_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 7 * n, a7_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    vstore(of, o0 + 1 * os_ob + 7 * n, a7_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k7x2(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """7 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    p4 = _bload(xf, xi + 4 * sxw, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    p5 = _bload(xf, xi + 5 * sxw, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    p6 = _bload(xf, xi + 6 * sxw, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 7 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k4x2(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """4 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k3x2(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """3 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k1x2(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """1 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a0_1 = vload(bf, b0 + 1 * n, w)
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a0_1 = vmax(a0_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k8x1(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """8 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a7_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    p4 = _bload(xf, xi + 4 * sxw, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    p5 = _bload(xf, xi + 5 * sxw, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    p6 = _bload(xf, xi + 6 * sxw, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    p7 = _bload(xf, xi + 7 * sxw, w)
                    a7_0 = vfma(p7, w0, a7_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a7_0 = vadd(a7_0, vload(rf, o0 + 7 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a7_0 = vmax(a7_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a7_0 = vmin(vmax(a7_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 7 * n, a7_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k7x1(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """7 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    p4 = _bload(xf, xi + 4 * sxw, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    p5 = _bload(xf, xi + 5 * sxw, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    p6 = _bload(xf, xi + 6 * sxw, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 7 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k4x1(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """4 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    p3 = _bload(xf, xi + 3 * sxw, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k3x1(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """3 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + sxw, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * sxw, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k1x1(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """1 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
    vstore(of, o0, a0_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k8x3u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """8 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a7_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    a7_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    a3_2 = a0_2
    a4_2 = a0_2
    a5_2 = a0_2
    a6_2 = a0_2
    a7_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    a3_2 = vfma(p3, w2, a3_2)
                    p4 = _bload(xf, xi + 4 * n, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    a4_2 = vfma(p4, w2, a4_2)
                    p5 = _bload(xf, xi + 5 * n, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    a5_2 = vfma(p5, w2, a5_2)
                    p6 = _bload(xf, xi + 6 * n, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    a6_2 = vfma(p6, w2, a6_2)
                    p7 = _bload(xf, xi + 7 * n, w)
                    a7_0 = vfma(p7, w0, a7_0)
                    a7_1 = vfma(p7, w1, a7_1)
                    a7_2 = vfma(p7, w2, a7_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a7_0 = vadd(a7_0, vload(rf, o0 + 7 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
        a7_1 = vadd(a7_1, vload(rf, o0 + 1 * os_ob + 7 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
        a3_2 = vadd(a3_2, vload(rf, o0 + 2 * os_ob + 3 * n, w))
        a4_2 = vadd(a4_2, vload(rf, o0 + 2 * os_ob + 4 * n, w))
        a5_2 = vadd(a5_2, vload(rf, o0 + 2 * os_ob + 5 * n, w))
        a6_2 = vadd(a6_2, vload(rf, o0 + 2 * os_ob + 6 * n, w))
        a7_2 = vadd(a7_2, vload(rf, o0 + 2 * os_ob + 7 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a7_0 = vmax(a7_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
        a7_1 = vmax(a7_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
        a3_2 = vmax(a3_2, z)
        a4_2 = vmax(a4_2, z)
        a5_2 = vmax(a5_2, z)
        a6_2 = vmax(a6_2, z)
        a7_2 = vmax(a7_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a7_0 = vmin(vmax(a7_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
        a7_1 = vmin(vmax(a7_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
        a3_2 = vmin(vmax(a3_2, lo), hi)
        a4_2 = vmin(vmax(a4_2, lo), hi)
        a5_2 = vmin(vmax(a5_2, lo), hi)
        a6_2 = vmin(vmax(a6_2, lo), hi)
        a7_2 = vmin(vmax(a7_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 7 * n, a7_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    vstore(of, o0 + 1 * os_ob + 7 * n, a7_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    vstore(of, o0 + 2 * os_ob + 3 * n, a3_2)
    vstore(of, o0 + 2 * os_ob + 4 * n, a4_2)
    vstore(of, o0 + 2 * os_ob + 5 * n, a5_2)
    vstore(of, o0 + 2 * os_ob + 6 * n, a6_2)
    vstore(of, o0 + 2 * os_ob + 7 * n, a7_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k7x3u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """7 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    a3_2 = a0_2
    a4_2 = a0_2
    a5_2 = a0_2
    a6_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    a3_2 = vfma(p3, w2, a3_2)
                    p4 = _bload(xf, xi + 4 * n, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    a4_2 = vfma(p4, w2, a4_2)
                    p5 = _bload(xf, xi + 5 * n, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    a5_2 = vfma(p5, w2, a5_2)
                    p6 = _bload(xf, xi + 6 * n, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    a6_2 = vfma(p6, w2, a6_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
        a3_2 = vadd(a3_2, vload(rf, o0 + 2 * os_ob + 3 * n, w))
        a4_2 = vadd(a4_2, vload(rf, o0 + 2 * os_ob + 4 * n, w))
        a5_2 = vadd(a5_2, vload(rf, o0 + 2 * os_ob + 5 * n, w))
        a6_2 = vadd(a6_2, vload(rf, o0 + 2 * os_ob + 6 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
        a3_2 = vmax(a3_2, z)
        a4_2 = vmax(a4_2, z)
        a5_2 = vmax(a5_2, z)
        a6_2 = vmax(a6_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
        a3_2 = vmin(vmax(a3_2, lo), hi)
        a4_2 = vmin(vmax(a4_2, lo), hi)
        a5_2 = vmin(vmax(a5_2, lo), hi)
        a6_2 = vmin(vmax(a6_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    vstore(of, o0 + 2 * os_ob + 3 * n, a3_2)
    vstore(of, o0 + 2 * os_ob + 4 * n, a4_2)
    vstore(of, o0 + 2 * os_ob + 5 * n, a5_2)
    vstore(of, o0 + 2 * os_ob + 6 * n, a6_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 7 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k4x3u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """4 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    a3_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    a3_2 = vfma(p3, w2, a3_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
        a3_2 = vadd(a3_2, vload(rf, o0 + 2 * os_ob + 3 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
        a3_2 = vmax(a3_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
        a3_2 = vmin(vmax(a3_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    vstore(of, o0 + 2 * os_ob + 3 * n, a3_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k3x3u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """3 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a0_2 = vload(bf, b0 + 2 * n, w)
    a1_2 = a0_2
    a2_2 = a0_2
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    a1_2 = vfma(p1, w2, a1_2)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    a2_2 = vfma(p2, w2, a2_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
        a1_2 = vadd(a1_2, vload(rf, o0 + 2 * os_ob + n, w))
        a2_2 = vadd(a2_2, vload(rf, o0 + 2 * os_ob + 2 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a0_2 = vmax(a0_2, z)
        a1_2 = vmax(a1_2, z)
        a2_2 = vmax(a2_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
        a1_2 = vmin(vmax(a1_2, lo), hi)
        a2_2 = vmin(vmax(a2_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    vstore(of, o0 + 2 * os_ob + n, a1_2)
    vstore(of, o0 + 2 * os_ob + 2 * n, a2_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k1x3u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """1 output pixels x 3 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a0_1 = vload(bf, b0 + 1 * n, w)
    a0_2 = vload(bf, b0 + 2 * n, w)
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    w2 = vload(wf, wi + 2 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    a0_2 = vfma(p0, w2, a0_2)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a0_2 = vadd(a0_2, vload(rf, o0 + 2 * os_ob, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a0_1 = vmax(a0_1, z)
        a0_2 = vmax(a0_2, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a0_2 = vmin(vmax(a0_2, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 2 * os_ob, a0_2)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 3, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k8x2u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """8 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a7_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    a7_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    p4 = _bload(xf, xi + 4 * n, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    p5 = _bload(xf, xi + 5 * n, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    p6 = _bload(xf, xi + 6 * n, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    p7 = _bload(xf, xi + 7 * n, w)
                    a7_0 = vfma(p7, w0, a7_0)
                    a7_1 = vfma(p7, w1, a7_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a7_0 = vadd(a7_0, vload(rf, o0 + 7 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
        a7_1 = vadd(a7_1, vload(rf, o0 + 1 * os_ob + 7 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a7_0 = vmax(a7_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
        a7_1 = vmax(a7_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a7_0 = vmin(vmax(a7_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
        a7_1 = vmin(vmax(a7_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 7 * n, a7_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    vstore(of, o0 + 1 * os_ob + 7 * n, a7_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k7x2u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """7 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    a4_1 = a0_1
    a5_1 = a0_1
    a6_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    p4 = _bload(xf, xi + 4 * n, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    a4_1 = vfma(p4, w1, a4_1)
                    p5 = _bload(xf, xi + 5 * n, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    a5_1 = vfma(p5, w1, a5_1)
                    p6 = _bload(xf, xi + 6 * n, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    a6_1 = vfma(p6, w1, a6_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
        a4_1 = vadd(a4_1, vload(rf, o0 + 1 * os_ob + 4 * n, w))
        a5_1 = vadd(a5_1, vload(rf, o0 + 1 * os_ob + 5 * n, w))
        a6_1 = vadd(a6_1, vload(rf, o0 + 1 * os_ob + 6 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
        a4_1 = vmax(a4_1, z)
        a5_1 = vmax(a5_1, z)
        a6_1 = vmax(a6_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
        a4_1 = vmin(vmax(a4_1, lo), hi)
        a5_1 = vmin(vmax(a5_1, lo), hi)
        a6_1 = vmin(vmax(a6_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    vstore(of, o0 + 1 * os_ob + 4 * n, a4_1)
    vstore(of, o0 + 1 * os_ob + 5 * n, a5_1)
    vstore(of, o0 + 1 * os_ob + 6 * n, a6_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 7 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k4x2u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """4 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    a3_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    a3_1 = vfma(p3, w1, a3_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
        a3_1 = vadd(a3_1, vload(rf, o0 + 1 * os_ob + 3 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
        a3_1 = vmax(a3_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
        a3_1 = vmin(vmax(a3_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    vstore(of, o0 + 1 * os_ob + 3 * n, a3_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k3x2u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """3 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a0_1 = vload(bf, b0 + 1 * n, w)
    a1_1 = a0_1
    a2_1 = a0_1
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    a1_1 = vfma(p1, w1, a1_1)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    a2_1 = vfma(p2, w1, a2_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
        a1_1 = vadd(a1_1, vload(rf, o0 + 1 * os_ob + n, w))
        a2_1 = vadd(a2_1, vload(rf, o0 + 1 * os_ob + 2 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a0_1 = vmax(a0_1, z)
        a1_1 = vmax(a1_1, z)
        a2_1 = vmax(a2_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
        a1_1 = vmin(vmax(a1_1, lo), hi)
        a2_1 = vmin(vmax(a2_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    vstore(of, o0 + 1 * os_ob + n, a1_1)
    vstore(of, o0 + 1 * os_ob + 2 * n, a2_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k1x2u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """1 output pixels x 2 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a0_1 = vload(bf, b0 + 1 * n, w)
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    w1 = vload(wf, wi + 1 * wblk, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    a0_1 = vfma(p0, w1, a0_1)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a0_1 = vadd(a0_1, vload(rf, o0 + 1 * os_ob, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a0_1 = vmax(a0_1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a0_1 = vmin(vmax(a0_1, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + 1 * os_ob, a0_1)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 2, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k8x1u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """8 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    a7_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    p4 = _bload(xf, xi + 4 * n, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    p5 = _bload(xf, xi + 5 * n, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    p6 = _bload(xf, xi + 6 * n, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    p7 = _bload(xf, xi + 7 * n, w)
                    a7_0 = vfma(p7, w0, a7_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
        a7_0 = vadd(a7_0, vload(rf, o0 + 7 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
        a7_0 = vmax(a7_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
        a7_0 = vmin(vmax(a7_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    vstore(of, o0 + 7 * n, a7_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k7x1u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """7 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    a4_0 = a0_0
    a5_0 = a0_0
    a6_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    p4 = _bload(xf, xi + 4 * n, w)
                    a4_0 = vfma(p4, w0, a4_0)
                    p5 = _bload(xf, xi + 5 * n, w)
                    a5_0 = vfma(p5, w0, a5_0)
                    p6 = _bload(xf, xi + 6 * n, w)
                    a6_0 = vfma(p6, w0, a6_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
        a4_0 = vadd(a4_0, vload(rf, o0 + 4 * n, w))
        a5_0 = vadd(a5_0, vload(rf, o0 + 5 * n, w))
        a6_0 = vadd(a6_0, vload(rf, o0 + 6 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
        a4_0 = vmax(a4_0, z)
        a5_0 = vmax(a5_0, z)
        a6_0 = vmax(a6_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
        a4_0 = vmin(vmax(a4_0, lo), hi)
        a5_0 = vmin(vmax(a5_0, lo), hi)
        a6_0 = vmin(vmax(a6_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    vstore(of, o0 + 4 * n, a4_0)
    vstore(of, o0 + 5 * n, a5_0)
    vstore(of, o0 + 6 * n, a6_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 7 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k4x1u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """4 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    a3_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    p3 = _bload(xf, xi + 3 * n, w)
                    a3_0 = vfma(p3, w0, a3_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
        a3_0 = vadd(a3_0, vload(rf, o0 + 3 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
        a3_0 = vmax(a3_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
        a3_0 = vmin(vmax(a3_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    vstore(of, o0 + 3 * n, a3_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k3x1u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """3 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    a1_0 = a0_0
    a2_0 = a0_0
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    p1 = _bload(xf, xi + n, w)
                    a1_0 = vfma(p1, w0, a1_0)
                    p2 = _bload(xf, xi + 2 * n, w)
                    a2_0 = vfma(p2, w0, a2_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
        a1_0 = vadd(a1_0, vload(rf, o0 + n, w))
        a2_0 = vadd(a2_0, vload(rf, o0 + 2 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
        a1_0 = vmax(a1_0, z)
        a2_0 = vmax(a2_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
        a1_0 = vmin(vmax(a1_0, lo), hi)
        a2_0 = vmin(vmax(a2_0, lo), hi)
    vstore(of, o0, a0_0)
    vstore(of, o0 + n, a1_0)
    vstore(of, o0 + 2 * n, a2_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _k1x1u(xf, wf, bf, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk, os_ob, rf, has_res, kind, alpha, beta, w):
    """1 output pixels x 1 blocks of W output channels; fused epilogue."""
    n = lanes(w)
    a0_0 = vload(bf, b0, w)
    wi = w0
    for ib in range(icb):
        for i in range(kh_):
            for j in range(kw_):
                xi = x0 + ib * xs_ib + i * xs_kh + j * xs_kw
                for c in range(n):
                    w0 = vload(wf, wi, w)
                    p0 = _bload(xf, xi, w)
                    a0_0 = vfma(p0, w0, a0_0)
                    xi += 1
                    wi += n
    if has_res:
        a0_0 = vadd(a0_0, vload(rf, o0, w))
    if kind == RELU:
        z = vzero(w)
        a0_0 = vmax(a0_0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0_0 = vmin(vmax(a0_0, lo), hi)
    vstore(of, o0, a0_0)
    if kind > CLIP:
        activate_block(of, o0, os_ob, 1, 1 * n, kind, alpha, beta, w)
# ---- end of generated code ----


@njit(cache=True, nogil=True, inline="always")
def _row(nb, unit, xf, wf, bias, of, xrow, w0, b0, orow, tiles, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
         os_ob, rf, has_res, kind, alpha, beta, w):
    """One output row of nb output-channel blocks, split into the plan-time tiles (see row_tiles)."""
    n = lanes(w)
    ox = 0
    for k in range(tiles.shape[0]):
        t = tiles[k]
        x0 = xrow + ox * sxw
        o0 = orow + ox * n
        if unit:
            if nb == 3:
                if t == 8:
                    _k8x3u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 7:
                    _k7x3u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 4:
                    _k4x3u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 3:
                    _k3x3u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                else:
                    _k1x3u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
            elif nb == 2:
                if t == 8:
                    _k8x2u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 7:
                    _k7x2u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 4:
                    _k4x2u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 3:
                    _k3x2u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                else:
                    _k1x2u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
            else:
                if t == 8:
                    _k8x1u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 7:
                    _k7x1u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 4:
                    _k4x1u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 3:
                    _k3x1u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                else:
                    _k1x1u(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
        else:
            if nb == 3:
                if t == 8:
                    _k8x3(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 7:
                    _k7x3(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 4:
                    _k4x3(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 3:
                    _k3x3(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                else:
                    _k1x3(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
            elif nb == 2:
                if t == 8:
                    _k8x2(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 7:
                    _k7x2(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 4:
                    _k4x2(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 3:
                    _k3x2(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                else:
                    _k1x2(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
            else:
                if t == 8:
                    _k8x1(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 7:
                    _k7x1(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 4:
                    _k4x1(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                elif t == 3:
                    _k3x1(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
                else:
                    _k1x1(xf, wf, bias, of, x0, w0, b0, o0, icb, kh_, kw_, xs_ib, xs_kh, xs_kw, sxw, wblk,
                           os_ob, rf, has_res, kind, alpha, beta, w)
        ox += t


@njit(cache=True, nogil=True, inline="always")
def _task(t, nchunk, xf, wf, bias, of, rf, n_, icb, hp, wpd, ocb, oh_, ow_, kh_, kw_, sh, sw, dh, dw, has_res, kind,
          alpha, beta, tiles, w):
    """Task t of (image, row chunk, group, row in chunk); see conv_nchwc_direct_f32."""
    n = lanes(w)
    xs_ib = hp * wpd * n
    ng = (ocb + 2) // 3
    base = ocb // ng
    extra = ocb % ng
    rpc = (oh_ + nchunk - 1) // nchunk
    b = t // (nchunk * ng * rpc)
    r = t % (nchunk * ng * rpc)
    chunk = r // (ng * rpc)
    g = (r // rpc) % ng
    oy = chunk * rpc + r % rpc
    if oy < oh_:
        ob = g * base + min(g, extra)
        nb = base + 1 if g < extra else base
        wblk = icb * kh_ * kw_ * n * n
        xrow = (b * icb * hp + oy * sh) * wpd * n
        orow = ((b * ocb + ob) * oh_ + oy) * ow_ * n
        _row(nb, sw == 1, xf, wf, bias, of, xrow, ob * wblk, ob * n, orow, tiles, icb, kh_, kw_, xs_ib,
             dh * wpd * n, dw * n, sw * n, wblk, oh_ * ow_ * n, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, parallel=True, nogil=True)
def conv_nchwc_direct_f32(xp, wp, bias, sh, sw, dh, dw, res, has_res, kind, alpha, beta, out, tiles, nthreads, w):
    """out (N, OCb, OH, OW, W) = act(conv(xp (N, ICb, Hp, Wp, W) zero-bordered, wp (OCb, ICb, KH, KW, W, W))
    + bias (OCb*W,) [+ res (out's shape)]). Strides sh, sw and dilations dh, dw; the pads are already in xp.
    Epilogue: has_res, kind, alpha, beta as in kernels/numba/epilogue.py; tiles: the widths of the micro-kernel
    tiles that cover one output row (row_tiles); nthreads: numba.get_num_threads() of the caller (read
    outside: inside, it would make the function uncacheable). Output-channel blocks are taken in balanced
    groups of at most 3 (e.g. 4 blocks -> 2 + 2, 16 -> 3,3,3,3,2,2); one task = (image, group, row).
    Task order (image, row chunk, group, row in chunk): prange hands each thread one contiguous range, so with
    one chunk per thread every thread gets every group (groups differ in size) for its own rows, and
    consecutive tasks reuse one group's weights."""
    n_, icb, hp, wpd = xp.shape[0], xp.shape[1], xp.shape[2], xp.shape[3]
    ocb, oh_, ow_ = out.shape[1], out.shape[2], out.shape[3]
    kh_, kw_ = wp.shape[2], wp.shape[3]
    nchunk = max(1, min(nthreads, oh_))
    tasks = n_ * nchunk * ((ocb + 2) // 3) * ((oh_ + nchunk - 1) // nchunk)
    for t in prange(tasks):
        _task(t, nchunk, xp.reshape(-1), wp.reshape(-1), bias, out.reshape(-1), res.reshape(-1), n_, icb, hp, wpd,
              ocb, oh_, ow_, kh_, kw_, sh, sw, dh, dw, has_res, kind, alpha, beta, tiles, w)


@njit(cache=True, nogil=True)
def conv_nchwc_direct_serial_f32(xp, wp, bias, sh, sw, dh, dw, res, has_res, kind, alpha, beta, out, tiles, w):
    """conv_nchwc_direct_f32 on the calling thread: for layers whose work is smaller than a parallel region's
    cost (~3 us to open one here, even at one thread)."""
    n_, icb, hp, wpd = xp.shape[0], xp.shape[1], xp.shape[2], xp.shape[3]
    ocb, oh_, ow_ = out.shape[1], out.shape[2], out.shape[3]
    kh_, kw_ = wp.shape[2], wp.shape[3]
    xf, wf, of, rf = xp.reshape(-1), wp.reshape(-1), out.reshape(-1), res.reshape(-1)
    for t in range(n_ * ((ocb + 2) // 3) * oh_):
        _task(t, 1, xf, wf, bias, of, rf, n_, icb, hp, wpd, ocb, oh_, ow_, kh_, kw_, sh, sw, dh, dw, has_res, kind,
              alpha, beta, tiles, w)


@njit(cache=True, inline="always")
def _pad_row(x, row, b, ch0, iy, pl, wd, c):
    """row (Wp, c) = zero border + x[b, ch0:ch0+c, iy, :] interleaved; c a literal for constant trip counts."""
    cv = min(c, x.shape[1] - ch0)
    wpd = row.shape[0]
    for j in range(pl):
        for k in range(c):
            row[j, k] = 0.0
    for j in range(pl + wd, wpd):
        for k in range(c):
            row[j, k] = 0.0
    if cv == c:
        for j in range(wd):
            for k in range(c):
                row[pl + j, k] = x[b, ch0 + k, iy, j]
    else:
        for j in range(wd):
            for k in range(c):
                row[pl + j, k] = x[b, ch0 + k, iy, j] if k < cv else np.float32(0.0)


@njit(cache=True, parallel=True, nogil=True)
def pad_nchw_to_nchwc_f32(x, pt, pl, xp):
    """x (N, C, H, Wd) -> xp (N, ICb, Hp, Wp, c): x[n, b*c + k, y, j] at xp[n, b, pt + y, pl + j, k], zeros in
    the border and in the channels past C. One task per padded row; each output row is written contiguously
    (the first version wrote it channel by channel, strided: 3-4x slower on 1x256x56x56)."""
    _pad_nchw_to_nchwc(x, pt, pl, xp)


@njit(cache=True, nogil=True)
def pad_nchw_to_nchwc_serial_f32(x, pt, pl, xp):
    """pad_nchw_to_nchwc_f32 on the calling thread."""
    _pad_nchw_to_nchwc(x, pt, pl, xp)


@njit(cache=True, nogil=True, inline="always")
def _pad_nchw_to_nchwc(x, pt, pl, xp):
    n_, ch, h, wd = x.shape
    icb, hp, wpd, c = xp.shape[1], xp.shape[2], xp.shape[3], xp.shape[4]
    for t in prange(n_ * icb * hp):
        b = t // (icb * hp)
        r = t % (icb * hp)
        ib = r // hp
        iy = r % hp - pt
        row = xp[b, ib, r % hp]
        if iy < 0 or iy >= h:
            for j in range(wpd):
                for k in range(c):
                    row[j, k] = 0.0
        elif c == 16:
            _pad_row(x, row, b, ib * 16, iy, pl, wd, 16)
        elif c == 8:
            _pad_row(x, row, b, ib * 8, iy, pl, wd, 8)
        else:
            _pad_row(x, row, b, ib * c, iy, pl, wd, c)


def supports(cfg) -> bool:
    """Dense (group == 1) 1-D / 2-D convolution."""
    return cfg.group == 1 and cfg.rank <= 2


@njit(cache=True, parallel=True, nogil=True)
def pad_nchwc_f32(x, pt, pl, xp):
    """x (N, Cb, H, Wd, c) -> xp (N, Cb, Hp, Wp, c) with x at [pt:pt+H, pl:pl+Wd] and a zero border: the
    direct kernel's padded input when the producer already wrote NCHWc. One task per padded row."""
    _pad_nchwc(x, pt, pl, xp)


@njit(cache=True, nogil=True)
def pad_nchwc_serial_f32(x, pt, pl, xp):
    """pad_nchwc_f32 on the calling thread."""
    _pad_nchwc(x, pt, pl, xp)


@njit(cache=True, nogil=True, inline="always")
def _pad_nchwc(x, pt, pl, xp):
    n_, cb, h, wd, c = x.shape
    hp, wpd = xp.shape[2], xp.shape[3]
    for t in prange(n_ * cb * hp):
        b = t // (cb * hp)
        r = t % (cb * hp)
        ib = r // hp
        iy = r % hp - pt
        row = xp[b, ib, r % hp]
        if iy < 0 or iy >= h:
            for j in range(wpd):
                for k in range(c):
                    row[j, k] = 0.0
        else:
            src = x[b, ib, iy]
            for j in range(pl):
                for k in range(c):
                    row[j, k] = 0.0
            for j in range(wd):
                for k in range(c):
                    row[pl + j, k] = src[j, k]
            for j in range(pl + wd, wpd):
                for k in range(c):
                    row[j, k] = 0.0


PARALLEL_MACS = 400_000   # an image's MACs below which a conv runs on the calling thread (~4 us at 1 thread)
TILE_CALL = 2     # a tile call's fixed cost, in FMA slots (arguments, bias loads, epilogue, stores)
FMA_SLOTS = 8     # accumulators that keep the FMA pipes busy (2 pipes x 4 cycles latency)


def row_tiles(ow: int, nb: int, registers: int = 32) -> np.ndarray:
    """The split of an `ow`-pixel output row into TILES for nb output-channel blocks, cheapest by a cost model
    solved exactly (a tile of t pixels costs max(t * nb, FMA_SLOTS) + TILE_CALL: fewer accumulators than
    FMA_SLOTS leave the pipes waiting on FMA latency). E.g. 32 pixels, 1 block: 8+8+8+8 (7+7+7+7+4 before
    this choice: the 4-pixel tail ran at half speed); 27: 8+8+7+4 (was 7+7+7+4+1+1).
    Only tiles whose registers fit are used: t*nb accumulators + nb weight vectors + 1 broadcast input <=
    `registers` (Platform.vector_registers). AVX2's 16 ymm take 4 x 3 but not 8 x 3 (24 accumulators): the
    spills of the 8- and 7-pixel tiles ran 3x3 convs at 36-41 GFLOP/s against 71-89 with 4-pixel tiles (one
    thread, 64->64 @56 to 256->256 @14, 2026-11-25). There a 7-pixel row was 4+1+1+1 (the 1-pixel tiles wait on
    FMA latency) until the 3-pixel tile made it 4+3: ResNet-50's 7x7 layers at 2 threads, 512->512 3x3 3.30 ->
    1.69 ms, 512->2048 1x1 1.88 -> 0.74 ms; 14x14 rows 4+4+4+1+1 -> 4+4+3+3, 256->256 3x3 1.98 -> 1.74 ms."""
    tiles = [t for t in TILES if t == 1 or t * nb + nb + 1 <= registers]
    best = [(0.0, ())] + [(np.inf, ())] * ow
    for x in range(1, ow + 1):
        for t in TILES:
            if t <= x and t in tiles:
                cost = best[x - t][0] + max(t * nb, FMA_SLOTS) + TILE_CALL
                if cost < best[x][0]:
                    best[x] = (cost, best[x - t][1] + (t,))
    return np.array(sorted(best[ow][1], reverse=True), np.int64)


def make_runner(cfg, width: int, w, b, epilogue=NO_EPILOGUE, blocked_in=False, blocked_res=False,
                blocked_out=False):
    """run(x, residual or None) -> (y,) for one ConvConfig; weights and bias packed here, once; the epilogue
    (residual add, activation) fused into the micro-kernels. x, the residual and y are NCHW, or NCHWc
    (N, ceil(C/W), H, W, W) where the layout pass (fastconv/plan/layout.py) says so: a blocked input is only
    padded (or used as is when the conv has no padding), a plain one padded and reordered in one pass."""
    tok = width_token(width)
    c, m = cfg.in_channels, cfg.out_channels
    icb, ocb = -(-c // width), -(-m // width)
    _, kh, kw = cfg.kernel
    _, sh, sw = cfg.strides
    _, dh, dw = cfg.dilations
    _, pt, pl = cfg.pads_begin
    _, pb, pr = cfg.pads_end
    _, h, wd = cfg.in_spatial
    _, oh, ow = cfg.out_spatial
    wp = layout.pack_oihw_to_OIhwio(np.asarray(w, np.float32).reshape(m, c, kh, kw), width, width)
    bias = np.zeros(ocb * width, np.float32)
    if b is not None:
        bias[:m] = np.asarray(b, np.float32)
    hp, wpd = pt + h + pb, pl + wd + pr
    unpadded = hp == h and wpd == wd
    has_res = epilogue.residual
    kind, alpha, beta = epilogue.args
    blocked_shape = (cfg.batch, ocb, oh, ow, width)
    registers = Platform.detect(simd_width=width).vector_registers
    tiles = row_tiles(ow, -(-ocb // -(-ocb // 3)), registers)   # the largest balanced group of <= 3 blocks
    serial = cfg.out_channels * oh * ow * c * kh * kw < PARALLEL_MACS   # per image
    # the copies around the core run on the calling thread when small: a parallel region costs 3-5 us
    small_copy = cfg.batch * max(c, m) * max(hp * wpd, oh * ow) < layout.PARALLEL_FLOATS
    pad_plain = layout.driver(pad_nchw_to_nchwc_f32, pad_nchw_to_nchwc_serial_f32, small_copy)
    pad_blocked = layout.driver(pad_nchwc_f32, pad_nchwc_serial_f32, small_copy)
    par_core, ser_core = bound(conv_nchwc_direct_f32), bound(conv_nchwc_direct_serial_f32)

    def core(xp, wp, bias, sh, sw, dh, dw, res, has_res, kind, alpha, beta, y, tiles, tok):
        threads = get_num_threads()
        if serial and xp.shape[0] == 1 or threads == 1:
            ser_core(xp, wp, bias, sh, sw, dh, dw, res, has_res, kind, alpha, beta, y, tiles, tok)
        else:
            par_core(xp, wp, bias, sh, sw, dh, dw, res, has_res, kind, alpha, beta, y, tiles, threads, tok)

    to_blocked = layout.driver(layout.nchw_to_nchwc_f32, layout.nchw_to_nchwc_serial_f32, small_copy)
    to_plain = layout.driver(layout.nchwc_to_nchw_f32, layout.nchwc_to_nchw_serial_f32, small_copy)

    @accepts_out
    def run(x, residual=None, out=None):
        n_ = x.shape[0]
        # the blocked copies live in per-thread scratch (kernels/buffers.py), not fresh arrays per call
        if not blocked_in:
            xp = take_shaped("nchwc_in", (n_, icb, hp, wpd, width))
            pad_plain(np.ascontiguousarray(x, np.float32).reshape(n_, c, h, wd), pt, pl, xp)
        elif unpadded:
            xp = x
        else:
            xp = take_shaped("nchwc_in", (n_, icb, hp, wpd, width))
            pad_blocked(x, pt, pl, xp)
        res = NO_RESIDUAL
        if has_res:
            res = residual
            if not blocked_res:
                res = take_shaped("nchwc_res", (n_, ocb, oh * ow, width))
                to_blocked(np.ascontiguousarray(residual, np.float32).reshape(n_, m, oh * ow), res)
            res = np.ascontiguousarray(res).reshape(-1)   # one core specialisation for every residual layout
        if blocked_out:
            y = output(out, blocked_shape)
            core(xp, wp, bias, sh, sw, dh, dw, res, has_res, kind, alpha, beta, y, tiles, tok)
            return (y,)
        yc = take_shaped("nchwc_out", (n_, ocb, oh, ow, width))
        core(xp, wp, bias, sh, sw, dh, dw, res, has_res, kind, alpha, beta, yc, tiles, tok)
        y = output(out, cfg.output_shape)
        to_plain(yc.reshape(n_, ocb, oh * ow, width), y.reshape(n_, m, oh * ow))
        return (y,)

    return run


if __name__ == "__main__":
    regenerate(__file__, emit_tiles())
