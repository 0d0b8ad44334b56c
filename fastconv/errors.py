"""Exceptions raised by fastconv. Every message names the node or input concerned."""


class FastconvError(Exception):
    """Base class of every error fastconv raises on purpose."""


class InvalidModelError(FastconvError, ValueError):
    """The model is malformed: bad graph structure, attribute out of range, inconsistent shapes."""


class UnsupportedError(FastconvError, NotImplementedError):
    """The model is valid ONNX but uses an op, attribute value or dtype fastconv does not implement."""


class InvalidInputError(FastconvError, ValueError):
    """A tensor given to `run` has the wrong name, dtype, rank or shape."""


class ResourceLimitError(FastconvError, MemoryError):
    """A tensor or buffer would exceed a configured limit."""
