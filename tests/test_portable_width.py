"""Portability check (issue 3, item 9): the compute-op, fusion and layout test suites also pass with the NCHWc
block / SIMD width forced to the other x86 width: 8 (the AVX2 configuration) on an AVX-512 host, 16 on an AVX2
host (LLVM splits each 16-lane vector into two ymm registers). The suites' structural assertions (which steps
run blocked, what fuses) depend on the width, so both configurations run wherever the suite runs. Runs them in a
child pytest with FASTCONV_SIMD_WIDTH set. tests/kernels is not rerun: its kernel tests already run at widths
8 and 16 in the main session."""
import os
import subprocess
import sys

from fastconv.platform import Platform

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITES = ["tests/ops/test_conv.py", "tests/ops/test_pool.py", "tests/ops/test_gemm.py", "tests/runtime/test_fusion.py",
          "tests/runtime/test_activation_fusion.py", "tests/runtime/test_layout.py"]


def test_kernel_suites_pass_at_the_other_block_width():
    width = "8" if Platform.detect().simd_width != 8 else "16"
    env = dict(os.environ, FASTCONV_SIMD_WIDTH=width)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist",
                        *SUITES], cwd=REPO, env=env, capture_output=True, text=True)
    tail = "\n".join((p.stdout + p.stderr).splitlines()[-30:])
    assert p.returncode == 0, tail
    assert " passed" in tail, tail
