import os

# Every planned step checks its real output dtype/shape against shape inference during tests.
os.environ.setdefault("FASTCONV_CHECK_SHAPES", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), ".numba_cache"))
