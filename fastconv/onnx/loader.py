"""Read an ONNX model from a path, bytes or ModelProto, with external data confined to the model's folder."""
from __future__ import annotations

import os

import onnx
from onnx import TensorProto

from fastconv.errors import InvalidModelError


def load_model_proto(model, base_dir: str | None = None) -> tuple[onnx.ModelProto, str | None]:
    """Return (ModelProto with all tensor data inline, folder external data was resolved against)."""
    if isinstance(model, onnx.ModelProto):
        proto = model
    elif isinstance(model, (bytes, bytearray, memoryview)):
        proto = _parse(bytes(model), "<bytes>")
    elif isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.isfile(path):
            raise InvalidModelError(f"model file not found: {path}")
        with open(path, "rb") as f:
            proto = _parse(f.read(), path)
        base_dir = base_dir or os.path.dirname(os.path.abspath(path))
    else:
        raise TypeError(f"model must be a path, bytes or onnx.ModelProto, not {type(model).__name__}")
    _load_external_data(proto, base_dir)
    return proto, base_dir


def _parse(data: bytes, where: str) -> onnx.ModelProto:
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as e:  # protobuf raises DecodeError or RuntimeError depending on backend
        raise InvalidModelError(f"{where} is not a valid ONNX model: {e}") from None
    if not proto.HasField("graph"):
        raise InvalidModelError(f"{where} is not a valid ONNX model: it has no graph")
    return proto


def _all_tensors(graph: onnx.GraphProto):
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _all_tensors(attr.g)
            for g in attr.graphs:
                yield from _all_tensors(g)


def _load_external_data(proto: onnx.ModelProto, base_dir: str | None) -> None:
    for tensor in _all_tensors(proto.graph):
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        if base_dir is None:
            raise InvalidModelError(
                f"tensor '{tensor.name}' uses external data '{location}' but the model was not loaded "
                "from a file; pass base_dir")
        tensor.raw_data = _read_external(base_dir, location, info, tensor.name)
        del tensor.external_data[:]
        tensor.data_location = TensorProto.DEFAULT


def _read_external(base_dir: str, location: str, info: dict, name: str) -> bytes:
    if not location or os.path.isabs(location) or ".." in location.replace("\\", "/").split("/"):
        raise InvalidModelError(f"tensor '{name}': external data location '{location}' must be a relative "
                                "path inside the model's folder")
    root = os.path.realpath(base_dir)
    path = os.path.realpath(os.path.join(root, location))
    if os.path.commonpath([root, path]) != root:
        raise InvalidModelError(f"tensor '{name}': external data '{location}' resolves outside the model's "
                                "folder (symlink?)")
    if not os.path.isfile(path):
        raise InvalidModelError(f"tensor '{name}': external data file '{location}' not found")
    size = os.path.getsize(path)
    try:
        offset = int(info.get("offset", 0))
        length = int(info["length"]) if "length" in info else size - offset
    except ValueError:
        raise InvalidModelError(f"tensor '{name}': external data offset/length are not integers") from None
    if offset < 0 or length < 0 or offset + length > size:
        raise InvalidModelError(f"tensor '{name}': external data range [{offset}, {offset + length}) is "
                                f"outside '{location}' ({size} bytes)")
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)
