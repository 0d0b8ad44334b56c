"""fastconv's explicit-SIMD layer (fastconv/kernels/numba/simd.py): every intrinsic against numpy at W=8 and
W=16 inside small cached @njit kernels (offsets not multiples of W included), prange, the on-disk cache, and
the generated assembly of an FMA micro-kernel (full-width FMA, no stack traffic in the inner loop)."""
import os
import platform
import re
import subprocess
import sys

import numpy as np
import pytest
from numba import njit, prange
from numba.core.errors import TypingError

from fastconv.kernels.numba import simd
from fastconv.kernels.numba.simd import (
    lanes,
    vadd,
    vbroadcast,
    vfma,
    vload,
    vmax,
    vmin,
    vmul,
    vreduce_add,
    vstore,
    vload_n,
    vstore_n,
    vsub,
    vzero,
)

WIDTHS = [simd.W8, simd.W16]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@njit(cache=True)
def _axpy(alpha, x, y, out, off, w):
    """out = alpha*x + y on whole vectors from `off`; elements outside them untouched."""
    n = lanes(w)
    av = vbroadcast(alpha, w)
    i = off
    while i + n <= x.size:
        vstore(out, i, vfma(av, vload(x, i, w), vload(y, i, w)))
        i += n


@njit(cache=True)
def _dot(x, y, off, w):
    acc = vzero(w)
    n = lanes(w)
    i = off
    while i + n <= x.size:
        acc = vfma(vload(x, i, w), vload(y, i, w), acc)
        i += n
    return vreduce_add(acc)


@njit(cache=True)
def _binops(x, y, out, off, w):
    """out is (6, size), C-contiguous: flat offsets address row r at r*size."""
    n = lanes(w)
    size = x.size
    i = off
    while i + n <= size:
        a = vload(x, i, w)
        b = vload(y, i, w)
        vstore(out, i, vadd(a, b))
        vstore(out, size + i, vsub(a, b))
        vstore(out, 2 * size + i, vmul(a, b))
        vstore(out, 3 * size + i, vmax(a, b))
        vstore(out, 4 * size + i, vmin(a, b))
        vstore(out, 5 * size + i, vmax(a, vzero(w)))
        i += n


