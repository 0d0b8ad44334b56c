from fastconv.runtime.session import InferenceSession, NodeArg

__all__ = ["InferenceSession", "NodeArg"]
