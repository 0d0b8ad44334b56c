"""What fastconv knows about the CPU, gathered once per session. Kernels read it and never probe themselves."""
from __future__ import annotations

import functools
import os
import platform as _pyplatform
from dataclasses import dataclass

import numba


@functools.lru_cache(maxsize=1)
def _host_features() -> frozenset[str]:
    try:
        import llvmlite.binding as llvm

        feats = llvm.get_host_cpu_features()
        return frozenset(name for name, on in feats.items() if on)
    except Exception:  # LLVM cannot tell (unusual host): assume baseline only
        return frozenset()


def isa_and_width(machine: str, feats: set[str]) -> tuple[str, int]:
    """(isa, float32 lanes of the NCHWc block) for a CPU: `machine` as platform.machine() names it, `feats` the
    LLVM host features that are on.

    The width is the lane count of one vector register, because the micro-kernels' register tiles (21-24
    accumulators plus operands) are sized for 32 registers of W lanes: AVX-512 has 32 zmm (W = 16) and AArch64
    32 128-bit v registers (W = 4, NEON's `fmla v.4s`). W = 8 on NEON would make every vector a pair of q
    registers and the 7x3 conv tile 42 accumulator registers, more than exist (docs/PORTABILITY.md shows the
    spills). SVE does not change this: LLVM lowers fixed-width vectors to NEON unless told the SVE register
    size at compile time, which Numba does not do. AVX2 (16 ymm) takes W = 8, its register width. No NEON
    feature check: NEON is mandatory on AArch64, and qemu-user shows LLVM a generic CPU with no features.
    """
    machine = machine.lower()
    if machine in ("aarch64", "arm64"):
        return "neon", 4
    if "avx512f" in feats:
        return "avx512", 16
    if "avx2" in feats and "fma" in feats:
        return "avx2", 8
    return "generic", 8


# (vector registers, float32 lanes each) of each ISA's register file
REGISTER_FILES = {"avx512": (32, 16), "avx2": (16, 8), "neon": (32, 4), "generic": (16, 4)}


def vector_registers(isa: str, width: int) -> int:
    """How many W-lane float32 vectors fit in `isa`'s register file at once: the budget of a micro-kernel's
    register tile (accumulators + operands). A vector wider than the registers takes several (W = 16 on AVX2:
    two ymm each, 8 vectors)."""
    regs, lanes = REGISTER_FILES.get(isa, REGISTER_FILES["generic"])
    return regs * lanes // max(width, lanes)


@dataclass(frozen=True)
class Platform:
    isa: str            # 'avx512', 'avx2', 'neon' or 'generic'
    simd_width: int     # float32 lanes per vector register: the NCHWc channel block
    num_threads: int
    # W-lane vectors the register file holds (vector_registers); FASTCONV_VECTOR_REGISTERS overrides it (tests
    # use it to reach every tile of a kernel on any host)
    vector_registers: int = 32

    @classmethod
    def or_host(cls, platform: Platform | None) -> Platform:
        """`platform`, or the host's when None (constant folding and `Op.run` call kernels without one)."""
        return platform or cls.detect()

    @classmethod
    def detect(cls, num_threads: int | None = None, simd_width: int | None = None) -> "Platform":
        isa, width = isa_and_width(_pyplatform.machine(), _host_features())
        env_width = os.environ.get("FASTCONV_SIMD_WIDTH")
        width = simd_width or (int(env_width) if env_width else width)
        max_threads = numba.config.NUMBA_NUM_THREADS
        if num_threads is None or num_threads <= 0:
            num_threads = max_threads
        env_regs = os.environ.get("FASTCONV_VECTOR_REGISTERS")
        regs = int(env_regs) if env_regs else vector_registers(isa, width)
        return cls(isa, width, min(int(num_threads), max_threads), regs)
