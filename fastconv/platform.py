"""What fastconv knows about the CPU, gathered once per session. Kernels read it and never probe themselves."""
from __future__ import annotations

import os
import platform as _pyplatform
from dataclasses import dataclass

import numba


def _host_features() -> set[str]:
    try:
        import llvmlite.binding as llvm

        feats = llvm.get_host_cpu_features()
        return {name for name, on in feats.items() if on}
    except Exception:  # LLVM cannot tell (unusual host): assume baseline only
        return set()


@dataclass(frozen=True)
class Platform:
    isa: str            # 'avx512', 'avx2', 'neon' or 'generic'
    simd_width: int     # float32 lanes per vector register: the NCHWc channel block
    num_threads: int

    @classmethod
    def or_host(cls, platform: Platform | None) -> Platform:
        """`platform`, or the host's when None (constant folding and `Op.run` call kernels without one)."""
        return platform or cls.detect()

    @classmethod
    def detect(cls, num_threads: int | None = None, simd_width: int | None = None) -> "Platform":
        feats = _host_features()
        machine = _pyplatform.machine().lower()
        if "avx512f" in feats:
            isa, width = "avx512", 16
        elif "avx2" in feats and "fma" in feats:
            isa, width = "avx2", 8
        elif machine in ("aarch64", "arm64"):
            isa, width = "neon", 8
        else:
            isa, width = "generic", 8
        env_width = os.environ.get("FASTCONV_SIMD_WIDTH")
        width = simd_width or (int(env_width) if env_width else width)
        max_threads = numba.config.NUMBA_NUM_THREADS
        if num_threads is None or num_threads <= 0:
            num_threads = max_threads
        return cls(isa, width, min(int(num_threads), max_threads))
