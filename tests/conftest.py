import os

# Every planned step checks its real output dtype/shape against shape inference during tests.
os.environ.setdefault("FASTCONV_CHECK_SHAPES", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), ".numba_cache"))

# CI must be deterministic: hypothesis draws the same examples on every CI run (locally it explores anew).
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
