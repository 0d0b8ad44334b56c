"""The Open Inference Protocol (KServe v2, Triton) REST wire format: datatypes, tensor metadata, inference
requests and responses with JSON tensors and the binary tensor data extension.

No HTTP and no models here: the HTTP layer (app.py) hands in the body bytes and the
`Inference-Header-Content-Length` header and gets bytes and headers back. Both directions of the format live here
(`encode_request` / `decode_response` are the client's side, used by the tests and bench/serve_load.py).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

HEADER_LENGTH = "Inference-Header-Content-Length"
JSON_TYPE = "application/json"
BINARY_TYPE = "application/octet-stream"

# The protocol's tensor datatypes that fastconv can hold. BYTES (strings) and BF16 have no fastconv dtype.
DATATYPES = {
    "BOOL": np.dtype(np.bool_), "UINT8": np.dtype(np.uint8), "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32), "UINT64": np.dtype(np.uint64), "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16), "INT32": np.dtype(np.int32), "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16), "FP32": np.dtype(np.float32), "FP64": np.dtype(np.float64),
}
_NAMES = {dt: name for name, dt in DATATYPES.items()}
# JSON numbers a datatype accepts, as numpy kinds of the parsed array (no strings, no floats into integers)
_JSON_KINDS = {"b": "b", "u": "iu", "i": "iu", "f": "iuf"}


class ProtocolError(Exception):
    """A request that does not follow the protocol or does not fit the model; `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def datatype(dtype) -> str:
    """numpy dtype -> protocol datatype name ('FP32', ...)."""
    try:
        return _NAMES[np.dtype(dtype)]
    except KeyError:
        raise ProtocolError(f"dtype {np.dtype(dtype)} has no Open Inference Protocol datatype", 500) from None


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output as the protocol describes it: shape entries are ints, None for dynamic dims."""

    name: str
    dtype: np.dtype
    shape: tuple | None  # None: rank unknown

    def metadata(self) -> dict:
        # unknown rank is reported as one dynamic dim, as the protocol has no way to say "any rank"
        shape = [-1] if self.shape is None else [-1 if d is None else d for d in self.shape]
        return {"name": self.name, "datatype": datatype(self.dtype), "shape": shape}


@dataclass
class InferRequest:
    """A decoded inference request: checked input arrays and which outputs to return, and how."""

    inputs: dict[str, np.ndarray]
    outputs: list[str]                      # names, in the order to return them
    binary: dict[str, bool]                 # output name -> return as binary data
    id: str | None = None
    parameters: dict = field(default_factory=dict)


def error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """(JSON header, binary data) of a request or response body, from the Inference-Header-Content-Length value."""
    if header_length is None:
        return body, b""
    try:
        n = int(header_length)
    except ValueError:
        n = -1
    if not 0 <= n <= len(body):
        raise ProtocolError(f"{HEADER_LENGTH} is {header_length!r}; expected an integer from 0 to the body "
                            f"length {len(body)}")
    return body[:n], body[n:]


def _load_json(text: bytes) -> dict:
    try:
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"malformed JSON in the request: {e}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("the request must be a JSON object")
    return obj


def _field(obj: dict, key: str, kind, where: str, required=True):
    value = obj.get(key)
    if value is None:
        if required:
            raise ProtocolError(f"{where}: missing field '{key}'")
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ProtocolError(f"{where}: field '{key}' must be {names}, got {json.dumps(value)[:80]}")
    return value


def decode_request(body: bytes, header_length: str | None, inputs: list[TensorSpec],
                   outputs: list[TensorSpec]) -> InferRequest:
    """Decode and check an inference request for a model with these inputs and outputs: every input present
    once, with the model's datatype and a shape that fits the model's (dynamic dims free), its data complete."""
    header, binary = split_body(body, header_length)
    req = _load_json(header)
    request_id = _field(req, "id", str, "request", required=False)
    params = _field(req, "parameters", dict, "request", required=False) or {}
    specs = {s.name: s for s in inputs}
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    items = _field(req, "inputs", list, "request")
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise ProtocolError(f"inputs[{k}] must be a JSON object")
        name = _field(item, "name", str, f"inputs[{k}]")
        where = f"input '{name}'"
        spec = specs.get(name)
        if spec is None:
            raise ProtocolError(f"unknown {where}; the model's inputs are {list(specs)}")
        if name in arrays:
            raise ProtocolError(f"{where} is given twice")
        dt = _field(item, "datatype", str, where)
        if dt != datatype(spec.dtype):
            raise ProtocolError(f"{where} has datatype {dt}; the model expects {datatype(spec.dtype)}")
        shape = _shape(_field(item, "shape", list, where), spec, where)
        count = math.prod(shape)
        size = _field(_field(item, "parameters", dict, where, required=False) or {}, "binary_data_size", int,
                      f"{where} parameters", required=False)
        if size is not None:
            if "data" in item:
                raise ProtocolError(f"{where} has both 'data' and the parameter binary_data_size")
            if size != count * spec.dtype.itemsize:
                raise ProtocolError(f"{where}: binary_data_size is {size} bytes; shape {list(shape)} of {dt} "
                                    f"needs {count * spec.dtype.itemsize}")
            if offset + size > len(binary):
                raise ProtocolError(f"{where}: binary data ends after {len(binary) - offset} of its {size} bytes")
            arrays[name] = _from_binary(binary[offset:offset + size], spec.dtype, shape, where)
            offset += size
        else:
            if "data" not in item:
                raise ProtocolError(f"{where} has neither 'data' nor the parameter binary_data_size")
            arrays[name] = _from_json(item["data"], spec.dtype, shape, count, where)
    if offset != len(binary):
        raise ProtocolError(f"the request has {len(binary) - offset} bytes of binary data that no input claims")
    missing = [n for n in specs if n not in arrays]
    if missing:
        raise ProtocolError(f"missing input(s) {missing}")
    names, binary_out = _requested_outputs(req, params, outputs)
    return InferRequest(arrays, names, binary_out, request_id, params)


def _shape(shape: list, spec: TensorSpec, where: str) -> tuple:
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ProtocolError(f"{where}: shape must be a list of non-negative integers, got {json.dumps(shape)[:80]}")
    if spec.shape is not None:
        model = [-1 if d is None else d for d in spec.shape]
        if len(shape) != len(model) or any(m not in (-1, d) for m, d in zip(model, shape)):
            raise ProtocolError(f"{where} has shape {shape}; the model expects {model} (-1: any size)")
    return tuple(shape)


def _from_json(data, dtype: np.dtype, shape: tuple, count: int, where: str) -> np.ndarray:
    """JSON tensor data, flat or nested (row-major), checked element count and kind, as `dtype` of `shape`."""
    if not isinstance(data, list):
        raise ProtocolError(f"{where}: 'data' must be a JSON array")
    try:
        arr = np.array(data)
    except (ValueError, TypeError):  # ragged nesting
        raise ProtocolError(f"{where}: 'data' is a ragged nested array") from None
    if dtype == np.uint64 and arr.dtype.kind in "fO":  # ints >= 2**63 among smaller ones: numpy made floats
        arr = _exact_uint64(data, where)
    if arr.size != count:
        raise ProtocolError(f"{where}: 'data' has {arr.size} elements; shape {list(shape)} needs {count}")
    if arr.size and arr.dtype.kind not in _JSON_KINDS[dtype.kind]:
        raise ProtocolError(f"{where}: 'data' holds {_kind_name(arr.dtype)}, not valid for {datatype(dtype)}")
    out = arr.astype(dtype).reshape(shape)
    if dtype.kind in "iu" and arr.size and not np.array_equal(out.reshape(arr.shape), arr):
        raise ProtocolError(f"{where}: 'data' holds values out of the range of {datatype(dtype)}")
    return out


def _exact_uint64(data: list, where: str) -> np.ndarray:
    values = np.array(data, dtype=object)
    if not all(type(v) is int and 0 <= v < 1 << 64 for v in values.ravel()):
        raise ProtocolError(f"{where}: 'data' holds values that are not UINT64 integers")
    return values.astype(np.uint64)


def _kind_name(dt: np.dtype) -> str:
    return {"b": "booleans", "i": "integers", "u": "integers", "f": "floating-point numbers"}.get(
        dt.kind, "non-numeric values")


def _from_binary(chunk: bytes, dtype: np.dtype, shape: tuple, where: str) -> np.ndarray:
    if dtype == np.bool_:
        raw = np.frombuffer(chunk, np.uint8)
        if raw.size and raw.max() > 1:
            raise ProtocolError(f"{where}: BOOL binary data must hold bytes 0 and 1")
    return np.frombuffer(chunk, dtype.newbyteorder("<")).astype(dtype, copy=False).reshape(shape)


def _requested_outputs(req: dict, params: dict, outputs: list[TensorSpec]) -> tuple[list[str], dict[str, bool]]:
    default = _field(params, "binary_data_output", bool, "request parameters", required=False) or False
    known = [s.name for s in outputs]
    items = _field(req, "outputs", list, "request", required=False)
    if items is None:
        return known, dict.fromkeys(known, default)
    names, binary = [], {}
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise ProtocolError(f"outputs[{k}] must be a JSON object")
        name = _field(item, "name", str, f"outputs[{k}]")
        where = f"output '{name}'"
        if name not in known:
            raise ProtocolError(f"unknown {where}; the model's outputs are {known}")
        if name in binary:
            raise ProtocolError(f"{where} is requested twice")
        p = _field(item, "parameters", dict, where, required=False) or {}
        if "classification" in p:
            raise ProtocolError(f"{where}: the classification extension is not supported")
        flag = _field(p, "binary_data", bool, f"{where} parameters", required=False)
        names.append(name)
        binary[name] = default if flag is None else flag
    return names, binary


def encode_response(model_name: str, model_version: str, request: InferRequest,
                    results: dict[str, np.ndarray]) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of the response to `request`: JSON alone, or the JSON header followed by the binary
    outputs (little-endian, row-major) with its length in Inference-Header-Content-Length."""
    outs, chunks = [], []
    for name in request.outputs:
        arr = results[name]
        out = {"name": name, "datatype": datatype(arr.dtype), "shape": list(arr.shape)}
        if request.binary[name]:
            chunk = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
            out["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            out["data"] = arr.ravel().tolist()
        outs.append(out)
    response = {"model_name": model_name, "model_version": model_version}
    if request.id is not None:
        response["id"] = request.id
    response["outputs"] = outs
    header = json.dumps(response, separators=(",", ":")).encode()
    if not chunks:
        return header, {"content-type": JSON_TYPE}
    return b"".join([header, *chunks]), {"content-type": BINARY_TYPE, HEADER_LENGTH: str(len(header))}


def encode_request(inputs: dict[str, np.ndarray], *, binary: bool = True, outputs: list[str] | None = None,
                   binary_outputs: bool = True, request_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The client's side: (body, headers) of an inference request for `inputs`, their data binary or JSON."""
    items, chunks = [], []
    for name, arr in inputs.items():
        arr = np.asarray(arr)
        item = {"name": name, "shape": list(arr.shape), "datatype": datatype(arr.dtype)}
        if binary:
            chunk = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
            item["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            item["data"] = arr.ravel().tolist()
        items.append(item)
    req = {"inputs": items}
    if request_id is not None:
        req["id"] = request_id
    if outputs is not None:
        req["outputs"] = [{"name": n, "parameters": {"binary_data": binary_outputs}} for n in outputs]
    else:
        req["parameters"] = {"binary_data_output": binary_outputs}
    header = json.dumps(req).encode()
    if not chunks:
        return header, {"content-type": JSON_TYPE}
    return b"".join([header, *chunks]), {"content-type": BINARY_TYPE, HEADER_LENGTH: str(len(header))}


def decode_response(body: bytes, header_length: str | None) -> tuple[dict, dict[str, np.ndarray]]:
    """The client's side: (the response JSON, {output name: array}) of an inference response."""
    header, binary = split_body(body, header_length)
    resp = json.loads(header)
    arrays, offset = {}, 0
    for out in resp["outputs"]:
        dtype = DATATYPES[out["datatype"]]
        size = out.get("parameters", {}).get("binary_data_size")
        if size is None:
            arrays[out["name"]] = np.array(out["data"], dtype).reshape(out["shape"])
        else:
            chunk = binary[offset:offset + size]
            arrays[out["name"]] = np.frombuffer(chunk, dtype.newbyteorder("<")).astype(dtype).reshape(out["shape"])
            offset += size
    return resp, arrays
