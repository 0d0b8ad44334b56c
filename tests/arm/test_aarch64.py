"""What the ARM job (.ci/arm.sh) must show about its own build: the platform is NEON at width 4 and the
executor loop that runs is the Cython extension cross-compiled for aarch64, not the Python twin."""
import os

import numpy as np
from onnx import helper

import fastconv
from fastconv.platform import Platform
from fastconv.runtime import executor

from ..util import make_model, rand

EM_AARCH64 = 183  # ELF e_machine


def test_platform_is_neon_at_width_4():
    p = Platform.detect()
    assert p.isa == "neon"
    assert p.simd_width == int(os.environ.get("FASTCONV_SIMD_WIDTH", 4))


def test_the_compiled_executor_runs(monkeypatch):
    from fastconv.runtime import _executor

    with open(_executor.__file__, "rb") as f:
        head = f.read(20)
    assert head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == EM_AARCH64, _executor.__file__
    assert executor.COMPILED and executor.run_steps is _executor.run_steps
    calls = []

    def counting(*args):
        calls.append(1)
        return _executor.run_steps(*args)

    monkeypatch.setattr(executor, "run_steps", counting)  # the loop Executor takes for every warm run
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", np.float32, [2, 3])],
                       [("y", np.float32, None)])
    x = rand(2, 3)
    (y,) = fastconv.InferenceSession(model).run(None, {"x": x})  # planned and warmed up at creation
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    assert calls, "the session did not run the compiled loop"
