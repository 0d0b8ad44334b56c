"""fastconv's explicit-SIMD layer for Numba: a vector of W float32 lanes as an LLVM `<W x float>` value.

Why: Numba does not auto-vectorise the loop nests of convolution or GEMM micro-kernels (plain @njit loops
reach 1-7 GFLOP/s on a machine whose FMA peak is ~117 GFLOP/s per core). With this layer a kernel names its
vector registers itself (`acc0 = vfma(w, x, acc0)`); LLVM keeps them in registers and legalises any width on
any target: W=16 is one zmm register on AVX-512, two ymm on AVX2, four q registers on NEON. See
docs/KERNELS.md for the design, the assembly it produces and the measured ceilings.

Widths. Every constructor takes the width as a compile-time constant, so that one kernel source compiles
to one cached specialisation per width:
- a width token, `simd.W8` / `simd.W16` / `simd.width_token(platform.simd_width)`, passed to the kernel as
  an ordinary argument: each token has its own Numba type, so the dispatcher compiles (and caches) the
  kernel once per width and the width is a constant inside the machine code; or
- an integer literal written in the source (`vload(x, i, 16)`), as generated micro-kernels do.
Do not read the width from a module global that can change: Numba freezes globals into the cache.
`lanes(w)` (token, literal or vector) gives the width as an integer inside a kernel.

Operations (a, b, c are vectors of one width; mixing widths is a typing error):
    vload(arr, offset, w)     lanes arr.flat[offset : offset+w]; unaligned
    vstore(arr, offset, v)    writes v into arr.flat[offset : offset+w]; unaligned
    vbroadcast(x, w)          every lane = float32(x)
    vzero(w)                  every lane = 0
    vfma(a, b, c)             a*b + c, fused (llvm.fma: one rounding)
    vadd / vsub / vmul(a, b)  lane-wise
    vmax(a, b), vmin(a, b)    b if a < b else a (vmax) / b if a > b else a (vmin): a single maxps/minps.
                              A NaN in `a` propagates, a NaN in `b` does not: write vmax(x, vzero(w)) for Relu.
    vmax_nan(a, b)            max that propagates a NaN from either side (maxps + unordered test + blend)
    vreduce_add(a)            horizontal sum as a float32 (pairwise tree over halves: fixed order)
    vreduce_max(a)            horizontal max as a float32 (vmax_nan over halves: a NaN lane propagates)
    vload_n(arr, off, n, w)   lanes i < n of arr.flat[off + i], zeros elsewhere; masked-off lanes touch no memory
    vstore_n(arr, off, v, n)  arr.flat[off + i] = v[i] for lanes i < n only
    vblend_n(a, b, n)         lanes i < n of a, the others of b
    veven(a, b), vodd(a, b)   lanes 0, 2, 4, ... / 1, 3, 5, ... of a ++ b (the stride-2 split: one vpermt2ps)
`arr` must be a C-contiguous float32 array of any rank (offsets are flat element offsets).
vload/vstore do NO bounds check: the caller guarantees 0 <= offset and offset + w <= arr.size. Out-of-range
accesses read garbage or corrupt memory silently; tail elements need a scalar loop or a padded buffer.
Vectors live only inside compiled code (no boxing): store them into arrays to get results out. They work in
@njit(cache=True) functions and inside prange bodies (a vector may be live into a prange body; a vector
cannot be a prange reduction variable).
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.imputils import lower_constant
from numba.extending import (
    NativeValue,
    intrinsic,
    models,
    register_model,
    typeof_impl,
    unbox,
)

SUPPORTED_WIDTHS = (4, 8, 16)
_F32 = ir.FloatType()


class SimdVec(types.Type):
    """Numba type of a vector of `width` float32 lanes; data model `<width x float>`."""

    def __init__(self, width: int):
        self.width = width
        super().__init__(name=f"f32x{width}")


@register_model(SimdVec)
class _SimdVecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(_F32, fe_type.width))


class Width:
    """Python-side width token: pass it to a kernel to select (and cache) that kernel's width."""

    __slots__ = ("lanes",)

    def __init__(self, lanes: int):
        self.lanes = lanes

    def __repr__(self) -> str:
        return f"simd.W{self.lanes}"

    def __reduce__(self):
        return (width_token, (self.lanes,))


