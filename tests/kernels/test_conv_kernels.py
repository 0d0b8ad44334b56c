"""Every registered Conv / ConvTranspose kernel against a plain-numpy reference (float64), tiled and not,
single- and multi-threaded; plus the geometry helpers the kernels rely on."""
import subprocess
import sys

import numba
import numpy as np
import pytest

from fastconv.graph.ir import Node, TensorInfo
from fastconv.kernels.numba import conv_general as kc
from fastconv.kernels.registry import kernels_for
from fastconv.ops import conv
from fastconv.platform import Platform
from tests.util import rand

F32 = np.dtype(np.float32)


def reference_conv(x, w, b, strides, dilations, pads_begin, pads_end, group):
    """Direct convolution in float64: zero-pad, then one strided slice per kernel tap."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads_begin[i], pads_end[i]) for i in range(n)])
    kernel = w.shape[2:]
    out = [(xp.shape[2 + i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1 for i in range(n)]
    m, cg = w.shape[:2]
    mg = m // group
    y = np.zeros((x.shape[0], m, *out))
    for tap in np.ndindex(*kernel):
        sl = tuple(slice(tap[i] * dilations[i], tap[i] * dilations[i] + (out[i] - 1) * strides[i] + 1, strides[i])
                   for i in range(n))
        patch = xp[(slice(None), slice(None)) + sl]
        for g in range(group):
            wg = w[(slice(g * mg, (g + 1) * mg), slice(None)) + tap]
            y[:, g * mg:(g + 1) * mg] += np.einsum("mc,nc...->nm...", wg, patch[:, g * cg:(g + 1) * cg])
    if b is not None:
        y += b.reshape(1, m, *[1] * n)
    return y


def reference_conv_transpose(x, w, b, strides, dilations, pads_begin, out_shape, group):
    """Scatter every input pixel times every tap into the unpadded output, then crop at pads_begin."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n = x.ndim - 2
    c, mg = w.shape[:2]
    cg = c // group
    kernel = w.shape[2:]
    full = [strides[i] * (x.shape[2 + i] - 1) + dilations[i] * (kernel[i] - 1) + 1 for i in range(n)]
    size = [max(full[i], pads_begin[i] + out_shape[i]) for i in range(n)]
    y = np.zeros((x.shape[0], mg * group, *size))
    for tap in np.ndindex(*kernel):
        sl = tuple(slice(tap[i] * dilations[i], tap[i] * dilations[i] + (x.shape[2 + i] - 1) * strides[i] + 1,
                         strides[i]) for i in range(n))
        for g in range(group):
            wg = w[(slice(g * cg, (g + 1) * cg), slice(None)) + tap]
            y[(slice(None), slice(g * mg, (g + 1) * mg)) + sl] += np.einsum("cm,nc...->nm...", wg,
                                                                           x[:, g * cg:(g + 1) * cg])
    y = y[(slice(None), slice(None)) + tuple(slice(pads_begin[i], pads_begin[i] + out_shape[i]) for i in range(n))]
    if b is not None:
        y = y + b.reshape(1, -1, *[1] * n)
    return y


def make_op(op_type, attrs):
    cls = conv.Conv if op_type == "Conv" else conv.ConvTranspose
    return cls(Node(op_type, ["x", "w", "b"], ["y"], attrs, name="k", opset=17))


