"""The HTTP layer: Open Inference Protocol v2 REST routes as a Starlette (ASGI) application.

Routes map to the models (models.py), the wire format (protocol.py) and the per-model queues (batcher.py);
this module only reads bodies (size limit, Content-Encoding), maps errors to statuses and writes responses.
Decoding and encoding tensors run in Starlette's thread pool and inference on the model's worker thread, so the
event loop stays free for health and metadata requests while models are busy.
"""
from __future__ import annotations

import asyncio
import json
import logging
import zlib

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from fastconv import __version__
from fastconv.errors import FastconvError
from fastconv.serve.batcher import Closed, QueueFull
from fastconv.serve.models import ModelServer, ServedModel
from fastconv.serve.protocol import (HEADER_LENGTH, JSON_TYPE, ProtocolError, decode_request, encode_response,
                                     error_body)

log = logging.getLogger("fastconv.serve")

SERVER_NAME = "fastconv"
EXTENSIONS = ["binary_tensor_data"]
DEFAULT_MAX_REQUEST_BYTES = 64 << 20


def _json(obj, status: int = 200) -> Response:
    return Response(json.dumps(obj), status, media_type=JSON_TYPE)


def _error(message: str, status: int) -> Response:
    return Response(error_body(message), status, media_type=JSON_TYPE)


def create_app(server: ModelServer, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> Starlette:
    def model_of(request: Request) -> ServedModel:
        name = request.path_params["name"]
        model = server.models.get(name)
        if model is None:
            raise ProtocolError(f"unknown model '{name}'; this server has {sorted(server.models)}", 404)
        version = request.path_params.get("version")
        if version is not None and version != model.version:
            raise ProtocolError(f"model '{name}' has no version '{version}' (versions: [{model.version}])", 404)
        return model

    async def server_metadata(request):
        return _json({"name": SERVER_NAME, "version": __version__, "extensions": EXTENSIONS})

    async def live(request):
        return Response(status_code=200)

    async def ready(request):
        return Response(status_code=200 if server.ready else 400)

    async def model_metadata(request):
        return _json(model_of(request).metadata())

    async def model_ready(request):
        model_of(request)
        return Response(status_code=200 if server.ready else 400)

    async def infer(request):
        model = model_of(request)
        body = await _read_body(request, max_request_bytes)
        req = await run_in_threadpool(decode_request, body, request.headers.get(HEADER_LENGTH), model.inputs,
                                      model.outputs)
        try:
            future = server.batchers[model.name].submit(req.inputs)
        except (QueueFull, Closed) as e:
            raise ProtocolError(str(e), 503) from None
        try:
            results = await asyncio.wrap_future(future)
        except FastconvError as e:  # InvalidInputError and limits: the request's fault
            raise ProtocolError(f"{type(e).__name__}: {e}") from None
        except Exception as e:  # noqa: BLE001 - a fault of fastconv: logged, answered with 500
            log.error("model %s failed on a request", model.name, exc_info=e)
            raise ProtocolError(f"internal error: {type(e).__name__}: {e}", 500) from None
        content, headers = await run_in_threadpool(encode_response, model.name, model.version, req, results)
        return Response(content, headers=headers)

    async def protocol_error(request, exc: ProtocolError):
        return _error(str(exc), exc.status)

    async def http_error(request, exc: HTTPException):  # Starlette's own 404 / 405 as protocol error objects
        where = f"{request.method} {request.url.path}"
        allow = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow", "")
        message = {404: f"no such route: {where} (the protocol's routes start with /v2)",
                   405: f"method not allowed: {where} (allowed: {allow})"}
        response = _error(message.get(exc.status_code, exc.detail), exc.status_code)
        response.headers.update(exc.headers or {})
        return response

    async def internal_error(request, exc: Exception):  # Starlette re-raises it after this, for uvicorn to log
        return _error(f"internal error: {type(exc).__name__}: {exc}", 500)

    plain = "/v2/models/{name}"
    versioned = "/v2/models/{name}/versions/{version}"
    routes = [
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
    ]
    for base in (plain, versioned):
        routes += [Route(base, model_metadata, methods=["GET"]),
                   Route(base + "/ready", model_ready, methods=["GET"]),
                   Route(base + "/infer", infer, methods=["POST"])]
    return Starlette(routes=routes, exception_handlers={ProtocolError: protocol_error, HTTPException: http_error,
                                                        Exception: internal_error})


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed (Content-Encoding gzip or deflate, as tritonclient sends them), refused
    with 413 as soon as it (or what it decompresses to) exceeds `limit` bytes."""
    too_large = ProtocolError(f"the request body exceeds the limit of {limit} bytes (fastconv serve "
                              "--max-request-mb)", 413)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "deflate"):
        raise ProtocolError(f"Content-Encoding {encoding!r} is not supported (gzip, deflate)", 415)
    inflate = None if encoding == "identity" else zlib.decompressobj(31 if encoding == "gzip" else 15)
    parts, size = [], 0
    try:
        async for chunk in request.stream():
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk, limit + 1 - size)
                except zlib.error as e:
                    raise ProtocolError(f"the {encoding} request body cannot be decompressed: {e}") from None
            size += len(chunk)
            if size > limit:
                raise too_large
            parts.append(chunk)
    except ClientDisconnect:
        raise ProtocolError("the client disconnected before sending the whole body") from None
    if inflate is not None and not inflate.eof:
        raise ProtocolError(f"the {encoding} request body is truncated")
    return b"".join(parts)