class SimdWidthType(types.Type):
    """Numba type of a width token; carries no data, only the width."""

    def __init__(self, width: int):
        self.width = width
        super().__init__(name=f"simd_width{width}")


register_model(SimdWidthType)(models.OpaqueModel)


@typeof_impl.register(Width)
def _typeof_width(val, c):
    return SimdWidthType(val.lanes)


@unbox(SimdWidthType)
def _unbox_width(typ, obj, c):
    return NativeValue(c.context.get_dummy_value())


@lower_constant(SimdWidthType)
def _constant_width(context, builder, ty, pyval):
    return context.get_dummy_value()


_TOKENS = {w: Width(w) for w in SUPPORTED_WIDTHS}
W4, W8, W16 = _TOKENS[4], _TOKENS[8], _TOKENS[16]


def width_token(lanes: int) -> Width:
    """The token for `lanes` float32 lanes (4, 8 or 16), e.g. width_token(Platform.simd_width)."""
    try:
        return _TOKENS[int(lanes)]
    except KeyError:
        raise ValueError(f"SIMD width must be one of {SUPPORTED_WIDTHS}, got {lanes}") from None


def _width_of(ty, what: str) -> int:
    """The compile-time width named by a token type, an integer literal or a vector type."""
    if isinstance(ty, (SimdWidthType, SimdVec)):
        return ty.width
    if isinstance(ty, types.IntegerLiteral):
        if ty.literal_value not in SUPPORTED_WIDTHS:
            raise TypingError(f"{what}: SIMD width must be one of {SUPPORTED_WIDTHS}, got {ty.literal_value}")
        return ty.literal_value
    raise TypingError(f"{what}: the width must be a compile-time constant (a simd.W8/W16 token or an integer "
                      f"literal), got {ty}")


def _check_array(arr, what: str):
    if not (isinstance(arr, types.Array) and arr.dtype == types.float32 and arr.layout == "C"):
        raise TypingError(f"{what}: needs a C-contiguous float32 array, got {arr}")


def _check_vecs(what: str, *tys):
    if not all(isinstance(t, SimdVec) for t in tys) or len({t.width for t in tys}) != 1:
        raise TypingError(f"{what}: needs SIMD vectors of one width, got {', '.join(map(str, tys))}")


def _elem_ptr(context, builder, arrty, arr, offty, offset):
    data = context.make_array(arrty)(context, builder, arr).data
    return builder.gep(data, [context.cast(builder, offset, offty, types.intp)])


def _vec_ptr(context, builder, arrty, arr, offty, offset, width):
    return builder.bitcast(_elem_ptr(context, builder, arrty, arr, offty, offset),
                           ir.VectorType(_F32, width).as_pointer())


@intrinsic
def lanes(typingctx, w):
    """Number of lanes of a width token, integer literal or vector, as a constant intp."""
    width = _width_of(w, "lanes")

    def codegen(context, builder, sig, args):
        return context.get_constant(types.intp, width)

    return types.intp(w), codegen


@intrinsic
def vload(typingctx, arr, offset, w):
    """Unaligned load of lanes arr.flat[offset:offset+w]. No bounds check."""
    _check_array(arr, "vload")
    if not isinstance(offset, types.Integer):
        raise TypingError(f"vload: offset must be an integer, got {offset}")
    width = _width_of(w, "vload")

    def codegen(context, builder, sig, args):
        ptr = _vec_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1], width)
        return builder.load(ptr, align=4)

    return SimdVec(width)(arr, offset, w), codegen


