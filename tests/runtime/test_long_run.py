"""Long runs (issue 6): 2,000 runs of models/lenet5.onnx keep RSS flat after a warm-up and give bitwise
identical results at a fixed thread count. bench/soak.py is the 10,000-run version."""
import os

import numpy as np

import fastconv

from ..util import rand

MODEL = os.path.join(os.path.dirname(__file__), "..", "..", "models", "lenet5.onnx")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_two_thousand_runs_flat_rss_and_bitwise_results():
    sess = fastconv.InferenceSession(MODEL, num_threads=2)
    xs = [rand(b, 1, 28, 28, seed=b) for b in (1, 4)]  # two plans, alternating
    want = [sess.run(None, {"input": x})[0] for x in xs]
    for k in range(200):  # warm-up: arenas, allocator pools, lazily bound kernels
        sess.run(None, {"input": xs[k % 2]})
    before = rss_bytes()
    for k in range(2000):
        (y,) = sess.run(None, {"input": xs[k % 2]})
        if k % 97 == 0:
            np.testing.assert_array_equal(y, want[k % 2], err_msg=f"run {k}")
    np.testing.assert_array_equal(y, want[1])
    growth = rss_bytes() - before
    assert growth < 5 << 20, f"RSS grew by {growth / 2**20:.1f} MiB over 2,000 runs"
    assert sess.memory_info()[str(((1, 1, 28, 28),))]["arenas"] == 1  # serial runs reuse one arena


def test_plan_cache_is_bounded():
    """A session fed ever new input shapes keeps at most max_plans plans; evicted shapes are planned again."""
    sess = fastconv.InferenceSession(MODEL, num_threads=1, max_plans=3)
    x = {n: np.random.default_rng(n).standard_normal((n, 1, 28, 28)).astype(np.float32) for n in range(1, 7)}
    first = {n: sess.run(None, {"input": x[n]})[0] for n in x}
    assert len(sess.memory_info()) == 3
    for n in (1, 6):   # 1 was evicted, 6 is cached: same results either way
        np.testing.assert_array_equal(sess.run(None, {"input": x[n]})[0], first[n])
    assert len(sess.memory_info()) == 3
