"""Depthwise conv kernels (fastconv/kernels/numba/conv_depthwise.py): "conv_depthwise_nchw_f32" against
onnxruntime over drawn shapes at W=8 and W=16, every generated kernel variant and every fused epilogue against
numpy, the parallel driver against the serial one, the NCHWc core on blocked buffers and behind reorders,
the registry entry, the generated source and the step kernel's assembly."""
import platform
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit

from fastconv.kernels.numba.codegen import generated_section
from fastconv.kernels.numba import conv_depthwise as kd
from fastconv.kernels.numba import layout
from fastconv.kernels.numba.simd import width_token
from fastconv.kernels.registry import kernels_for, select_kernel
from fastconv.ops.conv import ConvConfig
from fastconv.platform import Platform
from tests.kernels.epilogue_ref import EPILOGUES, reference
from tests.kernels.test_conv_kernels import reference_conv
from tests.util import assert_matches_ort, rand, single_node_model

OVERRIDE = {"Conv": "conv_depthwise_nchw_f32"}
# float32 sums of at most 25 products in another order than onnxruntime's (or float64 numpy): 2e-5 absolute
ATOL, RTOL = 2e-5, 1e-4


def cfg2(n, c, mult, hw, k, s=(1, 1), d=(1, 1), pb=(1, 1), pe=(1, 1)):
    """2-D ConvConfig of a depthwise conv (k, hw: (h, w) pairs)."""
    out = tuple((hw[i] + pb[i] + pe[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    return ConvConfig(n, c, c * mult, c, (1, *hw), (1, *out), (1, *k), (1, *s), (1, *d), (0, *pb), (0, *pe), 2)


def numpy_conv(cfg, x, w, b):
    y = reference_conv(x, w, b, cfg.strides[1:], cfg.dilations[1:], cfg.pads_begin[1:], cfg.pads_end[1:], cfg.group)
    return y.reshape(cfg.output_shape)


def run_direct(cfg, width, threads=1, epilogue=None, parallel=None, seed=0):
    """Build the NCHW kernel directly; returns (y, x, w, b, residual)."""
    x = rand(cfg.batch, cfg.in_channels, *cfg.in_spatial[1:], seed=seed)
    w = rand(cfg.out_channels, 1, *cfg.kernel[1:], seed=seed + 1)
    b = rand(cfg.out_channels, seed=seed + 2)
    res = rand(*cfg.output_shape, seed=seed + 3)
    kw = {} if epilogue is None else {"epilogue": epilogue}
    run = kd.make_runner(cfg, Platform.detect(threads, simd_width=width), w, b, parallel=parallel, **kw)
    x0 = x.copy()
    y = run(x, res if epilogue is not None and epilogue.residual else None)[0]
    np.testing.assert_array_equal(x, x0)
    assert y.shape == cfg.output_shape and y.dtype == np.float32 and y.base is None
    return y, x, w, b, res


@st.composite
def dw_case(draw):
    rank = draw(st.sampled_from([1, 2, 2, 2]))
    c = draw(st.integers(1, 20))
    mult = draw(st.sampled_from([1, 1, 1, 2, 3]))
    k = [draw(st.sampled_from([1, 2, 3, 3, 3, 5])) for _ in range(rank)]
    s = [draw(st.sampled_from([1, 1, 2, 2, 3])) for _ in range(rank)]
    d = [draw(st.sampled_from([1, 1, 2])) for _ in range(rank)]
    pb = [draw(st.integers(0, kk - 1)) for kk in k]
    pe = [draw(st.integers(0, kk - 1)) for kk in k]
    sp = [draw(st.integers(max(1, dd * (kk - 1) + 1 - a - e), 40)) for kk, dd, a, e in zip(k, d, pb, pe)]
    n = draw(st.integers(1, 2))
    threads = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    return rank, c, mult, k, s, d, pb, pe, sp, n, threads, bias


def _check_ort(case, seed=0):
    _, c, mult, k, s, d, pb, pe, sp, n, threads, bias = case
    x = rand(n, c, *sp, seed=seed)
    inits = {"w": rand(c * mult, 1, *k, seed=seed + 1)}
    if bias:
        inits["b"] = rand(c * mult, seed=seed + 2)
    attrs = {"kernel_shape": k, "strides": s, "dilations": d, "pads": pb + pe, "group": c}
    model = single_node_model("Conv", {"x": x}, attrs, inits)
    assert_matches_ort(model, {"x": x}, rtol=RTOL, atol=ATOL, num_threads=threads, kernel_overrides=OVERRIDE)


@pytest.mark.parametrize("width", [8, 16])
# the env var is the same for every drawn example, so a function-scoped monkeypatch is safe here
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=dw_case())
def test_matches_ort(width, case, monkeypatch):
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", str(width))
    _check_ort(case)


# one case per generated kernel (name from nchw_plan) and geometry corner
VARIANTS = [
    ("k3s1_r8", cfg2(2, 5, 1, (19, 37), (3, 3)), (8, 16)),                          # masked last column
    ("k3s1_r8", cfg2(1, 3, 1, (150, 170), (3, 3)), (16,)),                          # several bands
    ("k3s1_r1", cfg2(1, 4, 2, (2, 21), (3, 3)), (16,)),                             # 2 rows, multiplier 2
    ("k3s2_r8", cfg2(1, 6, 1, (33, 45), (3, 3), (2, 2), pb=(1, 0), pe=(0, 1)), (8, 16)),
    ("k3s1_pair", cfg2(2, 6, 1, (7, 7), (3, 3)), (16,)),
    ("k3s2_pair", cfg2(1, 8, 1, (14, 13), (3, 3), (2, 2)), (16,)),
    ("k3s1_r8", cfg2(1, 7, 1, (7, 7), (3, 3)), (16,)),                              # odd C: no pairs
    ("generic_r8", cfg2(1, 4, 1, (17, 23), (5, 5), pb=(2, 2), pe=(2, 2)), (8, 16)),
    ("generic_r8", cfg2(1, 3, 1, (20, 30), (3, 3), (3, 2), (2, 3), (2, 0), (1, 2)), (16,)),
    ("generic_r1", ConvConfig(2, 5, 5, 5, (1, 1, 40), (1, 1, 38), (1, 1, 5), (1, 1, 1), (1, 1, 1), (0, 0, 1),
                              (0, 0, 1), 1), (8, 16)),                              # 1-D
]


@pytest.mark.parametrize("name,cfg,widths", VARIANTS, ids=[f"{v[0]}-{i}" for i, v in enumerate(VARIANTS)])
def test_every_variant_matches_numpy(name, cfg, widths):
    for width in widths:
        assert kd.nchw_plan(cfg, width)[0] == name
        y, x, w, b, _ = run_direct(cfg, width)
        np.testing.assert_allclose(y, numpy_conv(cfg, x, w, b), rtol=RTOL, atol=ATOL, err_msg=f"W={width}")


@pytest.mark.parametrize("cfg", [cfg2(1, 6, 1, (15, 20), (3, 3)), cfg2(1, 4, 1, (7, 7), (3, 3)),
                                 cfg2(1, 4, 2, (9, 12), (5, 3), (2, 1), pb=(2, 1), pe=(2, 1))],
                         ids=["k3s1_r8", "k3s1_pair", "generic"])
def test_every_epilogue(cfg):
    base, *_, res = run_direct(cfg, 16)
    for ep in EPILOGUES:
        got = run_direct(cfg, 16, epilogue=ep)[0]
        np.testing.assert_allclose(got, reference(base, ep, res), rtol=1e-4, atol=3e-5, err_msg=ep.describe())


@pytest.mark.parametrize("cfg", [cfg2(2, 7, 1, (30, 31), (3, 3)), cfg2(1, 10, 1, (7, 7), (3, 3)),
                                 cfg2(1, 3, 1, (150, 40), (3, 3), (2, 2))], ids=["bands", "pairs", "s2"])
def test_parallel_equals_serial(cfg):
    ep = EPILOGUES[3]  # Relu with residual
    serial = run_direct(cfg, 16, threads=2, epilogue=ep, parallel=False)[0]
    parallel = run_direct(cfg, 16, threads=2, epilogue=ep, parallel=True)[0]
    np.testing.assert_array_equal(serial, parallel)  # same tasks, same arithmetic


@pytest.mark.parametrize("width", [8, 16])
@pytest.mark.parametrize("cfg", [cfg2(1, 19, 1, (13, 11), (3, 3), (2, 1), (1, 2), (1, 0), (2, 1)),
                                 ConvConfig(2, 5, 5, 5, (1, 1, 12), (1, 1, 12), (1, 1, 3), (1, 1, 1), (1, 1, 1),
                                            (0, 0, 1), (0, 0, 1), 1)], ids=["2d", "1d"])
def test_nchwc_core_on_blocked_buffers(cfg, width):
    """The NCHWc entry point, fed blocked buffers directly (as the layout pass will), every epilogue."""
    x = rand(cfg.batch, cfg.in_channels, *cfg.in_spatial[1:], seed=1)
    w = rand(cfg.out_channels, 1, *cfg.kernel[1:], seed=2)
    b = rand(cfg.out_channels, seed=3)
    res = rand(*cfg.output_shape, seed=4)
    c, cb = cfg.in_channels, -(-cfg.in_channels // width)
    wp = layout.pack_depthwise_to_Chwc(w.reshape(c, 1, *cfg.kernel[1:]), width)
    bias = np.zeros(cb * width, np.float32)
    bias[:c] = b
    xc = layout.reorder_nchw_to_nchwc(x.reshape(cfg.batch, c, *cfg.in_spatial[1:]), width)
    rc = layout.reorder_nchw_to_nchwc(res.reshape(cfg.batch, c, *cfg.out_spatial[1:]), width)
    base = numpy_conv(cfg, x, w, b).reshape(cfg.batch, c, *cfg.out_spatial[1:])
    offs, geo = kd.nchwc_geometry(cfg, width)
    for k, ep in enumerate(EPILOGUES[::3] + [EPILOGUES[-1]]):
        yc = np.empty((cfg.batch, cb, *cfg.out_spatial[1:], width), np.float32)
        if k % 2:  # both drivers: the prange one over 3 chunks, the serial one
            kd.conv_depthwise_nchwc_f32(xc, wp, bias, offs, geo, rc, ep.residual, *ep.args, yc, 3,
                                        width_token(width))
        else:
            kd.conv_depthwise_nchwc_serial_f32(xc, wp, bias, offs, geo, rc, ep.residual, *ep.args, yc,
                                               width_token(width))
        got = layout.reorder_nchwc_to_nchw(yc, c)
        np.testing.assert_allclose(got, reference(base, ep, res.reshape(base.shape)), rtol=1e-4, atol=3e-5,
                                   err_msg=ep.describe())


@settings(max_examples=15, deadline=None)
@given(case=dw_case())
def test_nchwc_runner_matches_numpy(case):
    """make_runner_nchwc: reorders around the NCHWc core, any geometry (multiplier 1)."""
    rank, c, _, k, s, d, pb, pe, sp, n, _, _ = case
    k, s, d, pb, pe, sp = ([1] * (2 - rank) + list(v) for v in (k, s, d, pb, pe, sp))
    out = tuple((sp[i] + pb[i] + pe[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    cfg = ConvConfig(n, c, c, c, (1, *sp), (1, *out), (1, *k), (1, *s), (1, *d), (0, *pb), (0, *pe), 2)
    x, w, b = rand(n, c, *sp), rand(c, 1, *k, seed=1), rand(c, seed=2)
    y = kd.make_runner_nchwc(cfg, Platform.detect(2, simd_width=16), w, b)(x)[0]
    np.testing.assert_allclose(y, numpy_conv(cfg, x, w, b), rtol=RTOL, atol=ATOL)


def test_registered_and_selected():
    ks = {k.name: k for k in kernels_for("Conv")}
    assert ks["conv_depthwise_nchw_f32"].priority > ks["conv_depthwise_direct_f32"].priority
    plat = Platform.detect(2, simd_width=16)
    mobilenet = cfg2(1, 144, 1, (56, 56), (3, 3), (2, 2))
    assert select_kernel("Conv", mobilenet, plat).name == "conv_depthwise_nchw_f32"
    assert select_kernel("Conv", cfg2(1, 8, 3, (9, 9), (3, 3)), plat).name == "conv_depthwise_nchw_f32"
    assert "conv_depthwise_nchwc_f32" not in ks  # the NCHWc core waits for the layout pass
    assert kd.supports_nchwc(mobilenet) and not kd.supports_nchwc(cfg2(1, 8, 3, (9, 9), (3, 3)))
    d3 = ConvConfig(1, 4, 4, 4, (5, 5, 5), (5, 5, 5), (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1), 3)
    assert select_kernel("Conv", d3, plat).name == "conv_depthwise_direct_f32"  # 3-D: the old kernel


def test_generated_section_is_current():
    gen = generated_section(kd.__file__)
    assert gen == kd.emit_all(), "rerun `python -m fastconv.kernels.numba.conv_depthwise`"


def _fma_block(asm):
    """The basic block with the most FMAs: the step's straight-line body."""
    blocks, cur = [], []
    for line in asm.splitlines():
        if re.match(r"^\S+:", line):
            blocks.append(cur)
            cur = []
        cur.append(line)
    blocks.append(cur)
    return max(blocks, key=lambda b: sum("vfmadd" in ln for ln in b))


def test_step_assembly_full_width_fma_no_vector_spills():
    from llvmlite import binding as llvm

    feats = {f for f, on in llvm.get_host_cpu_features().items() if on}
    if platform.machine().lower() not in ("x86_64", "amd64") or "avx512f" not in feats:
        pytest.skip("assembly expectations are written for AVX-512 hosts")
    from fastconv.kernels.numba.conv_nchwc import _bload
    from fastconv.kernels.numba.simd import W16

    step = kd._step_k3s1_r8

    @njit
    def one_step(sf, wk, of):
        bv = _bload(wk, 9, W16)
        step(sf, 0, 64, 64, 0, _bload(wk, 0, W16), _bload(wk, 1, W16), _bload(wk, 2, W16), _bload(wk, 3, W16),
             _bload(wk, 4, W16), _bload(wk, 5, W16), _bload(wk, 6, W16), _bload(wk, 7, W16), _bload(wk, 8, W16),
             bv, of, 0, 40, of, False, 0, 0.0, 0.0, 16, 8, W16)

    sf, wk, of = np.zeros(4096, np.float32), np.ones(16, np.float32), np.zeros(1024, np.float32)
    one_step(sf, wk, of)
    block = _fma_block(one_step.inspect_asm(one_step.signatures[0]))
    fmas = [ln for ln in block if re.search(r"\bvfmadd\d{3}ps\b", ln)]
    assert len(fmas) >= 60, "\n".join(block)  # 72 per step; LLVM may fold a few into the next block
    assert all(re.search(r"%zmm\d+\s*$", ln) for ln in fmas), "\n".join(fmas)
    spills = [ln for ln in block if re.search(r"\bvmov\w+\s+%zmm\d+, -?\w*\(%rsp\)", ln)]
    assert not spills, "vector spills:\n" + "\n".join(block)