@intrinsic
def vstore(typingctx, arr, offset, v):
    """Unaligned store of v into arr.flat[offset:offset+width]. No bounds check."""
    _check_array(arr, "vstore")
    if not isinstance(offset, types.Integer):
        raise TypingError(f"vstore: offset must be an integer, got {offset}")
    _check_vecs("vstore", v)
    if not arr.mutable:
        raise TypingError("vstore: the array is read-only")

    def codegen(context, builder, sig, args):
        ptr = _vec_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1], sig.args[2].width)
        builder.store(args[2], ptr, align=4)
        return context.get_dummy_value()

    return types.none(arr, offset, v), codegen


@intrinsic
def vbroadcast(typingctx, x, w):
    """Every lane = float32(x)."""
    if not isinstance(x, (types.Float, types.Integer)):
        raise TypingError(f"vbroadcast: needs a number, got {x}")
    width = _width_of(w, "vbroadcast")

    def codegen(context, builder, sig, args):
        val = context.cast(builder, args[0], sig.args[0], types.float32)
        vty = ir.VectorType(_F32, width)
        one = builder.insert_element(ir.Constant(vty, ir.Undefined), val, ir.Constant(ir.IntType(32), 0))
        mask = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)
        return builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), mask)

    return SimdVec(width)(x, w), codegen


@intrinsic
def vzero(typingctx, w):
    """Every lane = 0.0."""
    width = _width_of(w, "vzero")

    def codegen(context, builder, sig, args):
        return ir.Constant(ir.VectorType(_F32, width), None)

    return SimdVec(width)(w), codegen


def _llvm_intrinsic(builder, name, vty, nargs):
    fnty = ir.FunctionType(vty, [vty] * nargs)
    return cgutils.get_or_insert_function(builder.module, fnty, f"{name}.v{vty.count}f32")


@intrinsic
def vfma(typingctx, a, b, c):
    """a*b + c with one rounding (llvm.fma: vfmadd on x86, fmla on ARM)."""
    _check_vecs("vfma", a, b, c)

    def codegen(context, builder, sig, args):
        fn = _llvm_intrinsic(builder, "llvm.fma", args[0].type, 3)
        return builder.call(fn, args)

    return a(a, b, c), codegen


def _binary(name, emit):
    def typer(typingctx, a, b):
        _check_vecs(name, a, b)

        def codegen(context, builder, sig, args):
            return emit(builder, args[0], args[1])

        return a(a, b), codegen

    typer.__name__ = name
    return intrinsic(typer)


vadd = _binary("vadd", lambda bld, a, b: bld.fadd(a, b))
vsub = _binary("vsub", lambda bld, a, b: bld.fsub(a, b))
vmul = _binary("vmul", lambda bld, a, b: bld.fmul(a, b))
# select(a < b, b, a) is exactly x86 maxps(b, a): one instruction, NaN in `a` propagates.
vmax = _binary("vmax", lambda bld, a, b: bld.select(bld.fcmp_ordered("<", a, b), b, a))
vmin = _binary("vmin", lambda bld, a, b: bld.select(bld.fcmp_ordered(">", a, b), b, a))


def _max_nan(bld, a, b):
    """vmax(a, b), then b where b is NaN: a NaN on either side survives (pooling must not depend on fold
    order)."""
    return bld.select(bld.fcmp_unordered("uno", b, b), b, bld.select(bld.fcmp_ordered("<", a, b), b, a))


vmax_nan = _binary("vmax_nan", _max_nan)


def _reduction(name, combine):
    def typer(typingctx, a):
        _check_vecs(name, a)

        def codegen(context, builder, sig, args):
            v = args[0]
            n = v.type.count
            while n > 1:  # upper half folded onto the lower half until one lane remains
                n //= 2
                lo = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(ir.IntType(32), n), list(range(n))))
                hi = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(ir.IntType(32), n),
                                                              list(range(n, 2 * n))))
                v = combine(builder, lo, hi)
            return builder.extract_element(v, ir.Constant(ir.IntType(32), 0))

        return types.float32(a), codegen

    typer.__name__ = name
    return intrinsic(typer)