# (x shape, w shape, attrs, with bias)
CONV_CASES = [
    ((2, 3, 9, 8), (4, 3, 3, 3), {"pads": [1, 0, 2, 1], "strides": [2, 1]}, True),
    ((1, 4, 11), (6, 2, 3), {"group": 2, "dilations": [3], "pads": [4, 1]}, False),
    ((1, 2, 5, 6, 4), (3, 2, 2, 3, 1), {"strides": [1, 2, 3], "pads": [1, 0, 0, 0, 2, 1]}, True),
    ((2, 8, 6, 7), (5, 8, 1, 1), {}, True),                                       # pointwise
    ((1, 6, 5, 5), (6, 3, 1, 1), {"group": 2}, False),                            # grouped pointwise
    ((1, 6, 5, 5), (4, 6, 1, 1), {"strides": [2, 2]}, True),                       # strided 1x1
    ((2, 4, 9, 7), (8, 1, 3, 3), {"group": 4, "pads": [1, 1, 1, 1], "strides": [2, 2]}, True),  # depthwise x2
    ((1, 3, 7, 10), (3, 1, 5, 3), {"group": 3, "dilations": [1, 2], "pads": [2, 3, 2, 0]}, False),
    ((1, 1, 6, 6), (4, 1, 3, 3), {"pads": [0, 1, 2, 0]}, True),                  # C_in = 1: depthwise x4
    ((1, 2, 4, 3, 5), (4, 1, 2, 2, 3), {"group": 2, "strides": [2, 1, 2], "pads": [0, 1, 1, 1, 0, 1]}, True),
    ((1, 3, 8), (2, 3, 2), {"strides": [5], "pads": [3, 3]}, True),               # stride > kernel, pads only
    ((1, 2, 7, 7), (3, 2, 3, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 3]}, True),
]

TRANSPOSE_CASES = [
    ((2, 3, 4, 5), (3, 2, 3, 3), {"strides": [2, 1], "pads": [1, 0, 0, 2]}, True),
    ((1, 4, 6), (4, 3, 4), {"group": 2, "strides": [3], "dilations": [2], "output_padding": [1]}, False),
    ((1, 2, 3, 2, 4), (2, 2, 2, 3, 2), {"strides": [2, 1, 2], "pads": [0, 1, 1, 1, 0, 0]}, True),
    ((1, 3, 5, 5), (3, 1, 3, 3), {"group": 3, "strides": [2, 2], "output_shape": [12, 9]}, True),
    ((2, 2, 3, 4), (2, 3, 2, 2), {"strides": [2, 2]}, False),                     # 2x2 stride-2 upsampling
    ((1, 2, 4, 4), (2, 2, 3, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 2]}, True),
    ((3, 5, 1, 1), (5, 4, 4, 4), {}, True),                                      # DCGAN projection: one-pixel input
]


def kernel_params(op_type, cases):
    params = []
    for k, (xs, ws, attrs, bias) in enumerate(cases):
        op = make_op(op_type, attrs)
        infos = [TensorInfo(F32, xs), TensorInfo(F32, ws), TensorInfo(F32, (ws[0] if op_type == "Conv" else
                                                                           ws[1] * attrs.get("group", 1),))]
        cfg = op.config(infos)
        for kern in kernels_for(op_type):
            if kern.supports(cfg, None):
                params.append(pytest.param(k, kern, id=f"{kern.name}-{k}"))
    return params


def run_kernel(op_type, kern, case, threads, tiny_tiles, monkeypatch):
    xs, ws, attrs, bias = case
    x, w = rand(*xs, seed=1), rand(*ws, seed=2)
    m = ws[0] if op_type == "Conv" else ws[1] * attrs.get("group", 1)
    b = rand(m, seed=3) if bias else None
    op = make_op(op_type, attrs)
    cfg = op.config([TensorInfo(F32, x.shape), TensorInfo(F32, w.shape), None if b is None else
                     TensorInfo(F32, b.shape)])
    if tiny_tiles:
        monkeypatch.setattr(conv, "COLS_TARGET", 1)  # one output (or input) row per band
    numba.set_num_threads(threads)
    x0 = x.copy()
    y = kern.build(cfg, Platform.detect(threads), w, b)(x)[0]
    np.testing.assert_array_equal(x, x0)
    assert y.dtype == np.float32 and y.flags.c_contiguous and y.shape == cfg.output_shape
    return x, w, b, cfg, y


