"""fastconv: a CPU inference engine for ONNX convolutional networks."""
# Numba's OpenMP workers spin briefly after each parallel kernel, then sleep, unless the user set OMP_WAIT_POLICY
# or GOMP_SPINCOUNT. libgomp reads this once, when Numba loads it: it must be set before any parallel kernel runs.
# The `thread_wait` session option chooses another policy (fastconv/runtime/threads.py).
from fastconv.runtime import threads as _threads  # noqa: E402

_threads.apply_default()
from fastconv.errors import (
    FastconvError,
    InvalidInputError,
    InvalidModelError,
    ResourceLimitError,
    UnsupportedError,
)
from fastconv.ops import supported_ops
from fastconv.runtime import InferenceSession, NodeArg

__version__ = "0.1.0"

__all__ = [
    "FastconvError", "InvalidInputError", "InvalidModelError", "ResourceLimitError", "UnsupportedError",
    "InferenceSession", "NodeArg", "supported_ops", "compare_with_onnxruntime", "summary", "__version__",
]


def compare_with_onnxruntime(model, inputs=None, rtol=1e-4, atol=1e-5, **kwargs):
    """Run `model` in fastconv and onnxruntime on the same inputs; see fastconv.tools.verify."""
    from fastconv.tools.verify import compare_with_onnxruntime as _compare

    return _compare(model, inputs, rtol=rtol, atol=atol, **kwargs)


def summary(model, input_shapes=None, num_threads=None):
    """Per-node output shapes, window geometry, parameters, MACs and receptive field of `model` (path, bytes,
    ModelProto or InferenceSession) at `input_shapes`; see fastconv.tools.summary. `print(summary(...))` shows
    the table, `.to_dict()` gives it as JSON-ready data."""
    from fastconv.tools.summary import summary as _summary

    return _summary(model, input_shapes, num_threads)