# horizontal sum (fixed pairwise order) and max (NaN if any lane is NaN) as a float32
vreduce_add = _reduction("vreduce_add", lambda bld, a, b: bld.fadd(a, b))
vreduce_max = _reduction("vreduce_max", _max_nan)


vdiv = _binary("vdiv", lambda bld, a, b: bld.fdiv(a, b))


def _lane_mask(builder, count, width):
    """<width x i1>: lane i is on when i < count (count an i64, any value)."""
    cnt = builder.select(builder.icmp_signed(">", count, ir.Constant(count.type, width)),
                         ir.Constant(count.type, width), count)
    cnt = builder.select(builder.icmp_signed("<", cnt, ir.Constant(count.type, 0)), ir.Constant(count.type, 0), cnt)
    vty = ir.VectorType(ir.IntType(32), width)
    splat = builder.shuffle_vector(builder.insert_element(ir.Constant(vty, ir.Undefined),
                                                          builder.trunc(cnt, ir.IntType(32)),
                                                          ir.Constant(ir.IntType(32), 0)),
                                   ir.Constant(vty, ir.Undefined), ir.Constant(vty, [0] * width))
    return builder.icmp_signed("<", ir.Constant(vty, list(range(width))), splat)


def _check_masked(arr, offset, count, what):
    _check_array(arr, what)
    if not (isinstance(offset, types.Integer) and isinstance(count, types.Integer)):
        raise TypingError(f"{what}: offset and count must be integers, got {offset}, {count}")


@intrinsic
def vload_n(typingctx, arr, offset, count, w):
    """Lanes i < count of arr.flat[offset + i], zeros elsewhere (count may be <= 0 or > W). Masked-off lanes
    touch no memory, so the caller only guarantees the first min(count, W) elements are in the array."""
    _check_masked(arr, offset, count, "vload_n")
    width = _width_of(w, "vload_n")

    def codegen(context, builder, sig, args):
        ptr = _elem_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        mask = _lane_mask(builder, context.cast(builder, args[2], sig.args[2], types.int64), width)
        vty = ir.VectorType(_F32, width)
        fnty = ir.FunctionType(vty, [ptr.type, ir.IntType(32), mask.type, vty])
        fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.masked.load.v{width}f32.p0")
        return builder.call(fn, [ptr, ir.Constant(ir.IntType(32), 4), mask, ir.Constant(vty, None)])

    return SimdVec(width)(arr, offset, count, w), codegen


@intrinsic
def vstore_n(typingctx, arr, offset, v, count):
    """arr.flat[offset + i] = v[i] for lanes i < count (count may be <= 0 or > W)."""
    _check_masked(arr, offset, count, "vstore_n")
    _check_vecs("vstore_n", v)
    if not arr.mutable:
        raise TypingError("vstore_n: the array is read-only")
    width = v.width

    def codegen(context, builder, sig, args):
        ptr = _elem_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        count = context.cast(builder, args[3], sig.args[3], types.int64)
        vty = ir.VectorType(_F32, width)
        # a whole vector takes a plain store: AVX2's masked store (vmaskmovps) costs ~10x a store on AMD Zen
        # (4 vs 0.4 ns per vector measured, 2026-11-25); AVX-512's mask registers make it cheap there
        with builder.if_else(builder.icmp_signed(">=", count, ir.Constant(count.type, width))) as (full, part):
            with full:
                builder.store(args[2], builder.bitcast(ptr, vty.as_pointer()), align=4)
            with part:
                mask = _lane_mask(builder, count, width)
                fnty = ir.FunctionType(ir.VoidType(), [vty, ptr.type, ir.IntType(32), mask.type])
                fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.masked.store.v{width}f32.p0")
                builder.call(fn, [args[2], ptr, ir.Constant(ir.IntType(32), 4), mask])
        return context.get_dummy_value()

    return types.none(arr, offset, v, count), codegen