@njit(cache=True)
def _reduce_each(x, out, w):
    n = lanes(w)
    for k in range(x.size // n):
        out[k] = vreduce_add(vload(x, k * n, w))


@njit(cache=True, parallel=True)
def _relu_scale_par(x, out, s, w):
    """Blocks of W in prange; the broadcast vector is live into the prange body."""
    n = lanes(w)
    sv = vbroadcast(s, w)
    for k in prange(x.size // n):
        vstore(out, k * n, vmax(vmul(vload(x, k * n, w), sv), vzero(w)))


@njit(cache=True)
def _literal_widths(x, out8, out16):
    vstore(out8, 0, vadd(vload(x, 1, 8), vbroadcast(1, 8)))
    vstore(out16, 0, vadd(vload(x, 3, 16), vbroadcast(2.0, 16)))


@njit(cache=True)
def _microkernel(a, b, c, k, w):
    """c[8, W] += A @ B with A packed as a[p*8 + r] (k x 8) and B as b[p*W + j] (k x W): 8 accumulators."""
    n = lanes(w)
    c0 = vload(c, 0, w)
    c1 = vload(c, n, w)
    c2 = vload(c, 2 * n, w)
    c3 = vload(c, 3 * n, w)
    c4 = vload(c, 4 * n, w)
    c5 = vload(c, 5 * n, w)
    c6 = vload(c, 6 * n, w)
    c7 = vload(c, 7 * n, w)
    for p in range(k):
        bv = vload(b, p * n, w)
        c0 = vfma(vbroadcast(a[p * 8], w), bv, c0)
        c1 = vfma(vbroadcast(a[p * 8 + 1], w), bv, c1)
        c2 = vfma(vbroadcast(a[p * 8 + 2], w), bv, c2)
        c3 = vfma(vbroadcast(a[p * 8 + 3], w), bv, c3)
        c4 = vfma(vbroadcast(a[p * 8 + 4], w), bv, c4)
        c5 = vfma(vbroadcast(a[p * 8 + 5], w), bv, c5)
        c6 = vfma(vbroadcast(a[p * 8 + 6], w), bv, c6)
        c7 = vfma(vbroadcast(a[p * 8 + 7], w), bv, c7)
    vstore(c, 0, c0)
    vstore(c, n, c1)
    vstore(c, 2 * n, c2)
    vstore(c, 3 * n, c3)
    vstore(c, 4 * n, c4)
    vstore(c, 5 * n, c5)
    vstore(c, 6 * n, c6)
    vstore(c, 7 * n, c7)


def _rand(n, seed):
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def _covered(size, off, n):
    """Slice of the elements the kernels touch: whole vectors from off."""
    return slice(off, off + (size - off) // n * n)


@pytest.mark.parametrize("w", WIDTHS, ids=repr)
@pytest.mark.parametrize("off", [0, 3, 13])
def test_axpy_and_dot(w, off):
    n = w.lanes
    x, y = _rand(101, 1), _rand(101, 2)
    out = np.full(101, -7.0, np.float32)
    _axpy(np.float32(1.5), x, y, out, off, w)
    sl = _covered(101, off, n)
    np.testing.assert_allclose(out[sl], np.float32(1.5) * x[sl] + y[sl], rtol=1e-6, atol=1e-6)
    untouched = np.ones(101, bool)
    untouched[sl] = False
    assert (out[untouched] == -7.0).all()
    ref = np.dot(x[sl].astype(np.float64), y[sl].astype(np.float64))
    assert abs(_dot(x, y, off, w) - ref) <= 1e-5 * np.abs(x[sl] * y[sl]).sum()


@njit(cache=True)
def _copy_n(src, dst, off, count, w):
    vstore_n(dst, off, vload_n(src, off, count, w), count)


@pytest.mark.parametrize("w", WIDTHS, ids=repr)
def test_masked_load_store_touch_exactly_count_lanes(w):
    """vload_n / vstore_n move lanes i < count only, for every count from below 0 to above W (a whole vector
    takes vstore_n's plain-store branch, a partial one the masked store), at the array's very end too."""
    n = w.lanes
    src = _rand(3 * n, 5)
    for off in (0, 1, n + 3, 2 * n):
        for count in range(-1, n + 3):
            dst = np.full(3 * n, -7.0, np.float32)
            _copy_n(src, dst, off, count, w)
            k = max(0, min(count, n))
            np.testing.assert_array_equal(dst[off:off + k], src[off:off + k])
            assert (dst[:off] == -7.0).all() and (dst[off + k:] == -7.0).all(), (off, count)


@pytest.mark.parametrize("w", WIDTHS, ids=repr)
@pytest.mark.parametrize("off", [0, 5])
def test_binary_ops(w, off):
    x, y = _rand(70, 3), _rand(70, 4)
    x[[off + 1, off + 20]] = np.nan
    y[[off + 2, off + 20]] = np.nan
    out = np.zeros((6, 70), np.float32)
    _binops(x, y, out, off, w)
    sl = _covered(70, off, w.lanes)
    xs, ys = x[sl], y[sl]
    with np.errstate(invalid="ignore"):
        expected = [xs + ys, xs - ys, xs * ys,
                    np.where(xs < ys, ys, xs),  # vmax: NaN in the first operand propagates, in the second not
                    np.where(xs > ys, ys, xs),
                    np.where(xs < 0, np.float32(0), xs)]
    for row, exp in zip(out[:, sl], expected):
        np.testing.assert_array_equal(row, exp)  # one rounding each: bit-exact
    assert np.isnan(out[3, off + 1]) and out[3, off + 2] == x[off + 2]


@pytest.mark.parametrize("w", WIDTHS, ids=repr)
def test_reduce_broadcast_and_prange(w):
    n = w.lanes
    x = _rand(12 * n, 5)
    sums = np.zeros(12, np.float32)
    _reduce_each(x, sums, w)
    np.testing.assert_allclose(sums, x.reshape(12, n).astype(np.float64).sum(1), rtol=1e-5, atol=1e-5)
    out = np.zeros_like(x)
    _relu_scale_par(x, out, 0.5, w)
    np.testing.assert_array_equal(out, np.maximum(x * np.float32(0.5), 0))


@pytest.mark.parametrize("w", WIDTHS, ids=repr)
@pytest.mark.parametrize("k", [1, 37])
def test_fma_microkernel(w, k):
    n = w.lanes
    a, b = _rand(8 * k, 6), _rand(k * n, 7)
    c = _rand(8 * n, 8)
    expected = c.reshape(8, n).astype(np.float64) + a.reshape(k, 8).T.astype(np.float64) @ b.reshape(k, n)
    _microkernel(a, b, c, k, w)
    np.testing.assert_allclose(c.reshape(8, n), expected, rtol=1e-5, atol=1e-5)


def test_literal_widths_and_errors():
    x = _rand(40, 9)
    out8, out16 = np.zeros(8, np.float32), np.zeros(16, np.float32)
    _literal_widths(x, out8, out16)
    np.testing.assert_array_equal(out8, x[1:9] + 1)
    np.testing.assert_array_equal(out16, x[3:19] + 2)
    assert simd.width_token(16) is simd.W16
    with pytest.raises(ValueError):
        simd.width_token(12)

    @njit
    def mixed(x, out):
        vstore(out, 0, vadd(vload(x, 0, simd.W8), vload(x, 0, simd.W16)))

    @njit
    def runtime_width(x, out, n):
        vstore(out, 0, vload(x, 0, n))

    with pytest.raises(TypingError, match="one width"):
        mixed(x, out16)
    with pytest.raises(TypingError, match="compile-time constant"):
        runtime_width(x, out16, 8)
    with pytest.raises(TypingError, match="C-contiguous float32"):
        _axpy(1.0, x.astype(np.float64), x.astype(np.float64), x.astype(np.float64), 0, simd.W8)


def test_kernels_load_from_cache_in_a_new_process(tmp_path):
    """Width tokens and the vector type survive Numba's on-disk cache: a second process compiles nothing."""
    script = ("import numpy as np\n"
              "from fastconv.kernels.numba import simd\n"
              "from tests.kernels.test_simd import _axpy\n"
              "x = np.ones(40, np.float32)\n"
              "for w in (simd.W8, simd.W16):\n"
              "    _axpy(np.float32(2.0), x, x, x, 1, w)\n"
              "print(sum(_axpy.stats.cache_hits.values()), sum(_axpy.stats.cache_misses.values()))\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(2)]
    assert runs[0] == ["0", "2"] and runs[1] == ["2", "0"], runs


def _host_features():
    import llvmlite.binding as llvm

    return {name for name, on in llvm.get_host_cpu_features().items() if on}


def _hottest_block(asm: str, fma: re.Pattern) -> list[str]:
    """The basic block (label to label) holding the most FMA instructions: the unrolled inner loop."""
    blocks, cur = [], []
    for line in asm.splitlines():
        if re.match(r"^\S+:", line):
            blocks.append(cur)
            cur = []
        cur.append(line)
    blocks.append(cur)
    return max(blocks, key=lambda b: sum(bool(fma.search(ln)) for ln in b))


@pytest.mark.parametrize("w", WIDTHS, ids=repr)
def test_microkernel_assembly_is_full_width_fma_without_spills(w):
    """8 accumulators of one vector register each: the platform's configurations (W=16 only with AVX-512)."""
    machine = platform.machine().lower()
    feats = _host_features()
    if w.lanes == 16 and "avx512f" not in feats:
        pytest.skip("W=16 is only a one-register vector on AVX-512 hosts")
    if machine in ("x86_64", "amd64"):
        if "fma" not in feats or "avx2" not in feats:
            pytest.skip("x86 host without FMA/AVX2: no vector FMA instructions to look for")
        fma = re.compile(r"\bvfmadd\d{3}ps\b")
        # AT&T syntax: the destination (accumulator) register is the last operand
        full = re.compile(r"%zmm\d+\s*$" if w.lanes == 16 else r"%ymm\d+\s*$")
        stack = re.compile(r"\(%(rsp|rbp)\)")
    elif machine in ("aarch64", "arm64"):
        fma = re.compile(r"\bfmla\b")
        full = re.compile(r"\bfmla\s+v\d+\.4s")
        stack = re.compile(r"\[sp\b|\[x29\b")
    else:
        pytest.skip(f"no assembly expectations for {machine}")
    kernel = njit(_microkernel.py_func)  # fresh dispatcher: a cache-loaded one keeps no assembly
    k = 37
    kernel(np.zeros(8 * k, np.float32), np.zeros(k * w.lanes, np.float32), np.zeros(8 * w.lanes, np.float32), k, w)
    asm = kernel.inspect_asm(kernel.signatures[0])
    loop = _hottest_block(asm, fma)
    fmas = [ln for ln in loop if fma.search(ln)]
    per_vector = 2 if machine in ("aarch64", "arm64") else 1  # W=8 is two q registers on NEON
    assert len(fmas) >= 8 * per_vector, "\n".join(loop)
    assert all(full.search(ln) for ln in fmas), "\n".join(fmas)
    assert not [ln for ln in loop if stack.search(ln)], "stack traffic (spills) in the FMA loop:\n" + "\n".join(loop)
