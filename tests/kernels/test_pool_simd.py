"""SIMD pooling kernels (fastconv/kernels/numba/pool_simd.py): the NCHW and NCHWc MaxPool / AveragePool kernels
and the global pools against onnxruntime over drawn shapes and attributes, at block width 8 and 16, on one and
two threads (the parallel drivers forced on small shapes); NaN and infinities against a numpy reference of the
documented semantics; which kernel the registry picks."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.graph.ir import Node, TensorInfo
from fastconv.kernels.numba import pool_simd as ks
from fastconv.kernels.registry import kernels_for, select_kernel
from fastconv.ops.pool import AveragePool, GlobalPoolConfig, MaxPool
from fastconv.platform import Platform
from tests.util import helper, make_model, rand, run_ort

MAX_KERNELS = ("maxpool2d_nchw_simd_f32", "maxpool2d_nchwc_simd_f32")
AVG_KERNELS = ("avgpool2d_nchw_simd_f32", "avgpool2d_nchwc_simd_f32")
GLOBAL_KERNELS = ("global_pool_nchw_simd_f32", "global_pool_nchwc_simd_f32", "global_pool_numpy")
SUPPRESS = [HealthCheck.function_scoped_fixture]
LOWEST = np.finfo(np.float32).min


@pytest.fixture(autouse=True)
def _parallel_always(monkeypatch):
    """Small test shapes would all take the serial drivers: make every pool with threads > 1 go parallel."""
    monkeypatch.setattr(ks, "PARALLEL_FLOATS", 0)


def pool_model(op, x, attrs, opset=22):
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    return make_model([node], [("x", x.dtype, list(x.shape))], [("y", x.dtype, None)], opset=opset)


def run_fastconv(op, kernel, x, attrs, threads, opset=22):
    sess = fastconv.InferenceSession(pool_model(op, x, attrs, opset), num_threads=threads,
                                     kernel_overrides={op: kernel})
    return sess.run(None, {"x": x})[0]


@st.composite
def pool_case(draw, op):
    """1-D and 2-D windows; rows from 1 to 70 wide (one vector or several, every tail length); strides 1-3."""
    rank = draw(st.sampled_from([1, 2, 2, 2]))
    k = [draw(st.integers(1, 4)) for _ in range(rank)]
    s = [draw(st.sampled_from([1, 1, 2, 2, 3])) for _ in range(rank)]
    d = [1] * rank if draw(st.integers(0, 3)) else [draw(st.integers(1, 2)) for _ in range(rank)]
    attrs = {"kernel_shape": k, "strides": s}
    if d != [1] * rank:
        attrs["dilations"] = d
    auto_pad = draw(st.sampled_from(["NOTSET"] * 4 + ["SAME_UPPER", "SAME_LOWER", "VALID"]))
    pads = [0] * (2 * rank)
    if auto_pad == "NOTSET":
        ext = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
        pads = [draw(st.integers(0, min(kk - 1, e - 1))) for kk, e in zip(k + k, ext + ext)]
        attrs["pads"] = pads
    else:
        attrs["auto_pad"] = auto_pad
    if draw(st.booleans()):
        attrs["ceil_mode"] = 1
    if op == "AveragePool" and draw(st.booleans()):
        attrs["count_include_pad"] = 1
    ext = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
    spatial = [draw(st.integers(max(1, ext[i] - pads[i] - pads[i + rank]), 70 if i == rank - 1 else 9))
               for i in range(rank)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 5)), *spatial)
    return rand(*shape, seed=draw(st.integers(0, 999))), attrs, draw(st.integers(1, 2))


def _ort_y(op, x, attrs):
    """onnxruntime's Y. Its MaxPool without Indices refuses negative SAME pads (kernel < stride), which its
    path with Indices computes: take Y from the latter there (fastconv follows it in both cases)."""
    if op == "MaxPool" and attrs.get("auto_pad", "NOTSET").startswith("SAME") and \
            any(k < s for k, s in zip(attrs["kernel_shape"], attrs.get("strides", [1] * len(attrs["kernel_shape"])))):
        node = helper.make_node(op, ["x"], ["y", "i"], **attrs)
        m = make_model([node], [("x", x.dtype, list(x.shape))], [("y", x.dtype, None), ("i", 7, None)], opset=22)
        return run_ort(m, {"x": x})[0]
    return run_ort(pool_model(op, x, attrs), {"x": x})[0]


@pytest.mark.parametrize("width", [8, 16])
@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@settings(max_examples=40, deadline=None, suppress_health_check=SUPPRESS)
@given(data=st.data())
def test_pools_match_ort(width, op, data, monkeypatch):
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
    x, attrs, threads = data.draw(pool_case(op))
    kernel = data.draw(st.sampled_from(MAX_KERNELS if op == "MaxPool" else AVG_KERNELS))
    got = run_fastconv(op, kernel, x, attrs, threads)
    want = _ort_y(op, x, attrs)
    assert got.shape == want.shape and got.dtype == want.dtype
    if op == "MaxPool":
        np.testing.assert_array_equal(got, want, err_msg=f"{kernel} {attrs}")
    else:
        # sums of up to 16 taps in another order than onnxruntime's: float32 rounding
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{kernel} {attrs}")


def reference_maxpool(x, attrs):
    """float64 numpy MaxPool of the documented semantics: max over the taps inside the input (NaN if any is
    NaN), never below the lowest float."""
    node = Node("MaxPool", ["x"], ["y"], attrs, opset=22)
    cfg = MaxPool(node).config(TensorInfo(np.dtype(np.float32), x.shape))
    (_, h, w), (_, oh, ow) = cfg.in_spatial, cfg.out_spatial
    (_, kh, kw), (_, sh, sw), (_, dh, dw), (_, ph, pw) = cfg.kernel, cfg.strides, cfg.dilations, cfg.pads_begin
    xs = x.reshape(*x.shape[:2], h, w).astype(np.float64)
    y = np.full((*x.shape[:2], oh, ow), LOWEST, np.float64)
    for oy in range(oh):
        for ox in range(ow):
            iy = [oy * sh - ph + b * dh for b in range(kh) if 0 <= oy * sh - ph + b * dh < h]
            ix = [ox * sw - pw + e * dw for e in range(kw) if 0 <= ox * sw - pw + e * dw < w]
            if iy and ix:
                win = xs[:, :, iy][:, :, :, ix].reshape(*x.shape[:2], -1)
                y[:, :, oy, ox] = np.maximum(win.max(axis=-1), LOWEST)
    return y.astype(np.float32).reshape(cfg.shape(x.shape))


@pytest.mark.parametrize("width", [8, 16])
@pytest.mark.parametrize("attrs,w", [
    ({"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, 61),
    ({"kernel_shape": [3, 3], "strides": [2, 2]}, 27),
    ({"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, 7),
    ({"kernel_shape": [2, 2], "strides": [2, 2]}, 40),
    ({"kernel_shape": [2, 3], "strides": [1, 2], "pads": [0, 1, 1, 1], "ceil_mode": 1}, 34),
    ({"kernel_shape": [3, 3], "strides": [3, 3], "pads": [1, 1, 1, 1]}, 20),
    ({"kernel_shape": [2, 3], "dilations": [2, 2], "pads": [1, 1, 1, 1]}, 23),
])
def test_maxpool_nan_and_inf(width, attrs, w, monkeypatch):
    """A NaN anywhere in a window gives NaN at every position of the fold (onnxruntime's result depends on
    where the NaN falls in its loops: not reproduced); windows of -inf give the lowest float."""
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
    x = rand(2, 3, 9, w, seed=w)
    r = np.random.default_rng(w).random(x.shape)
    x[r < 0.03] = np.nan
    x[(r > 0.1) & (r < 0.4)] = -np.inf
    x[(r > 0.4) & (r < 0.45)] = np.inf
    x[:, :, 2:7] = -np.inf                     # windows made only of -inf
    want = reference_maxpool(x, attrs)
    assert np.isnan(want).any() and (want == LOWEST).any()
    for kernel in MAX_KERNELS:
        for threads in (1, 2):
            np.testing.assert_array_equal(run_fastconv("MaxPool", kernel, x, attrs, threads), want,
                                          err_msg=f"{kernel} threads={threads}")


def test_averagepool_propagates_nan_and_inf():
    """A NaN or an infinity inside a window reaches its mean (as in onnxruntime: sums have no order issue)."""
    x = rand(1, 2, 8, 37, seed=5)
    x[0, 0, 2, 5] = np.nan
    x[0, 1, 6, 30] = np.inf
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}
    want = _ort_y("AveragePool", x, attrs)
    for kernel in AVG_KERNELS:
        got = run_fastconv("AveragePool", kernel, x, attrs, 2)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert np.isnan(got[0, 0]).sum() == np.isnan(want[0, 0]).sum() > 0
        assert np.isinf(got[0, 1]).sum() == np.isinf(want[0, 1]).sum() > 0


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("shape", [(1, 3, 7), (2, 5, 7, 7), (1, 17, 3, 5), (2, 3, 2, 3, 4), (1, 20, 1, 1),
                                   (1, 4, 40, 3)])
def test_global_pools_match_ort(op, shape, monkeypatch):
    x = rand(*shape, seed=len(shape))
    want = run_ort(pool_model(op, x, {}, opset=17), {"x": x})[0]
    for width in (8, 16):
        monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
        for kernel in GLOBAL_KERNELS:
            for threads in (1, 2):
                got = run_fastconv(op, kernel, x, {}, threads, opset=17)
                assert got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{kernel} W={width}")


@pytest.mark.parametrize("size", [3, 16, 49])
def test_global_maxpool_propagates_nan(size):
    x = rand(1, 6, size, seed=size)
    x[0, 1, size // 2] = np.nan
    x[0, 2] = -np.inf
    x[0, 3, -1] = np.nan
    want = x.astype(np.float64).max(axis=-1, keepdims=True).astype(np.float32)
    for kernel in GLOBAL_KERNELS:
        np.testing.assert_array_equal(run_fastconv("GlobalMaxPool", kernel, x, {}, 1, opset=17), want)


def _cfg(op, attrs, shape, outputs=("y",), dtype=np.float32):
    node = Node(op, ["x"], list(outputs), attrs, opset=22)
    return (MaxPool if op == "MaxPool" else AveragePool)(node).config(TensorInfo(np.dtype(dtype), shape))


def test_registry_picks_simd_kernels():
    plat = Platform.detect()
    cfg = _cfg("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2]}, (1, 4, 9, 9))
    assert select_kernel("MaxPool", cfg, plat).name == "maxpool2d_nchw_simd_f32"
    assert select_kernel("MaxPool", _cfg("MaxPool", {"kernel_shape": [3]}, (1, 2, 9)),
                         plat).name == "maxpool2d_nchw_simd_f32"
    assert select_kernel("AveragePool", _cfg("AveragePool", {"kernel_shape": [2, 2]}, (1, 4, 9, 9)),
                         plat).name == "avgpool2d_nchw_simd_f32"
    for op, names in (("MaxPool", MAX_KERNELS), ("AveragePool", AVG_KERNELS)):
        by_name = {k.name: k for k in kernels_for(op)}
        old = "maxpool_ncdhw_direct" if op == "MaxPool" else "avgpool_ncdhw_direct_f32"
        assert by_name[names[0]].priority > by_name[old].priority   # the scalar kernel stays as fallback
        assert not by_name[names[1]].prefer(cfg, plat)               # NCHWc: only when forced (layout pass)
    # 3-D pools, MaxPool with Indices and 8-bit MaxPool stay on the scalar kernels
    for c in (_cfg("MaxPool", {"kernel_shape": [3, 3]}, (1, 2, 5, 5), outputs=("y", "i")),
              _cfg("MaxPool", {"kernel_shape": [2, 2, 2]}, (1, 2, 5, 5, 5)),
              _cfg("MaxPool", {"kernel_shape": [2, 2]}, (1, 2, 5, 5), dtype=np.int8)):
        assert select_kernel("MaxPool", c, plat).name == "maxpool_ncdhw_direct"
    assert select_kernel("GlobalAveragePool", GlobalPoolConfig("float32", (1, 8, 7, 7), False),
                         plat).name == "global_pool_nchw_simd_f32"
    # an empty spatial extent goes to numpy
    assert select_kernel("GlobalMaxPool", GlobalPoolConfig("float32", (1, 8, 0, 7), True),
                         plat).name == "global_pool_numpy"


@pytest.mark.parametrize("shape", [(1, 40, 7, 7), (2, 3, 5, 9), (1, 4, 13)])
def test_whole_plane_averagepool_matches_ort(shape):
    """An AveragePool whose window is the whole plane (ResNet's 7x7 head) runs as a global pool."""
    x = rand(*shape, seed=7)
    attrs = {"kernel_shape": list(shape[2:])}
    cfg = _cfg("AveragePool", attrs, shape)
    assert ks.make_pool2d_nchw(cfg, 16, avg=True).__qualname__.startswith("make_global_pool_nchw")
    want = _ort_y("AveragePool", x, attrs)
    for threads in (1, 2):
        np.testing.assert_allclose(run_fastconv("AveragePool", AVG_KERNELS[0], x, attrs, threads), want,
                                   rtol=1e-5, atol=1e-6)
