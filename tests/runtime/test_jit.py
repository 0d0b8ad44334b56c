"""First-use compilation: the progress bar appears only while Numba really compiles, and sessions planned at
load time are warmed up (every kernel compiled or loaded from the cache) before the first request."""
import io
import sys

import numpy as np
from numba import njit

import fastconv
from fastconv.runtime.jit import CompileWatch
from tests.util import rand, single_node_model


def _fresh_function():
    @njit
    def f(x):  # a new dispatcher: compiled on first call, never cached
        return x * 2.0 + 1.0
    return f


def test_progress_bar_drawn_while_compiling(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    f = _fresh_function()
    with CompileWatch(2, "test model", enabled=True) as watch:
        f(np.float32(1.0))
        watch.advance()
        watch.advance()
    assert watch.compiled >= 1
    out = err.getvalue()
    assert "compiling kernels for test model" in out and "2/2 steps" in out and out.endswith("\n")


def test_nothing_drawn_without_compilation(monkeypatch):
    f = _fresh_function()
    f(np.float32(1.0))  # compiled before the watch
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with CompileWatch(3, "test model", enabled=True) as watch:
        f(np.float32(2.0))
        for _ in range(3):
            watch.advance()
    assert watch.compiled == 0 and err.getvalue() == ""


def test_progress_env_switch(monkeypatch):
    monkeypatch.setenv("FASTCONV_PROGRESS", "0")
    assert not CompileWatch(1, "m").enabled
    monkeypatch.setenv("FASTCONV_PROGRESS", "1")
    assert CompileWatch(1, "m").enabled


def test_session_warms_up_at_load_and_runs_correctly():
    x = rand(1, 3, 9, 9)
    model = single_node_model("Relu", {"x": x})
    sess = fastconv.InferenceSession(model)
    (ex,) = sess._executors.values()
    assert ex.warm  # the warm-up run at load went through
    np.testing.assert_array_equal(sess.run(None, {"x": x})[0], np.maximum(x, 0))
    cold = fastconv.InferenceSession(model, warmup=False)
    assert not next(iter(cold._executors.values())).warm
    np.testing.assert_array_equal(cold.run(None, {"x": x})[0], np.maximum(x, 0))
    assert next(iter(cold._executors.values())).warm
