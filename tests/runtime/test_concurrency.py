"""One InferenceSession run from 8 Python threads at once gives exactly the results of serial runs (plans for
new shapes built concurrently included), and sessions with different num_threads coexist (issue 6)."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastconv

from ..util import rand
from .test_run_inputs import C, H, W, cnn_model

MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "models")
THREADS = 8


def lenet_cases():
    return "input", [rand(1 + k % 3, 1, 28, 28, seed=k) for k in range(24)]  # three batch sizes


def resnet_cases():
    return "input", [rand(1 + k % 2, 3, 64, 64, seed=k) for k in range(16)]


def cnn_cases():
    return "x", [rand(2, C, H, W, seed=k) for k in range(24)]


def hammer(run, cases):
    """Every thread waits at a barrier, then runs its share of `cases`; returns the results in case order."""
    barrier = threading.Barrier(THREADS)

    def work(k):
        barrier.wait()
        return [(j, run(cases[j])) for j in range(k, len(cases), THREADS)]

    with ThreadPoolExecutor(THREADS) as pool:
        done = dict(r for rs in pool.map(work, range(THREADS)) for r in rs)
    return [done[j] for j in range(len(cases))]


@pytest.mark.parametrize("which", ["lenet5", "resnet_small", "cnn_fixed"])
@pytest.mark.parametrize("num_threads", [1, 2])
def test_eight_threads_match_serial(which, num_threads):
    if which == "cnn_fixed":
        model, (name, cases) = cnn_model(2), cnn_cases()
    else:
        model = os.path.join(MODELS, f"{which}.onnx")
        name, cases = lenet_cases() if which == "lenet5" else resnet_cases()
    serial_sess = fastconv.InferenceSession(model, num_threads=num_threads)
    serial = [serial_sess.run(None, {name: x}) for x in cases]
    sess = fastconv.InferenceSession(model, num_threads=num_threads)  # fresh: plans made under contention
    got = hammer(lambda x: sess.run(None, {name: x}), cases)
    for k, (g, s) in enumerate(zip(got, serial)):
        for a, b in zip(g, s):
            np.testing.assert_array_equal(a, b, err_msg=f"{which} case {k}")
    assert len(sess._executors) == len(serial_sess._executors)


def test_sessions_with_different_thread_counts_coexist():
    model = os.path.join(MODELS, "lenet5.onnx")
    one = fastconv.InferenceSession(model, num_threads=1)
    two = fastconv.InferenceSession(model, num_threads=2)
    _, cases = lenet_cases()
    want = {id(s): [s.run(None, {"input": x})[0] for x in cases] for s in (one, two)}
    for a, b in zip(want[id(one)], want[id(two)]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # alternately from one thread
    for k, x in enumerate(cases):
        s = (one, two)[k % 2]
        np.testing.assert_array_equal(s.run(None, {"input": x})[0], want[id(s)][k])
    # concurrently: each thread uses the session of its parity
    got = hammer(lambda job: (job[0], job[0].run(None, {"input": job[1]})[0]),
                 [((one, two)[k % 2], x) for k, x in enumerate(cases)])
    for k, (s, y) in enumerate(got):
        np.testing.assert_array_equal(y, want[id(s)][k])