@pytest.mark.parametrize("tiny_tiles", [False, True], ids=["whole", "tiled"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("k,kern", kernel_params("Conv", CONV_CASES))
def test_conv_kernel_matches_reference(k, kern, threads, tiny_tiles, monkeypatch):
    x, w, b, cfg, y = run_kernel("Conv", kern, CONV_CASES[k], threads, tiny_tiles, monkeypatch)
    n = cfg.rank
    ref = reference_conv(x, w, b, cfg.strides[3 - n:], cfg.dilations[3 - n:], cfg.pads_begin[3 - n:],
                         cfg.pads_end[3 - n:], cfg.group)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("tiny_tiles", [False, True], ids=["whole", "tiled"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("k,kern", kernel_params("ConvTranspose", TRANSPOSE_CASES))
def test_conv_transpose_kernel_matches_reference(k, kern, threads, tiny_tiles, monkeypatch):
    x, w, b, cfg, y = run_kernel("ConvTranspose", kern, TRANSPOSE_CASES[k], threads, tiny_tiles, monkeypatch)
    n = cfg.rank
    ref = reference_conv_transpose(x, w, b, cfg.strides[3 - n:], cfg.dilations[3 - n:], cfg.pads_begin[3 - n:],
                                   cfg.out_spatial[3 - n:], cfg.group)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_every_kernel_is_covered():
    covered = {p.values[1].name for p in kernel_params("Conv", CONV_CASES)}
    covered |= {p.values[1].name for p in kernel_params("ConvTranspose", TRANSPOSE_CASES)}
    assert covered == {k.name for op in ("Conv", "ConvTranspose") for k in kernels_for(op)}


def test_valid_range_matches_brute_force():
    for off in range(-7, 8):
        for stride in range(1, 4):
            for in_size in range(0, 6):
                for out_size in range(0, 6):
                    inside = [o for o in range(out_size) if 0 <= o * stride + off < in_size]
                    lo, hi = kc._valid_range(off, stride, in_size, out_size)
                    assert 0 <= lo <= hi <= out_size
                    assert list(range(lo, hi)) == inside, (off, stride, in_size, out_size)


@pytest.mark.parametrize("op_type,xs,ws,attrs", [
    ("Conv", (1, 64, 224, 224), (64, 64, 3, 3), {"pads": [1, 1, 1, 1]}),   # VGG-19 block 1
    ("Conv", (1, 512, 7, 7), (512, 512, 3, 3), {"pads": [1, 1, 1, 1]}),   # ResNet-50 stage 4
    ("Conv", (1, 256, 40, 40), (2, 256, 3, 3), {}),                       # many channels in, few out
    ("Conv", (1, 64, 1, 30), (1, 64, 1, 3), {}),                          # one output row only
    ("ConvTranspose", (1, 256, 64, 64), (256, 128, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("ConvTranspose", (1, 64, 9, 9), (64, 1, 2, 2), {"strides": [2, 2]}),
])
def test_column_tiles_are_bounded(op_type, xs, ws, attrs):
    """Column buffers stay within COLS_TARGET floats and the layer's output size x kernel volume, unless a
    single row is larger."""
    op = make_op(op_type, attrs)
    cfg = op.config([TensorInfo(F32, xs), TensorInfo(F32, ws), None])
    od, oh, ow = cfg.out_spatial
    bound = min(conv.COLS_TARGET, cfg.out_channels * od * oh * ow * cfg.kvol)
    if op_type == "Conv":
        k_rows = cfg.in_channels // cfg.group * cfg.kvol + 1
        band, rows, row_len = conv.im2col_band(cfg, k_rows), od * oh, ow
    else:
        k_rows = cfg.out_channels // cfg.group * cfg.kvol
        band, rows, row_len = conv.col2im_band(cfg), cfg.in_spatial[0] * cfg.in_spatial[1], cfg.in_spatial[2]
    assert 1 <= band <= rows
    assert band == 1 or k_rows * band * row_len <= bound


def test_kernel_modules_import_without_compiling():
    code = ("import fastconv.kernels.numba.conv_general as a, fastconv.kernels.numba.conv_transpose as b\n"
            "fns = [a.im2col_rows_f32, a.conv_depthwise_f32, a.bias_add_f32, b.col2im_add_f32]\n"
            "assert all(not f.signatures for f in fns), [f.signatures for f in fns]\n")
    subprocess.run([sys.executable, "-c", code], check=True)
