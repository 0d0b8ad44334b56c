"""Assembly checks shared by the micro-kernel tests: a register tile compiled fresh for the host must run its
hot loop on full-width FMAs without stack traffic (spills)."""
import platform
import re

import pytest
from numba import njit


def hottest_block(asm):
    """The loop body (a block that jumps back to its own label) with the most FMAs: the tile's reduction loop,
    not its epilogue (whose exp polynomial also has FMAs, and may spill: it runs once per tile)."""
    blocks, cur = [], []
    for line in asm.splitlines():
        if re.match(r"^\S+:", line):
            blocks.append(cur)
            cur = []
        cur.append(line)
    blocks.append(cur)
    loops = []
    for b in blocks:
        if not b or not re.match(r"^\S+:", b[0]):
            continue
        label = b[0].split(":")[0]
        end = next((i for i, ln in enumerate(b) if re.search(r"\bj\w+\s+" + re.escape(label) + r"\s*$", ln)), None)
        if end is not None:
            loops.append(b[:end + 1])
    return max(loops, key=lambda b: sum("vfmadd" in ln for ln in b))


def assert_full_width_fma_no_spills(kernel, args, fmas_min, width):
    """Compile `kernel` (a Numba dispatcher) afresh, call it with args, and check its hot loop: at least
    fmas_min FMAs, all on W-lane registers (zmm at W = 16 on AVX-512 hosts, ymm at W = 8 on AVX2 hosts), no
    %rsp-relative operand. Skips on hosts without that ISA."""
    from llvmlite import binding as llvm

    feats = {f for f, on in llvm.get_host_cpu_features().items() if on}
    need = "avx512f" if width == 16 else "avx2"
    if platform.machine().lower() not in ("x86_64", "amd64") or need not in feats:
        pytest.skip(f"assembly expectations are written for {need} hosts")
    fn = njit(kernel.py_func)  # fresh dispatcher: a cache-loaded one keeps no assembly
    fn(*args)
    loop = hottest_block(fn.inspect_asm(fn.signatures[0]))
    fmas = [ln for ln in loop if re.search(r"\bvfmadd\d{3}ps\b", ln)]
    assert len(fmas) >= fmas_min, "\n".join(loop)
    reg = "zmm" if width == 16 else "ymm"
    assert all(re.search(rf"%{reg}\d+\s*$", ln) for ln in fmas), "\n".join(fmas)
    # %rbp is a general register here (no frame pointer): only %rsp-relative operands are stack traffic
    assert not [ln for ln in loop if re.search(r"\(%rsp\)", ln)], "spills:\n" + "\n".join(loop)
