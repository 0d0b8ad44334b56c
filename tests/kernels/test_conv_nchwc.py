"""Direct NCHWc convolution kernel (fastconv/kernels/numba/conv_nchwc.py, Conv kernel "conv_nchwc_direct_f32")
against onnxruntime over drawn shapes at block width W=8 and W=16, plus the generated source, the registry
entry and the micro-kernel's assembly."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastconv.kernels.numba.codegen import generated_section
from fastconv.kernels.numba import conv_nchwc as kn
from fastconv.kernels.registry import kernels_for
from tests.kernels.asm import assert_full_width_fma_no_spills
from tests.util import assert_matches_ort, rand, single_node_model

OVERRIDE = {"Conv": "conv_nchwc_direct_f32"}
# float32 sums of up to C*K*K ~ 600 products in a different order than onnxruntime's: 3e-5 absolute.
ATOL, RTOL = 3e-5, 1e-4


@st.composite
def conv_case(draw):
    rank = draw(st.sampled_from([1, 2, 2, 2]))
    c = draw(st.integers(1, 21))
    m = draw(st.integers(1, 21))
    k = [draw(st.integers(1, 7)) for _ in range(rank)]
    s = [draw(st.integers(1, 2)) for _ in range(rank)]
    d = [draw(st.integers(1, 2)) for _ in range(rank)]
    pb = [draw(st.integers(0, kk - 1)) for kk in k]
    pe = [draw(st.integers(0, kk - 1)) for kk in k]
    sp = [draw(st.integers(max(1, dd * (kk - 1) + 1 - a - e), 20)) for kk, dd, a, e in zip(k, d, pb, pe)]
    n = draw(st.integers(1, 2))
    threads = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    return rank, c, m, k, s, d, pb, pe, sp, n, threads, bias


def _check(case, seed=0):
    rank, c, m, k, s, d, pb, pe, sp, n, threads, bias = case
    x = rand(n, c, *sp, seed=seed)
    inits = {"w": rand(m, c, *k, seed=seed + 1)}
    if bias:
        inits["b"] = rand(m, seed=seed + 2)
    attrs = {"kernel_shape": k, "strides": s, "dilations": d, "pads": pb + pe}
    model = single_node_model("Conv", {"x": x}, attrs, inits)
    assert_matches_ort(model, {"x": x}, rtol=RTOL, atol=ATOL, num_threads=threads, kernel_overrides=OVERRIDE)


@pytest.mark.parametrize("width", [8, 16])
# the env var is the same for every drawn example, so a function-scoped monkeypatch is safe here
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=conv_case())
def test_matches_ort(width, case, monkeypatch):
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
    _check(case)


@pytest.mark.parametrize("width", [8, 16])
def test_all_tile_sizes_and_channel_tails(width, monkeypatch):
    """Row widths 27 (8+8+8+3 or 8+8+7+4 by block count), 28 = 8+8+8+4, 13 (7+3+3, or 8+4+1 for 1 block) and
    2 = 1+1 (row_tiles), at unit and non-unit stride, hit every pixel tile; 37 output channels leave a block
    tail, and 3, 5 and 8 blocks of output channels make groups of 3, 3+2 and 3+3+2 blocks (every block tile). The register
    budget is set to 32 vectors so that every tile runs on any host (AVX2's 16 ymm would exclude the 8- and
    7-pixel tiles of 2 and 3 blocks)."""
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
    monkeypatch.setenv("FASTCONV_VECTOR_REGISTERS", "32")
    for ow, stride in ((27, 1), (28, 1), (13, 1), (2, 1), (27, 2), (28, 2), (13, 2), (2, 2)):
        _check((2, 37, 19, [3, 3], [stride, stride], [1, 1], [1, 1], [1, 1], [6, ow * stride], 1, 2, True))
    for blocks in (3, 5, 8):
        _check((2, 19, blocks * width - 3, [3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [5, 11], 1, 2, True))


@pytest.mark.parametrize("nb", [1, 2, 3])
def test_row_tiles_cover_the_row_cheaply(nb):
    for ow in range(1, 130):
        tiles = kn.row_tiles(ow, nb)
        assert tiles.sum() == ow and set(tiles.tolist()) <= set(kn.TILES)
        assert list(tiles) == sorted(tiles, reverse=True)
        assert (tiles == 1).sum() < 4 and (tiles == 4).sum() <= 1   # tails stay short
    assert kn.row_tiles(32, nb).tolist() == [8, 8, 8, 8]
    assert kn.row_tiles(27, nb).tolist() in ([8, 8, 7, 4], [8, 8, 8, 3])   # equal cost


@pytest.mark.parametrize("registers", [8, 16, 32])
@pytest.mark.parametrize("nb", [1, 2, 3])
def test_row_tiles_fit_the_register_file(nb, registers):
    """t*nb accumulators + nb weight vectors + 1 input broadcast fit in the registers (AVX2: 16 ymm, 8 vectors
    of W = 16 there), and the row is still covered."""
    for ow in range(1, 70):
        tiles = kn.row_tiles(ow, nb, registers)
        assert tiles.sum() == ow
        assert all(t == 1 or t * nb + nb + 1 <= registers for t in tiles.tolist()), (ow, tiles)
    assert kn.row_tiles(56, 3, 16).tolist() == [4] * 14           # AVX2, 3 blocks: 12 accumulators
    assert kn.row_tiles(7, 3, 16).tolist() == [4, 3]               # 7x7 maps: not 4 + 1 + 1 + 1
    assert kn.row_tiles(14, 3, 16).tolist() == [4, 4, 3, 3]
    assert kn.row_tiles(32, 1, 16).tolist() == [8, 8, 8, 8]        # 1 block: 8 accumulators fit


def test_runner_tiles_follow_the_platform(monkeypatch):
    """The runner asks the platform for the register budget of its width: results equal at 16 and 32."""
    from fastconv.ops.conv import ConvConfig

    cfg = ConvConfig(1, 20, 40, 1, (1, 9, 23), (1, 9, 23), (1, 3, 3), (1, 1, 1), (1, 1, 1), (0, 1, 1), (0, 1, 1), 2)
    w, b, x = rand(40, 20, 3, 3, seed=1), rand(40, seed=2), rand(1, 20, 9, 23, seed=3)
    outs = []
    for regs in ("16", "32"):
        monkeypatch.setenv("FASTCONV_VECTOR_REGISTERS", regs)
        outs.append(kn.make_runner(cfg, 8, w, b)(x)[0])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_registered_and_supports():
    k = next(k for k in kernels_for("Conv") if k.name == "conv_nchwc_direct_f32")
    im2col = next(k for k in kernels_for("Conv") if k.name == "conv_im2col_gemm_f32")
    assert k.priority < 0 or k.priority > im2col.priority  # default only where it measured faster

    class Cfg:
        group, rank = 1, 2

    assert kn.supports(Cfg)
    Cfg.group = 2
    assert not kn.supports(Cfg)
    Cfg.group, Cfg.rank = 1, 3
    assert not kn.supports(Cfg)


def test_generated_section_is_current():
    gen = generated_section(kn.__file__)
    assert gen == kn.emit_tiles(), "rerun `python -m fastconv.kernels.numba.conv_nchwc`"


# 32-register tiles at W = 16 on AVX-512 hosts; the 16-register ones AVX2 rows use (row_tiles) at W = 8
@pytest.mark.parametrize("tile, fmas_min, width", [("_k7x3u", 21, 16), ("_k8x3u", 24, 16), ("_k4x3u", 12, 8),
                                                   ("_k3x3u", 9, 8)])
def test_tile_assembly_full_width_fma_no_spills(tile, fmas_min, width):
    from fastconv.kernels.numba.simd import width_token

    f = np.zeros(1 << 16, np.float32)
    assert_full_width_fma_no_spills(getattr(kn, tile), (f, f, f, np.zeros(1 << 16, np.float32), 0, 0, 0, 0, 1, 3, 3,
                                    4096, 256, width, width, 2304, 4096, f, True, 1, np.float32(0), np.float32(0),
                                    width_token(width)), fmas_min, width)


def test_automatic_choice_avoids_channel_padded_stems_and_takes_narrow_rows():
    """The direct kernel can run these (supports, so overrides test it) but is not picked automatically."""
    from fastconv.kernels.registry import select_kernel
    from fastconv.ops.conv import ConvConfig
    from fastconv.platform import Platform

    platform = Platform.detect(1, simd_width=16)

    def cfg(c, m, hw, k):
        return ConvConfig(1, c, m, 1, (1, hw, hw), (1, hw, hw), (1, k, k), (1, 1, 1), (1, 1, 1), (0, 1, 1),
                          (0, 1, 1), 2)

    assert select_kernel("Conv", cfg(64, 64, 56, 3), platform).name == "conv_nchwc_direct_f32"
    assert select_kernel("Conv", cfg(3, 64, 56, 3), platform).name != "conv_nchwc_direct_f32"
    assert select_kernel("Conv", cfg(128, 256, 13, 3), platform).name == "conv_nchwc_direct_f32"
    assert select_kernel("Conv", cfg(512, 512, 7, 3), platform).name == "conv_nchwc_direct_f32"
    assert select_kernel("Conv", cfg(3, 64, 56, 3), platform, "conv_nchwc_direct_f32").name == \
        "conv_nchwc_direct_f32"
    # input channels padded by up to 60% still take the direct kernel (6 -> 8 at W = 8: LeNet's second conv), but
    # not 6 -> 16 at W = 16, nor output channels padded by more than 25%
    avx2 = Platform.detect(1, simd_width=8)
    assert select_kernel("Conv", cfg(6, 16, 14, 5), avx2).name == "conv_nchwc_direct_f32"
    assert select_kernel("Conv", cfg(10, 64, 56, 3), avx2).name == "conv_nchwc_direct_f32"
    assert select_kernel("Conv", cfg(6, 16, 14, 5), platform).name != "conv_nchwc_direct_f32"
    assert select_kernel("Conv", cfg(16, 6, 14, 5), avx2).name != "conv_nchwc_direct_f32"


def test_layout_pass_keeps_the_25_percent_rule_for_input_channels(monkeypatch):
    """The relaxed input-channel rule picks a kernel only: a conv with 6 input channels stays NCHW in the plan
    (blocking it would add reorder steps, and make the plan's steps depend on W)."""
    import fastconv
    from tests.models import zoo

    for width in ("8", "16"):
        monkeypatch.setenv("FASTCONV_SIMD_WIDTH", width)
        sess = fastconv.InferenceSession(zoo.CASES["lenet5"].path(None))
        plan = sess.plan_for({sess.get_inputs()[0].name: (1, 1, 28, 28)})
        assert "Reorder" not in [s.node.op_type for s in plan.steps], width


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_serial_and_parallel_drivers_agree_bitwise(threads):
    """Small layers run conv_nchwc_direct_serial_f32 (no parallel region), big ones the prange driver: the same
    tasks and arithmetic, so the same bits."""
    from fastconv.kernels.numba.layout import pack_oihw_to_OIhwio, reorder_nchw_to_nchwc
    from fastconv.kernels.numba.simd import width_token

    width = 16
    x = rand(2, 40, 9, 13, seed=1)
    w = rand(37, 40, 3, 3, seed=2)
    xp = np.zeros((2, 3, 11, 15, width), np.float32)
    xp[:, :, 1:10, 1:14] = reorder_nchw_to_nchwc(x, width)
    wp = pack_oihw_to_OIhwio(w, width, width)
    bias = rand(48, seed=3)
    res = rand(2, 3, 9, 13, width, seed=4)
    tiles = kn.row_tiles(13, 3)
    outs = []
    for parallel in (False, True):
        y = np.empty((2, 3, 9, 13, width), np.float32)
        args = (xp, wp, bias, 1, 1, 1, 1, res, True, 1, 0.0, 0.0, y, tiles)
        if parallel:
            kn.conv_nchwc_direct_f32(*args, threads, width_token(width))
        else:
            kn.conv_nchwc_direct_serial_f32(*args, width_token(width))
        outs.append(y)
    np.testing.assert_array_equal(outs[0], outs[1])
