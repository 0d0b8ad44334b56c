"""Portability check (issue 3, item 9): the compute-op, fusion and layout test suites also pass with the NCHWc
block / SIMD width forced to 8 (the AVX2 configuration) on this machine. Runs them in a child pytest with
FASTCONV_SIMD_WIDTH=8. tests/kernels is not rerun: its kernel tests already run at widths 8 and 16 in the main
session."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITES = ["tests/ops/test_conv.py", "tests/ops/test_pool.py", "tests/ops/test_gemm.py", "tests/runtime/test_fusion.py",
          "tests/runtime/test_layout.py"]


def test_kernel_suites_pass_at_block_width_8():
    env = dict(os.environ, FASTCONV_SIMD_WIDTH="8")
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *SUITES], cwd=REPO,
                       env=env, capture_output=True, text=True)
    tail = "\n".join((p.stdout + p.stderr).splitlines()[-30:])
    assert p.returncode == 0, tail
    assert " passed" in tail, tail
