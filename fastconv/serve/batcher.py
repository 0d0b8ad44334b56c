"""Per-model request queue and worker: requests run one batch at a time, in arrival order, on one thread.

For a model with a batch axis (ServedModel.batchable), the worker takes the next request and every following
queued request of the same per-row shapes, up to `max_batch` rows in all (waiting up to `max_delay` seconds for
more when the batch is not full), concatenates their inputs along axis 0, runs the model once and splits the
outputs back. With `max_delay` 0, as Triton's default, batches form only from requests that queued while the
previous batch ran: no added latency at low load, larger batches under load. Other models run one request at
a time. One worker per model keeps the model's intra-op threads (InferenceSession num_threads) from being
oversubscribed by concurrent runs. The queue is bounded: a full queue refuses at once (QueueFull, HTTP 503).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np


class QueueFull(Exception):
    """The model's queue holds `max_queue` requests already."""


class Closed(Exception):
    """The batcher is shutting down and takes no new requests."""


class _Job:
    __slots__ = ("inputs", "future", "rows", "key")

    def __init__(self, inputs: dict[str, np.ndarray], batchable: bool):
        self.inputs = inputs
        self.future: Future = Future()
        first = next(iter(inputs.values()))
        self.rows = first.shape[0] if batchable else 1
        # requests batch together when everything but the number of rows matches
        self.key = tuple((n, a.dtype.str, a.shape[1:]) for n, a in sorted(inputs.items())) if batchable else None


class Batcher:
    """Runs `run(feeds) -> {output name: array}` for submitted requests on one worker thread."""

    def __init__(self, run: Callable[[dict], dict], *, batchable: bool, max_batch: int = 8, max_delay: float = 0.0,
                 max_queue: int = 256, name: str = "model"):
        if max_batch < 1 or max_queue < 1 or max_delay < 0:
            raise ValueError("max_batch and max_queue must be at least 1, max_delay at least 0")
        self._run = run
        self._batchable = batchable and max_batch > 1
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._max_queue = max_queue
        self._queue: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.stats = {"requests": 0, "batches": 0, "largest_batch": 0}  # rows; read by tests and tools
        self._thread = threading.Thread(target=self._work, name=f"fastconv-serve-{name}", daemon=True)
        self._thread.start()

    def submit(self, inputs: dict[str, np.ndarray]) -> Future:
        """Queue one request; its Future gives the model's outputs or raises the run's error."""
        job = _Job(inputs, self._batchable)
        with self._cond:
            if self._closed:
                raise Closed("the server is shutting down")
            if len(self._queue) >= self._max_queue:
                raise QueueFull(f"the queue holds {self._max_queue} requests already; retry later")
            self._queue.append(job)
            self._cond.notify()
        return job.future

    @property
    def queued(self) -> int:
        """Requests waiting (not counting the batch running)."""
        return len(self._queue)

    def close(self, timeout: float | None = None) -> None:
        """Refuse new requests, finish the queued ones, stop the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            batch = [j for j in batch if j.future.set_running_or_notify_cancel()]
            if batch:
                self._execute(batch)

    def _take(self) -> list[_Job] | None:
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            batch = [self._queue.popleft()]
            if not self._batchable:
                return batch
            rows, deadline = batch[0].rows, time.monotonic() + self._max_delay
            while rows < self._max_batch:
                if self._queue:
                    job = self._queue[0]
                    if job.key != batch[0].key or rows + job.rows > self._max_batch:
                        break
                    batch.append(self._queue.popleft())
                    rows += job.rows
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    break
                self._cond.wait(remaining)
            return batch

    def _execute(self, batch: list[_Job]) -> None:
        rows = sum(j.rows for j in batch)
        self.stats["requests"] += len(batch)
        self.stats["batches"] += 1
        self.stats["largest_batch"] = max(self.stats["largest_batch"], rows)
        if len(batch) == 1:
            self._run_alone(batch[0])
            return
        feeds = {n: np.concatenate([j.inputs[n] for j in batch]) for n in batch[0].inputs}
        try:
            outs = self._run(feeds)
        except Exception:  # noqa: BLE001 - one bad request must not fail the others: each runs alone for its
            outs = None    # own result or error
        if outs is None or any(a.ndim == 0 or a.shape[0] != rows for a in outs.values()):
            for job in batch:  # also when an output is not split along the batch axis after all
                self._run_alone(job)
            return
        bounds = np.cumsum([j.rows for j in batch])[:-1]
        parts = {n: np.split(a, bounds) for n, a in outs.items()}
        for k, job in enumerate(batch):
            job.future.set_result({n: p[k] for n, p in parts.items()})

    def _run_alone(self, job: _Job) -> None:
        try:
            job.future.set_result(self._run(job.inputs))
        except Exception as e:  # noqa: BLE001 - handed to the request, which maps it to a status
            job.future.set_exception(e)
