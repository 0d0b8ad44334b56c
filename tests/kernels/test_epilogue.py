"""The fused epilogue: its vector math (exp, every activation) against float64 numpy on wide random data with
NaN/Inf, and every registered Conv / ConvTranspose kernel applying bias -> residual -> activation."""
import numpy as np
import pytest

from fastconv.kernels.numba.epilogue import Epilogue, apply_epilogue
from fastconv.kernels.registry import kernels_for
from fastconv.ops.conv import ConvConfig
from fastconv.platform import Platform
from tests.kernels.epilogue_ref import EPILOGUES, reference
from tests.util import rand


def _data(n=70001, seed=0):
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32) * 8
    x[:200] *= 20  # the exp clamp region
    return x


@pytest.mark.parametrize("ep", EPILOGUES, ids=lambda e: e.describe())
def test_apply_epilogue_matches_float64(ep):
    x = _data()
    r = rand(x.size, seed=3)
    got = apply_epilogue(x.copy(), ep, r if ep.residual else None)
    want = reference(x, ep, r if ep.residual else None)
    # float32 rounding of x + r and of the polynomial exp (~1 ulp): a few ulps relative, 1e-6 absolute near 0
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("act", ["Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSwish", "Mish"])
def test_nan_and_inf_propagate(act):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0] + [1.0] * 11 + [np.nan], np.float32)
    ep = Epilogue(act, -1.0, 6.0) if act == "Clip" else Epilogue(act, 0.1) if act == "LeakyRelu" else Epilogue(act)
    got = apply_epilogue(x.copy(), ep)
    want = reference(x, ep).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    fin = ~np.isnan(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=1e-6)


def test_residual_shape_must_match():
    with pytest.raises(ValueError, match="residual shape"):
        apply_epilogue(np.zeros((2, 3), np.float32), Epilogue("Relu", residual=True), np.zeros((3, 2), np.float32))


def _cfgs():
    """One configuration per kind of Conv kernel: general, pointwise, depthwise, dense NCHWc, stem-like."""
    def c2(n, c, m, g, hw, k, s, p):
        o = (hw + 2 * p - k) // s + 1
        return ConvConfig(n, c, m, g, (1, hw, hw), (1, o, o), (1, k, k), (1, s, s), (1, 1, 1), (0, p, p),
                          (0, p, p), 2)
    return [c2(2, 20, 18, 1, 17, 3, 1, 1), c2(1, 24, 40, 1, 15, 1, 1, 0), c2(1, 24, 24, 24, 16, 3, 2, 1),
            c2(1, 16, 32, 2, 15, 3, 1, 1), c2(1, 3, 16, 1, 33, 7, 2, 3)]


def _conv_cases():
    cases = []
    for k in kernels_for("Conv"):
        for i, cfg in enumerate(_cfgs()):
            if k.supports(cfg, Platform.detect(1, simd_width=16)):
                cases.append(pytest.param(k, cfg, id=f"{k.name}-cfg{i}"))
    return cases


@pytest.mark.parametrize("width", [8, 16])
@pytest.mark.parametrize("kernel,cfg", _conv_cases())
def test_every_conv_kernel_fuses_every_epilogue(kernel, cfg, width):
    platform = Platform.detect(2, simd_width=width)
    w = rand(cfg.out_channels, cfg.in_channels // cfg.group, *cfg.kernel[1:], seed=1)
    b = rand(cfg.out_channels, seed=2)
    x = rand(cfg.batch, cfg.in_channels, *cfg.in_spatial[1:], seed=4)
    base = kernel.build(cfg, platform, w, b)(x)[0]
    res = rand(*base.shape, seed=5)
    for ep in EPILOGUES:
        got = kernel.build(cfg, platform, w, b, ep)(x, res if ep.residual else None)[0]
        # conv sums in float32: the un-fused output is the reference input; tolerance as for the conv itself
        np.testing.assert_allclose(got, reference(base, ep, res), rtol=1e-4, atol=3e-5, err_msg=ep.describe())


_CT_CONFIGS = [  # grouped 2x2 stride 2; dense 3x3 stride 2 pad 1 (every kernel supports one of them)
    ConvConfig(2, 6, 8, 2, (1, 7, 9), (1, 14, 18), (1, 2, 2), (1, 2, 2), (1, 1, 1), (0, 0, 0), (0, 0, 0), 2),
    ConvConfig(2, 6, 8, 1, (1, 7, 9), (1, 13, 17), (1, 3, 3), (1, 2, 2), (1, 1, 1), (0, 1, 1), (0, 1, 1), 2),
    ConvConfig(2, 6, 8, 1, (1, 1, 1), (1, 4, 4), (1, 4, 4), (1, 1, 1), (1, 1, 1), (0, 0, 0), (0, 0, 0), 2),
]


@pytest.mark.parametrize("kernel,cfg", [
    pytest.param(k, cfg, id=f"{k.name}-cfg{i}") for k in kernels_for("ConvTranspose")
    for i, cfg in enumerate(_CT_CONFIGS) if k.supports(cfg, Platform.detect(1, simd_width=16))])
def test_every_convtranspose_kernel_fuses_every_epilogue(kernel, cfg):
    platform = Platform.detect(2, simd_width=16)
    w = rand(6, 8 // cfg.group, *cfg.kernel[1:], seed=1)
    b = rand(8, seed=2)
    x = rand(2, 6, *cfg.in_spatial[1:], seed=4)
    base = kernel.build(cfg, platform, w, b)(x)[0]
    res = rand(*base.shape, seed=5)
    for ep in EPILOGUES:
        got = kernel.build(cfg, platform, w, b, ep)(x, res if ep.residual else None)[0]
        np.testing.assert_allclose(got, reference(base, ep, res), rtol=1e-4, atol=3e-5, err_msg=ep.describe())


@pytest.mark.parametrize("chunks", [1, 2, 3])
@pytest.mark.parametrize("n,c,s", [(1, 5, 37), (2, 3, 16), (1, 4, 7)])
def test_channel_affine_prelu_matches_float64(n, c, s, chunks):
    """y = prelu(x * a + b) with one slope per channel plane, planes split over chunks, vector tails."""
    from fastconv.kernels.numba.epilogue import channel_affine_prelu_f32

    x = rand(n, c, s, seed=1)
    a, b, slope = rand(c, seed=2), rand(c, seed=3), rand(c, seed=4)
    y = np.full_like(x, np.nan)
    channel_affine_prelu_f32(x, a, b, slope, y, chunks)
    v = x.astype(np.float64) * a[:, None] + b[:, None]
    np.testing.assert_allclose(y, np.where(v < 0, v * slope[:, None], v), rtol=1e-6, atol=1e-6)
