from fastconv.onnx.importer import import_model
from fastconv.onnx.loader import load_model_proto

__all__ = ["import_model", "load_model_proto"]