@intrinsic
def vblend_n(typingctx, a, b, count):
    """Lanes i < count of a, the others of b (count may be <= 0 or > W)."""
    _check_vecs("vblend_n", a, b)
    if not isinstance(count, types.Integer):
        raise TypingError(f"vblend_n: count must be an integer, got {count}")

    def codegen(context, builder, sig, args):
        mask = _lane_mask(builder, context.cast(builder, args[2], sig.args[2], types.int64), a.width)
        return builder.select(mask, args[0], args[1])

    return a(a, b, count), codegen


def _deal(first):
    def typer(typingctx, a, b):
        _check_vecs(typer.__name__, a, b)

        def codegen(context, builder, sig, args):
            idx = list(range(first, 2 * a.width, 2))
            return builder.shuffle_vector(args[0], args[1], ir.Constant(ir.VectorType(ir.IntType(32), a.width), idx))

        return a(a, b), codegen

    typer.__name__ = "veven" if first == 0 else "vodd"
    typer.__doc__ = f"Lanes {first}, {first + 2}, {first + 4}, ... of the concatenation a ++ b."
    return intrinsic(typer)


veven, vodd = _deal(0), _deal(1)

# exp(x) = 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two for exactness), p the Cephes expf
# polynomial (about 1 ulp on [-ln2/2, ln2/2]). 2^n is applied as 2^(n>>1) * 2^(n - (n>>1)), two factors built
# in the exponent bits, so that results down to the denormals and up to FLT_MAX come out right; x is clamped to
# [-104, 88.72] (exp is 0 below, +inf above); NaN lanes return NaN.
_EXP_POLY = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
             5.0000001201e-1)


@intrinsic
def vexp(typingctx, a):
    """exp of every lane (polynomial, ~1 ulp; no libm call, so it stays vectorised on every target)."""
    _check_vecs("vexp", a)

    def codegen(context, builder, sig, args):
        x = args[0]
        vty = x.type
        n = vty.count
        ity = ir.VectorType(ir.IntType(32), n)

        def const(v):
            return ir.Constant(vty, [float(v)] * n)

        fma = _llvm_intrinsic(builder, "llvm.fma", vty, 3)
        rint = _llvm_intrinsic(builder, "llvm.rint", vty, 1)
        xc = builder.select(builder.fcmp_ordered("<", x, const(-104.0)), const(-104.0), x)
        xc = builder.select(builder.fcmp_ordered(">", xc, const(88.72)), const(88.72), xc)
        k = builder.call(rint, [builder.fmul(xc, const(1.4426950408889634))])
        r = builder.call(fma, [k, const(-0.693359375), xc])
        r = builder.call(fma, [k, const(2.12194440e-4), r])
        p = const(_EXP_POLY[0])
        for c in _EXP_POLY[1:]:
            p = builder.call(fma, [p, r, const(c)])
        r2 = builder.fmul(r, r)
        p = builder.call(fma, [p, r2, builder.fadd(r, const(1.0))])
        ki = builder.fptosi(k, ity)
        k1 = builder.ashr(ki, ir.Constant(ity, [1] * n))
        k2 = builder.sub(ki, k1)

        def pow2(e):
            bits = builder.shl(builder.add(e, ir.Constant(ity, [127] * n)), ir.Constant(ity, [23] * n))
            return builder.bitcast(bits, vty)

        res = builder.fmul(builder.fmul(p, pow2(k1)), pow2(k2))
        res = builder.select(builder.fcmp_ordered(">", x, const(88.72)), const(float("inf")), res)
        return builder.select(builder.fcmp_unordered("uno", x, x), x, res)

    return a(a), codegen
