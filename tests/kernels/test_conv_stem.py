"""First-layer conv kernels (fastconv/kernels/numba/conv_stem.py): the registered NCHW kernel
"conv_stem_nchw_f32" and the NCHWc-output core against onnxruntime over drawn shapes at block width W=8 and
W=16, every fused epilogue on the kernels' edge paths, the registry entry, the generated source and the
micro-kernels' assembly."""
import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastconv.kernels.numba.codegen import generated_section
from fastconv.kernels.numba import conv_stem as ks
from fastconv.kernels.numba.epilogue import NO_EPILOGUE
from fastconv.kernels.registry import kernels_for, select_kernel
from fastconv.ops.conv import ConvConfig
from fastconv.platform import Platform
from tests.kernels.epilogue_ref import EPILOGUES, reference
from tests.kernels.asm import assert_full_width_fma_no_spills
from tests.util import assert_matches_ort, rand, run_ort, single_node_model

NCHW = "conv_stem_nchw_f32"
# float32 sums of up to C*K*K = 4*7*7 products in a different order than onnxruntime's: 3e-5 absolute.
ATOL, RTOL = 3e-5, 1e-4


@st.composite
def stem_case(draw):
    rank = draw(st.sampled_from([1, 2, 2, 2]))
    c = draw(st.integers(1, 4))
    m = draw(st.integers(1, 40))
    k = [draw(st.integers(1, 7)) for _ in range(rank)]
    s = [draw(st.integers(1, 3)) for _ in range(rank)]
    d = [draw(st.integers(1, 2)) for _ in range(rank)]
    pb = [draw(st.integers(0, kk - 1)) for kk in k]
    pe = [draw(st.integers(0, kk - 1)) for kk in k]
    sp = [draw(st.integers(max(1, dd * (kk - 1) + 1 - a - e), 48)) for kk, dd, a, e in zip(k, d, pb, pe)]
    n = draw(st.integers(1, 2))
    threads = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    return rank, c, m, k, s, d, pb, pe, sp, n, threads, bias


def _check(case, nchwc=False, seed=0):
    """The registered kernel through a session (override), or the NCHWc core (+ reorder) through make_runner."""
    _, c, m, k, s, d, pb, pe, sp, n, threads, bias = case
    x = rand(n, c, *sp, seed=seed)
    inits = {"w": rand(m, c, *k, seed=seed + 1)}
    if bias:
        inits["b"] = rand(m, seed=seed + 2)
    attrs = {"kernel_shape": k, "strides": s, "dilations": d, "pads": pb + pe}
    model = single_node_model("Conv", {"x": x}, attrs, inits)
    if not nchwc:
        assert_matches_ort(model, {"x": x}, rtol=RTOL, atol=ATOL, num_threads=threads,
                           kernel_overrides={"Conv": NCHW})
        return
    cfg = _cfg3(n, c, m, sp, k, s, d, pb, pe)
    got = ks.make_runner(cfg, Platform.detect(threads).simd_width, inits["w"], inits.get("b"), mode="nchwc")(x)[0]
    np.testing.assert_allclose(got, run_ort(model, {"x": x})[0], rtol=RTOL, atol=ATOL)


def _cfg3(n, c, m, sp, k, s, d, pb, pe):
    """ConvConfig of a 1-D or 2-D case given per real axis."""
    pad = [1] * (3 - len(sp))
    zero = [0] * (3 - len(sp))
    out = [(i + a + e - dd * (kk - 1) - 1) // ss + 1 for i, kk, ss, dd, a, e in zip(sp, k, s, d, pb, pe)]
    return ConvConfig(n, c, m, 1, (*pad, *sp), (*pad, *out), (*pad, *k), (*pad, *s), (*pad, *d), (*zero, *pb),
                      (*zero, *pe), len(sp))


@pytest.mark.parametrize("width", [8, 16])
# the env var is the same for every drawn example, so a function-scoped monkeypatch is safe here
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=stem_case())
def test_nchw_matches_ort(width, case, monkeypatch):
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
    _check(case)


@pytest.mark.parametrize("width", [8, 16])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=stem_case())
def test_nchwc_core_matches_ort(width, case, monkeypatch):
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
    _check(case, nchwc=True)


# (C, M, H, W, kernel, stride, dilation, pads_begin, pads_end): the real stems, then every row-tail path of
# both kernels (widths around the tile sizes, rows narrower than a vector, M not a multiple of 4 or of W)
STEMS = [(3, 64, 24, 56, 7, 2, 1, 3, 3), (3, 32, 17, 64, 3, 2, 1, 1, 1), (3, 16, 9, 45, 3, 2, 1, 0, 1),
         (4, 19, 8, 31, 3, 1, 2, 2, 0), (3, 8, 6, 7, 3, 1, 1, 1, 1), (1, 5, 7, 100, 5, 3, 1, 2, 0),
         (3, 70, 5, 21, 2, 1, 1, 0, 1)]


def _cfg(n, c, m, h, wd, k, s, d, p0, p1):
    oh = (h + p0 + p1 - d * (k - 1) - 1) // s + 1
    ow = (wd + p0 + p1 - d * (k - 1) - 1) // s + 1
    return ConvConfig(n, c, m, 1, (1, h, wd), (1, oh, ow), (1, k, k), (1, s, s), (1, d, d), (0, p0, p0),
                      (0, p1, p1), 2)


