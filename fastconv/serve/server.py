"""Running the HTTP server: uvicorn on a socket bound here, on its own thread; graceful shutdown on a signal.

uvicorn runs on a thread of its own (it then installs no signal handlers), so `serve_forever` owns SIGINT and
SIGTERM: the first one stops the listener and makes the server not ready; uvicorn lets in-flight requests finish
(up to `graceful_timeout` seconds) while closing idle keep-alive connections; then the model queues drain and
their workers stop, and `serve_forever` returns (the CLI exits 0). A second SIGINT or SIGTERM cuts the wait short.
"""
from __future__ import annotations

import signal
import socket
import threading
import time

import uvicorn

from fastconv.serve.app import DEFAULT_MAX_REQUEST_BYTES, create_app
from fastconv.serve.models import ModelServer, ServedModel


class Server:
    """The Open Inference Protocol server for `models`, bound to (host, port) at construction (port 0: any free
    port, see `.port`). `start()` / `stop()` run it in the background; `serve_forever()` runs it until a signal."""

    def __init__(self, models: list[ServedModel], host: str = "127.0.0.1", port: int = 8000, *,
                 max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES, max_batch: int = 8, max_delay: float = 0.0,
                 max_queue: int = 256, max_connections: int = 512, keep_alive: int = 5,
                 graceful_timeout: int = 30, access_log: bool = False):
        self._sock = _listen(host, port)  # first: a port in use fails before any worker starts
        try:
            self.models = ModelServer(models, max_batch=max_batch, max_delay=max_delay, max_queue=max_queue)
        except BaseException:
            self._sock.close()
            raise
        self.host, self.port = host, self._sock.getsockname()[1]
        config = uvicorn.Config(create_app(self.models, max_request_bytes), lifespan="off", access_log=access_log,
                                log_level="info" if access_log else "warning", limit_concurrency=max_connections,
                                timeout_keep_alive=keep_alive, timeout_graceful_shutdown=graceful_timeout)
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        """Serve on a background thread; return once the listener accepts connections."""
        self._thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [self._sock]},
                                        name="fastconv-serve-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the HTTP server did not start (see the log above)")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Graceful shutdown: stop listening, let in-flight requests finish, then drain the model queues."""
        self.models.ready = False
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join()
        self._sock.close()
        self.models.close()

    def serve_forever(self) -> None:
        """Serve until SIGINT or SIGTERM, then shut down gracefully (main thread only)."""
        requested = threading.Event()

        def on_signal(signum, frame):
            if requested.is_set():  # a second signal: stop waiting for in-flight requests
                self._uvicorn.force_exit = True
            requested.set()
            self.models.ready = False
            self._uvicorn.should_exit = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while self._thread.is_alive():
                self._thread.join(0.2)
        finally:
            self.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Its protocol must be IPPROTO_TCP, not 0 as socket.create_server leaves it: asyncio
    sets TCP_NODELAY only on connections accepted from such a socket, and without it a response's body segment
    waits for the client's delayed ACK of the head (40 ms per request on a keep-alive connection)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
