"""The main conv micro-kernel's machine code at the platform's NCHWc width: `_k7x3u` (7 pixels x 3 output-channel
blocks, unit stride) of conv_nchwc_direct_f32, the default kernel for dense convolutions. Natively on x86 its
FMAs must be full-width zmm (AVX-512, W = 16) or ymm (AVX2, W = 8); under the ARM job NEON `fmla v<n>.4s`
(W = 4). One fresh compile of one function, so it is cheap enough for the native suite."""
import platform
import re

import numpy as np
import pytest
from numba import njit

from fastconv.kernels.numba import conv_nchwc as kn
from fastconv.kernels.numba.simd import width_token
from fastconv.platform import Platform


def _loops(asm: str) -> list[list[str]]:
    """Labelled blocks that branch back to their own label (the innermost loops), up to that branch."""
    blocks, cur = [], []
    for line in asm.splitlines():
        if re.match(r"^\S+:", line):
            blocks.append(cur)
            cur = []
        cur.append(line)
    blocks.append(cur)
    loops = []
    for b in blocks:
        if b and re.match(r"^\S+:", b[0]):
            back = re.compile(r"\s" + re.escape(b[0].split(":")[0]) + r"\s*$")
            ends = [k for k, ln in enumerate(b) if k and back.search(ln)]
            if ends:  # up to the branch back: what follows falls through to the outer loop
                loops.append(b[:ends[-1] + 1])
    return loops


def k7x3u_hot_loop(width: int, fma: re.Pattern) -> list[str]:
    """The loop of `_k7x3u` with the most FMAs (the one over input channels), compiled for
    `width` with the argument types conv_nchwc_direct_f32 passes: a 3x3 kernel, one input block."""
    tile = njit(nogil=True)(kn._k7x3u.py_func)  # fresh dispatcher: a cache-loaded one keeps no assembly
    n = width
    f = np.zeros(1 << 14, np.float32)
    tile(f, f, f, np.zeros(1 << 14, np.float32), 0, 0, 0, 0, 1, 3, 3, 64 * n, 8 * n, n, n, 9 * n * n, 64 * n, f,
         True, 1, np.float32(0), np.float32(0), width_token(width))
    asm = tile.inspect_asm(tile.signatures[0])
    return max(_loops(asm), key=lambda b: sum(bool(fma.search(ln)) for ln in b))


def test_conv_microkernel_is_full_width_fma():
    machine = platform.machine().lower()
    p = Platform.detect()
    if machine in ("aarch64", "arm64"):
        assert p.isa == "neon"
        fma = re.compile(r"\bfmla\b")
        full = re.compile(r"\bfmla\s+v\d+\.4s,\s*v\d+\.4s,\s*v\d+\.(4s|s\[\d\])")
        stack = re.compile(r"\[sp\b")
        # measured under qemu (LLVM sees a generic AArch64 CPU): at W = 4 the loop has 84 fmla (4 input channels
        # unrolled) and 6 stack accesses; at W = 8 (q-register pairs) 42 fmla and 38 stack accesses
        max_stack_per_fma = 1 / 4 if p.simd_width == 4 else None
    elif machine in ("x86_64", "amd64"):
        if p.isa not in ("avx512", "avx2"):
            pytest.fail(f"x86 host without AVX2+FMA ({p.isa}): no vector FMA to check")
        fma = re.compile(r"\bvfmadd\d{3}ps\b")
        # AT&T syntax: the accumulator (destination) is the last operand
        full = re.compile({16: r"%zmm\d+\s*$", 8: r"%ymm\d+\s*$", 4: r"%xmm\d+\s*$"}[p.simd_width])
        stack = re.compile(r"\(%rsp\)")
        # 21 accumulators + 3 weights fit AVX-512's 32 registers; AVX2's 16 ymm cannot hold them (spills expected)
        max_stack_per_fma = 0 if p.isa == "avx512" and p.simd_width == 16 else None
    else:
        pytest.fail(f"no assembly expectations for {machine}: add them with its platform entry")
    loop = k7x3u_hot_loop(p.simd_width, fma)
    fmas = [ln for ln in loop if fma.search(ln)]
    text = "\n".join(loop)
    assert len(fmas) >= 21, text  # one per accumulator per input channel
    assert all(full.search(ln) for ln in fmas), "\n".join(ln for ln in fmas if not full.search(ln))
    if max_stack_per_fma is not None:
        spills = [ln for ln in loop if stack.search(ln)]
        assert len(spills) <= max_stack_per_fma * len(fmas), f"{len(spills)} stack accesses:\n{text}"
