"""Platform detection: ISA and NCHWc block width from the machine name and LLVM's host features (monkeypatched,
so every branch runs on any host), and the overrides."""
import platform

import pytest

from fastconv import platform as fp
from fastconv.kernels.numba.simd import SUPPORTED_WIDTHS
from fastconv.platform import Platform

AVX512 = {"avx512f", "avx512vl", "avx2", "fma", "sse4.2"}
AVX2 = {"avx2", "fma", "sse4.2"}


@pytest.mark.parametrize("machine,feats,expected", [
    ("x86_64", AVX512, ("avx512", 16)),
    ("AMD64", AVX2, ("avx2", 8)),
    ("x86_64", {"avx2", "sse4.2"}, ("generic", 8)),          # AVX2 without FMA: no vfmadd to build on
    ("x86_64", set(), ("generic", 8)),
    ("aarch64", set(), ("neon", 4)),                          # qemu-user: LLVM sees a generic CPU
    ("aarch64", {"neon", "fp-armv8", "dotprod"}, ("neon", 4)),  # Neoverse N1
    ("aarch64", {"neon", "sve", "sve2"}, ("neon", 4)),        # Neoverse V1/V2: fixed-width vectors stay NEON
    ("arm64", {"neon"}, ("neon", 4)),                         # macOS names it arm64
    ("riscv64", set(), ("generic", 8)),
])
def test_isa_and_width(machine, feats, expected):
    assert fp.isa_and_width(machine, feats) == expected


@pytest.fixture
def host(monkeypatch):
    """Set the machine name and features Platform.detect sees."""
    monkeypatch.delenv("FASTCONV_SIMD_WIDTH", raising=False)

    def set_host(machine, feats):
        monkeypatch.setattr(fp._pyplatform, "machine", lambda: machine)
        monkeypatch.setattr(fp, "_host_features", lambda: set(feats))

    return set_host


def test_detect_on_aarch64_picks_neon_width_4(host):
    host("aarch64", set())
    p = Platform.detect(1)
    assert (p.isa, p.simd_width, p.num_threads) == ("neon", 4, 1)


def test_detect_on_avx512_picks_16(host):
    host("x86_64", AVX512)
    p = Platform.detect()
    assert (p.isa, p.simd_width) == ("avx512", 16)


def test_width_overrides(host, monkeypatch):
    host("aarch64", {"neon"})
    monkeypatch.setenv("FASTCONV_SIMD_WIDTH", "8")
    assert Platform.detect().simd_width == 8                  # environment beats detection
    assert Platform.detect(simd_width=16).simd_width == 16    # the argument beats the environment
    assert Platform.detect().isa == "neon"


def test_detect_reads_the_real_host(monkeypatch):
    monkeypatch.delenv("FASTCONV_SIMD_WIDTH", raising=False)
    p = Platform.detect()
    assert (p.isa, p.simd_width) == fp.isa_and_width(platform.machine(), fp._host_features())
    assert p.simd_width in SUPPORTED_WIDTHS


def test_vector_registers_per_isa_and_width(monkeypatch):
    from fastconv.platform import vector_registers

    assert vector_registers("avx512", 16) == 32 and vector_registers("avx512", 8) == 32
    assert vector_registers("avx2", 8) == 16 and vector_registers("avx2", 16) == 8
    assert vector_registers("neon", 4) == 32 and vector_registers("neon", 8) == 16
    monkeypatch.setenv("FASTCONV_VECTOR_REGISTERS", "24")
    assert Platform.detect().vector_registers == 24
