"""`fastconv serve`: an HTTP server speaking the Open Inference Protocol v2 (KServe v2, Triton) REST API.

    protocol.py  the wire format: datatypes, metadata, requests and responses (JSON and binary tensors)
    models.py    the served models: session, protocol metadata, batch axis; NAME=PATH; ModelServer (+ queues)
    batcher.py   one queue and worker per model: dynamic batching along the batch axis, bounded queue
    app.py       the HTTP layer (Starlette): routes, body limits, error objects and statuses
    server.py    uvicorn on its own thread, signals, graceful shutdown

Needs the `serve` extra (starlette, uvicorn): pip install 'fastconv[serve]'. Design notes: docs/SERVING.md.
"""
try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(f"fastconv serve needs the 'serve' extra ({e.name} is missing): "
                      "pip install 'fastconv[serve]'") from None

from fastconv.serve.models import ServedModel, load_models
from fastconv.serve.server import Server

__all__ = ["Server", "ServedModel", "load_models"]
