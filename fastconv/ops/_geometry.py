"""The one copy of the sliding-window shape rules (Conv, ConvTranspose, pooling).

Shape inference, reference semantics and kernels all call these; nothing else computes padding or output sizes.
"""
from __future__ import annotations

import math

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def same_pads(in_size: int, kernel: int, stride: int, dilation: int, upper: bool) -> tuple[int, int]:
    """auto_pad SAME_*: output = ceil(in / stride), the odd pixel of padding at the end (UPPER) or start."""
    out = -(-in_size // stride)
    total = max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - in_size)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


def window_pads(in_shape, kernel, strides, dilations, pads, auto_pad) -> tuple[list[int], list[int]]:
    """Explicit (begin, end) pads per spatial axis for Conv and pooling."""
    n = len(in_shape)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pairs = [same_pads(in_shape[i], kernel[i], strides[i], dilations[i], auto_pad == "SAME_UPPER")
                 for i in range(n)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if auto_pad == "VALID" or pads is None:
        return [0] * n, [0] * n
    return list(pads[:n]), list(pads[n:])


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero), as onnxruntime's shape code divides."""
    q = abs(a) // b
    return q if a >= 0 else -q


def pool_window_pads(in_shape, kernel, strides, pads, auto_pad) -> tuple[list[int], list[int]]:
    """Explicit (begin, end) pads per spatial axis for the pooling ops, as onnxruntime computes them.

    auto_pad SAME_* differs from Conv's rule (`same_pads`), following onnxruntime rather than the ONNX text:
    the total padding (ceil(n / s) - 1) * s + k - n ignores dilation and is not clipped at 0, and it is split
    with C division (SAME_UPPER: begin = total / 2; SAME_LOWER: begin = (total + 1) / 2). A negative total
    (kernel < stride) can give a negative begin pad, which moves every window later by that much.
    """
    n = len(in_shape)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pb, pe = [], []
        for i in range(n):
            total = (-(-in_shape[i] // strides[i]) - 1) * strides[i] + kernel[i] - in_shape[i]
            begin = _cdiv(total, 2) if auto_pad == "SAME_UPPER" else _cdiv(total + 1, 2)
            pb.append(begin)
            pe.append(total - begin)
        return pb, pe
    if auto_pad == "VALID" or pads is None:
        return [0] * n, [0] * n
    return [int(p) for p in pads[:n]], [int(p) for p in pads[n:]]


def window_output_size(in_size: int, kernel: int, stride: int, dilation: int, pad_begin: int, pad_end: int,
                       ceil_mode: bool = False) -> int:
    """o = floor_or_ceil((n + pb + pe - d(k-1) - 1) / s) + 1; with ceil_mode, a last window starting in the
    end padding is dropped (as PyTorch and onnxruntime do).

    A window longer than the padded input (span < 0: only pooling's SAME padding lets it through, callers
    reject it otherwise) counts as onnxruntime counts it, dividing with truncation toward zero."""
    span = in_size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    if span < 0:
        return max(0, _cdiv(span, stride) + 1)
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= in_size + pad_begin:
        out -= 1
    return out


def window_output_shape(in_shape, kernel, strides, dilations, pads_begin, pads_end, ceil_mode=False) -> list[int]:
    return [window_output_size(in_shape[i], kernel[i], strides[i], dilations[i], pads_begin[i], pads_end[i],
                               ceil_mode) for i in range(len(in_shape))]


def transpose_pads_and_output(in_shape, kernel, strides, dilations, pads, output_padding, output_shape,
                              auto_pad) -> tuple[list[int], list[int], list[int]]:
    """ConvTranspose: (pads_begin, pads_end, output spatial shape), as onnxruntime computes them.

    full = s(i - 1) + output_padding + d(k - 1) + 1 is the unpadded output. A target size (output_shape, else
    i * s for auto_pad SAME_*) sets the total padding full - target, split with the odd pixel at the end for
    SAME_UPPER and at the start otherwise; explicit pads are then ignored. A target larger than full gets no
    padding: output_shape keeps its size (the tail holds only the bias: a negative end pad), auto_pad SAME_*
    yields full. VALID means no padding.
    """
    n = len(in_shape)
    full = [strides[i] * (in_shape[i] - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1
            for i in range(n)]
    if output_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        if output_shape is not None:
            out = [int(o) for o in output_shape[-n:]]
            total = [full[i] - out[i] for i in range(n)]
        else:
            total = [max(0, full[i] - in_shape[i] * strides[i]) for i in range(n)]
            out = [full[i] - total[i] for i in range(n)]
        clipped = [max(0, t) for t in total]
        pb = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in clipped]
        return pb, [total[i] - pb[i] for i in range(n)], out
    if auto_pad == "VALID" or pads is None:
        pb, pe = [0] * n, [0] * n
    else:
        pb, pe = [int(p) for p in pads[:n]], [int(p) for p in pads[n:]]
    return pb, pe, [full[i] - pb[i] - pe[i] for i in range(n)]


def to_3d(values, fill) -> tuple:
    """Kernels see every window problem as 3-D: pad a 1-D or 2-D geometry with leading `fill` entries."""
    values = [int(v) for v in values]
    return tuple([fill] * (3 - len(values)) + values)
