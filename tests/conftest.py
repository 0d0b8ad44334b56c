import os

# Every planned step checks its real output dtype/shape against shape inference during tests.
os.environ.setdefault("FASTCONV_CHECK_SHAPES", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), ".numba_cache"))

# CI must be deterministic: hypothesis draws the same examples on every CI run (locally it explores anew).
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The suite runs on the CPU's cores with pytest-xdist (`-n auto --dist loadfile`: one file per worker at a
# time). Its time is mostly Numba compilation, and a few files compile far more than the rest (the depthwise
# and NCHWc direct kernels at two widths; the block-width rerun compiles the layout suites again, at the other
# width, in a child process). They go first, so that the run does not end with one worker compiling alone.
# Measured cold on two AVX2 cores: 1924 s in one process; 1237 s on two workers in the natural order (the
# rerun last, both workers compiling the same kernels at once early on); 1165 s in this order (the rerun
# occupies one worker for the whole run with its own width's kernels, the other runs the rest).
# Since the exp-based activations left the register tiles (kernels/numba/epilogue.py): 815 s cold, 2026-11-25.
LONG_FILES = ("tests/test_portable_width.py", "tests/kernels/test_conv_depthwise.py",
              "tests/kernels/test_conv_nchwc.py", "tests/kernels/test_conv_stem.py")


def pytest_collection_modifyitems(config, items):
    rank = {f: k for k, f in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(LONG_FILES)))   # stable
