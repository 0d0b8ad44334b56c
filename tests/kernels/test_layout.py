"""NCHW <-> NCHWc reorders and weight packing against element-wise index formulas (plain numpy loops)."""
import itertools

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastconv.kernels.numba import layout as L
from tests.util import rand


def reference_nchwc(x, c):
    """x_c[n, b, *s, j] = x[n, b*c + j, *s], zero past C; written out one element at a time."""
    n, ch, *sp = x.shape
    cb = -(-ch // c)
    out = np.full((n, cb, *sp, c), np.nan, np.float32)
    for i, b, j in itertools.product(range(n), range(cb), range(c)):
        out[i, b, ..., j] = x[i, b * c + j] if b * c + j < ch else 0.0
    return out


@pytest.fixture(params=[1, 2], ids=lambda t: f"threads{t}")
def threads(request):
    old = numba.get_num_threads()
    numba.set_num_threads(min(request.param, numba.config.NUMBA_NUM_THREADS))
    yield request.param
    numba.set_num_threads(old)


@pytest.mark.parametrize("c", [8, 16, 4])   # 4: the generic-width path
@pytest.mark.parametrize("channels", [1, 3, 8, 16, 17, 40])
@pytest.mark.parametrize("spatial", [(5,), (300,), (7, 9), (3, 4, 5), (2, 23, 13)], ids=str)
def test_round_trip(c, channels, spatial, threads):
    rng = np.random.default_rng(channels * 31 + len(spatial))
    for batch in (1, 3):
        x = rng.standard_normal((batch, channels, *spatial)).astype(np.float32)
        y = L.reorder_nchw_to_nchwc(x, c)
        assert y.shape == (batch, -(-channels // c), *spatial, c) and y.dtype == np.float32
        np.testing.assert_array_equal(y, reference_nchwc(x, c))
        assert not y[:, -1, ..., channels - (y.shape[1] - 1) * c:].any()   # padding channels are zero
        back = L.reorder_nchwc_to_nchw(y, channels)
        assert back.shape == x.shape and back.dtype == np.float32
        np.testing.assert_array_equal(back, x)


def test_batch_two_and_out_buffers(threads):
    """Batch 2, caller-provided outputs (the arena path) filled with garbage first: every element is written."""
    x = np.random.default_rng(0).standard_normal((2, 19, 33, 17)).astype(np.float32)
    y = np.full((2, 3, 33, 17, 8), np.nan, np.float32)
    assert L.reorder_nchw_to_nchwc(x, 8, out=y) is y
    np.testing.assert_array_equal(y, reference_nchwc(x, 8))
    back = np.full(x.shape, np.nan, np.float32)
    assert L.reorder_nchwc_to_nchw(y, 19, out=back) is back
    np.testing.assert_array_equal(back, x)


def test_non_contiguous_input_and_bad_channel_count():
    x = np.random.default_rng(1).standard_normal((1, 10, 12, 14)).astype(np.float32)[:, :, ::2, 1:8]
    np.testing.assert_array_equal(L.reorder_nchw_to_nchwc(x, 8), reference_nchwc(x, 8))
    y = L.reorder_nchw_to_nchwc(x, 8)
    with pytest.raises(ValueError, match="do not fit"):
        L.reorder_nchwc_to_nchw(y, 17)
    with pytest.raises(ValueError, match="do not fit"):
        L.reorder_nchwc_to_nchw(y, 8)
    with pytest.raises(ValueError, match="C-contiguous"):
        L.reorder_nchw_to_nchwc(x, 8, out=np.empty((1, 2, 7, 6, 8), np.float32).transpose(0, 1, 3, 2, 4))


kernel_dims = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@settings(max_examples=40, deadline=None)
@given(o=st.integers(1, 37), i=st.integers(1, 37), k=kernel_dims,
       bi=st.sampled_from([1, 4, 8, 16]), bo=st.sampled_from([4, 8, 16]))
def test_pack_oihw_to_OIhwio(o, i, k, bi, bo):
    w = np.random.default_rng(o * 100 + i).standard_normal((o, i, *k)).astype(np.float32)
    p = L.pack_oihw_to_OIhwio(w, bi, bo)
    assert p.shape == (-(-o // bo), -(-i // bi), *k, bi, bo) and p.dtype == np.float32 and p.flags.c_contiguous
    for idx in np.ndindex(*p.shape):
        ob, ib, t, ii, oo = idx[0], idx[1], idx[2:-2], idx[-2], idx[-1]
        oc, ic = ob * bo + oo, ib * bi + ii
        assert p[idx] == (w[(oc, ic, *t)] if oc < o and ic < i else 0.0)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 70), k=kernel_dims, c=st.sampled_from([8, 16]))
def test_pack_depthwise_to_Chwc(m, k, c):
    w = np.random.default_rng(m).standard_normal((m, 1, *k)).astype(np.float32)
    p = L.pack_depthwise_to_Chwc(w, c)
    assert p.shape == (-(-m // c), *k, c) and p.dtype == np.float32 and p.flags.c_contiguous
    for idx in np.ndindex(*p.shape):
        ch = idx[0] * c + idx[-1]
        assert p[idx] == (w[(ch, 0, *idx[1:-1])] if ch < m else 0.0)


def test_pack_depthwise_rejects_dense_weights():
    with pytest.raises(ValueError, match="depthwise"):
        L.pack_depthwise_to_Chwc(np.zeros((8, 2, 3, 3), np.float32), 8)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 50), cols=st.integers(1, 50), r=st.sampled_from([1, 4, 6, 8, 16]))
def test_pack_gemm_panels(rows, cols, r):
    a = np.random.default_rng(rows * 64 + cols).standard_normal((rows, cols)).astype(np.float32)
    pb = L.pack_gemm_b(a, r)      # a as B (K=rows, N=cols)
    assert pb.shape == (-(-cols // r), rows, r) and pb.flags.c_contiguous and pb.dtype == np.float32
    for q, kk, j in np.ndindex(*pb.shape):
        assert pb[q, kk, j] == (a[kk, q * r + j] if q * r + j < cols else 0.0)
    pa = L.pack_gemm_a(a, r)      # a as A (M=rows, K=cols)
    assert pa.shape == (-(-rows // r), cols, r) and pa.flags.c_contiguous and pa.dtype == np.float32
    for q, kk, i in np.ndindex(*pa.shape):
        assert pa[q, kk, i] == (a[q * r + i, kk] if q * r + i < rows else 0.0)


@pytest.mark.parametrize("width", [8, 16])
def test_serial_twins_match_the_parallel_kernels(width):
    """Small copies run the serial twins (kernels/numba/layout.py `driver`): same results as the prange kernels."""
    from fastconv.kernels.numba import conv_nchwc as kn
    from fastconv.kernels.numba import layout as kl

    x = rand(2, 21, 5, 7, seed=1)
    cb = -(-21 // width)
    pairs = [(kl.nchw_to_nchwc_f32, kl.nchw_to_nchwc_serial_f32, (x.reshape(2, 21, 35),), (2, cb, 35, width)),
             (kn.pad_nchw_to_nchwc_f32, kn.pad_nchw_to_nchwc_serial_f32, (x, 1, 2), (2, cb, 8, 11, width))]
    xb = kl.reorder_nchw_to_nchwc(x, width)
    pairs += [(kn.pad_nchwc_f32, kn.pad_nchwc_serial_f32, (xb, 2, 1), (2, cb, 9, 9, width)),
              (kl.nchwc_to_nchw_f32, kl.nchwc_to_nchw_serial_f32, (xb.reshape(2, cb, 35, width),), (2, 21, 35))]
    for par, ser, args, shape in pairs:
        a, b = np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32)
        par(*args, a)
        ser(*args, b)
        np.testing.assert_array_equal(a, b, err_msg=ser.__name__)
        assert not np.isnan(a).any()
