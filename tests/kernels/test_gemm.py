"""The packed SIMD GEMM (fastconv/kernels/numba/gemm.py) against float64 numpy: drawn shapes covering every tile
(6 and 1 row panels, full / 1-vector / sub-vector column tails), batches, strided and offset operands, every
epilogue, block widths 8 and 16; the generated source; the micro-kernel's assembly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastconv.kernels.numba.codegen import generated_section
from fastconv.kernels.numba import gemm as kg
from fastconv.kernels.numba.simd import W16
from tests.kernels.epilogue_ref import EPILOGUES, reference
from tests.kernels.asm import assert_full_width_fma_no_spills


@pytest.mark.parametrize("width", [8, 16])
@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 40), k=st.integers(1, 70), n=st.integers(1, 150), nb=st.integers(1, 3),
       ep=st.sampled_from(EPILOGUES), seed=st.integers(0, 2**16))
def test_gemm_matches_float64(width, m, k, n, nb, ep, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((nb, k, n)).astype(np.float32)
    bias = rng.standard_normal(m).astype(np.float32)
    r = rng.standard_normal((nb, m, n)).astype(np.float32)
    c = np.full((nb, m, n), np.nan, np.float32)
    kg.gemm(kg.PackedA(a, bias), b, c, width, ep, r if ep.residual else None)
    want = reference(np.einsum("mk,bkn->bmn", a.astype(np.float64), b) + bias[:, None], ep, r)
    # float32 dot products of up to 70 terms: absolute error ~ sqrt(k) * 1e-7 * |terms|
    np.testing.assert_allclose(c, want, rtol=1e-4, atol=3e-5)


def test_offsets_and_row_strides_write_only_their_band():
    """gemm_f32 on a band of columns inside bigger B and C (as im2col and 1x1 convs call it)."""
    rng = np.random.default_rng(1)
    m, k, ldb, ldc, n_cols, b_off, c_off = 13, 9, 50, 61, 37, 5, 7
    a = rng.standard_normal((m, k)).astype(np.float32)
    bf = rng.standard_normal(b_off + k * ldb).astype(np.float32)
    cf = np.full(c_off + m * ldc, -7.0, np.float32)
    pa = kg.PackedA(a)
    kg.gemm_f32(pa.panels, m, bf, b_off, 0, ldb, cf, c_off, 0, ldc, n_cols, 1, 1, 0, 0, pa.bias, kg.NO_RESIDUAL,
                False, 0, np.float32(0), np.float32(0), 2, W16)
    bm = bf[b_off:].reshape(k, ldb)[:, :n_cols]
    cm = cf[c_off:].reshape(m, ldc)
    np.testing.assert_allclose(cm[:, :n_cols], a.astype(np.float64) @ bm, rtol=1e-5, atol=1e-5)
    assert (cm[:, n_cols:] == -7.0).all() and (cf[:c_off] == -7.0).all()


@pytest.mark.parametrize("width", [8, 16])
@settings(max_examples=25, deadline=None)
@given(g=st.integers(1, 5), m=st.integers(1, 20), k=st.integers(1, 30), n=st.integers(1, 70), nb=st.integers(1, 3),
       ep=st.sampled_from(EPILOGUES), threads=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_grouped_gemm_matches_float64(width, g, m, k, n, nb, ep, threads, seed):
    """One gemm_f32 call over images and groups, as a grouped 1x1 conv makes it: B_tg = X[t, g*k:(g+1)*k],
    C_tg = Y[t, g*m:(g+1)*m], each group with its own A and bias, residual and epilogue per element."""
    from fastconv.kernels.numba.simd import width_token

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((g, m, k)).astype(np.float32)
    bias = rng.standard_normal((g, m)).astype(np.float32)
    x = rng.standard_normal((nb, g * k, n)).astype(np.float32)
    r = rng.standard_normal((nb, g * m, n)).astype(np.float32)
    y = np.full((nb, g * m, n), np.nan, np.float32)
    pa = kg.PackedA(a, bias)
    kind, alpha, beta = ep.args
    kg.gemm_f32(pa.panels, m, x.reshape(-1), 0, g * k * n, n, y.reshape(-1), 0, g * m * n, n, n, nb, g, k * n, m * n,
                pa.bias, r.reshape(-1) if ep.residual else kg.NO_RESIDUAL, ep.residual, kind, alpha, beta, threads,
                width_token(width))
    prod = np.einsum("gmk,bgkn->bgmn", a.astype(np.float64), x.reshape(nb, g, k, n)) + bias[None, :, :, None]
    want = reference(prod.reshape(nb, g * m, n), ep, r)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=3e-5)


def test_generated_section_is_current():
    gen = generated_section(kg.__file__)
    assert gen == kg.emit_tiles(), "rerun `python -m fastconv.kernels.numba.gemm`"


def test_6x4_tile_assembly_full_width_fma_no_spills():
    f = np.zeros(1 << 14, np.float32)
    assert_full_width_fma_no_spills(kg._g6x4, (f, 0, f, 0, 64, np.zeros(1 << 14, np.float32), 0, 64, 16, f, 0, 6, f,
                                    True, 1, np.float32(0), np.float32(0), W16), 24, 16)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 7), k=st.integers(1, 70), n=st.integers(1, 150), ep=st.sampled_from(EPILOGUES),
       chunks=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_gemm_rows_matches_float64(m, k, n, ep, chunks, seed):
    """The small-M kernel: 4-vector and 1-vector tiles, partial last vectors, bias along N, residual, epilogue,
    serial (chunks 0) and split over 1-3 column chunks; B' padding columns must never reach Y."""
    rng = np.random.default_rng(seed)
    ldb = -(-n // 16) * 16
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bp = np.full((k, ldb), 1e30, np.float32)  # garbage in the padding columns: their results are not stored
    bp[:, :n] = b
    bp = kg.pack_rows_b(bp)                   # column panels of 64 (the last one narrower)
    bias = np.full(ldb, 1e30, np.float32)
    bias[:n] = rng.standard_normal(n)
    r = rng.standard_normal((m, n)).astype(np.float32) if ep.residual else np.zeros(1, np.float32)
    y = np.full((m, n + 1), np.nan, np.float32)[:, :n].copy()
    args = (a, bp, bias, r, y, m, k, n, ldb, ep.residual, *ep.args)
    if chunks:
        kg.gemm_rows_par_f32(*args, chunks)
    else:
        kg.gemm_rows_f32(*args)
    want = reference(a.astype(np.float64) @ b + bias[:n], ep, r)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=3e-5)