@pytest.mark.parametrize("registers", ["16", "32"])
@pytest.mark.parametrize("mode", ["nchw", "nchwc"])
@pytest.mark.parametrize("width", [8, 16])
def test_stems_with_every_epilogue(mode, width, registers, monkeypatch):
    """Each fused epilogue vs the un-fused output + float64 epilogue; the un-fused output vs the general
    kernel. "nchw" goes through the registry (the registered kernel), "nchwc" through make_runner. Both tile
    sets (TILES / PVECS for 16 and 32 vector registers) on any host."""
    monkeypatch.setenv("FASTCONV_VECTOR_REGISTERS", registers)
    kernel = next(k for k in kernels_for("Conv") if k.name == NCHW)
    general = next(k for k in kernels_for("Conv") if k.name.startswith("conv_im2col"))
    plat = Platform.detect(2, simd_width=width)

    def build(cfg, w, b, ep=NO_EPILOGUE):
        if mode == "nchw":
            return kernel.build(cfg, plat, w, b, ep)
        return ks.make_runner(cfg, width, w, b, ep, mode="nchwc")

    for i, geo in enumerate(STEMS):
        cfg = _cfg(2, *geo)
        w = rand(cfg.out_channels, cfg.in_channels, *cfg.kernel[1:], seed=i)
        b = rand(cfg.out_channels, seed=i + 1)
        x = rand(2, cfg.in_channels, *cfg.in_spatial[1:], seed=i + 2)
        base = build(cfg, w, b)(x)[0]
        assert base.base is None and base.flags.c_contiguous  # not a view: the executor would copy it
        np.testing.assert_allclose(base, general.build(cfg, plat, w, b)(x)[0], rtol=RTOL, atol=ATOL)
        res = rand(*base.shape, seed=i + 3)
        for ep in EPILOGUES:
            got = build(cfg, w, b, ep)(x, res if ep.residual else None)[0]
            np.testing.assert_allclose(got, reference(base, ep, res), rtol=RTOL, atol=ATOL,
                                       err_msg=f"{geo} {ep.describe()}")


def test_registered_supports_and_chosen_for_rgb_stems():
    plat = Platform.detect(1, simd_width=16)
    assert select_kernel("Conv", _cfg(1, 3, 64, 224, 224, 7, 2, 1, 3, 3), plat).name == NCHW
    assert select_kernel("Conv", _cfg(1, 3, 32, 640, 640, 3, 2, 1, 1, 1), plat).name == NCHW
    assert select_kernel("Conv", _cfg(1, 4, 16, 64, 64, 3, 1, 1, 1, 1), plat).name == NCHW
    assert select_kernel("Conv", _cfg(1, 5, 32, 64, 64, 3, 2, 1, 1, 1), plat).name != NCHW
    cfg = _cfg(1, 4, 8, 9, 9, 3, 1, 1, 1, 1)
    assert ks.supports(cfg)
    assert not ks.supports(dataclasses.replace(cfg, group=2))
    assert not ks.supports(dataclasses.replace(cfg, rank=3))
    assert not ks.supports(dataclasses.replace(cfg, in_channels=5))


@pytest.mark.parametrize("regs", [16, 32])
def test_tiles_fit_their_register_file(regs):
    """NCHWc tiles: B*T accumulators + B weight vectors + 1 broadcast; NCHW tiles: 4*V accumulators + V input
    vectors + 1 broadcast weight; both within the register file they are chosen for."""
    assert all(nb * t + nb + 1 <= regs for nb, t in ks.TILES[regs].items())
    v = ks.PVECS[regs]
    assert 4 * v + v + 1 <= regs
    assert all(t <= v for t, _ in ks.PTAILS[regs].values())


def test_runner_tiles_follow_the_platform(monkeypatch):
    """The 16- and 32-register tiles give the same results (the runner asks the platform for the budget)."""
    cfg = _cfg(1, 3, 40, 30, 61, 7, 2, 1, 3, 3)
    w, b, x = rand(40, 3, 7, 7, seed=1), rand(40, seed=2), rand(1, 3, 30, 61, seed=3)
    for mode in ("nchw", "nchwc"):
        outs = []
        for regs in ("16", "32"):
            monkeypatch.setenv("FASTCONV_VECTOR_REGISTERS", regs)
            outs.append(ks.make_runner(cfg, 8, w, b, mode=mode)(x)[0])
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_generated_section_is_current():
    gen = generated_section(ks.__file__)
    assert gen == ks.emit_tiles(), "rerun `python -m fastconv.kernels.numba.conv_stem`"


# the 32-register tiles at W = 16 on AVX-512 hosts; the 16-register ones at W = 8 on AVX2 (or AVX-512) hosts
@pytest.mark.parametrize("tile,fmas,width", [("_p4x5", 20, 16), ("_s4x6", 24, 16), ("_p4x3", 12, 8),
                                             ("_s4x2", 8, 8), ("_s3x4", 12, 8), ("_s2x6", 12, 8), ("_s1x8", 8, 8)])
def test_tile_assembly_full_width_fma_no_spills(tile, fmas, width):
    from fastconv.kernels.numba.simd import width_token

    f = np.zeros(1 << 16, np.float32)
    xoff = np.arange(27, dtype=np.int64) * 7
    # _p4x5(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, ...) / _s4x6(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, ...)
    geo = (0, 0, 4, 0, 4096) if tile.startswith("_p") else (0, 1, 0, 0, 0, 4096)
    assert_full_width_fma_no_spills(getattr(ks, tile), (f, f, f, np.zeros(1 << 16, np.float32), xoff, *geo, f, True,
                                    1, np.float32(0), np.float32(0), width_token(width)), fmas, width)
