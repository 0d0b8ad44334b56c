"""The per-model queue alone: batches along axis 0 split back per request, incompatible requests apart, one
failing request not failing its neighbours, a bounded queue, draining on close."""
import threading

import numpy as np
import pytest

from fastconv.serve.batcher import Batcher, Closed, QueueFull


class Model:
    """run(feeds) = {'y': x * 2, 'total': rows}, recording each call's batch; blocks while `gate` is closed."""

    def __init__(self):
        self.calls, self.gate, self.entered = [], threading.Event(), threading.Event()
        self.gate.set()

    def __call__(self, feeds):
        self.entered.set()
        assert self.gate.wait(10)
        x = feeds["x"]
        if (x < 0).any():
            raise ValueError("negative input")
        self.calls.append(x.shape[0])
        return {"y": x * 2}


def queue_behind_busy_worker(batcher, model, inputs):
    """Submit inputs[0], wait until the worker runs it, queue the rest, then let everything run."""
    model.gate.clear()
    futures = [batcher.submit({"x": inputs[0]})]
    assert model.entered.wait(10)
    futures += [batcher.submit({"x": x}) for x in inputs[1:]]
    model.gate.set()
    return [f.result(10) for f in futures]


def rows(n, value, width=3):
    return np.full((n, width), value, np.float32)


def test_queued_requests_run_as_one_batch_and_split_back():
    model = Model()
    b = Batcher(model, batchable=True, max_batch=8)
    inputs = [rows(1, 0), rows(2, 1), rows(1, 2), rows(3, 3), rows(3, 4)]
    results = queue_behind_busy_worker(b, model, inputs)
    for x, r in zip(inputs, results):
        np.testing.assert_array_equal(r["y"], x * 2)
    assert model.calls == [1, 6, 3]  # 2+1+3 fit in 8 rows, the next 3 would not
    assert b.stats == {"requests": 5, "batches": 3, "largest_batch": 6}
    b.close()


def test_different_row_shapes_never_share_a_batch():
    model = Model()
    b = Batcher(model, batchable=True, max_batch=8)
    inputs = [rows(1, 0), rows(1, 1), rows(1, 2, width=4), rows(1, 3, width=4), rows(1, 4)]
    results = queue_behind_busy_worker(b, model, inputs)
    for x, r in zip(inputs, results):
        np.testing.assert_array_equal(r["y"], x * 2)
    assert model.calls == [1, 1, 2, 1]  # in arrival order: a batch ends at the first request that differs
    b.close()


def test_a_failing_request_fails_alone():
    model = Model()
    b = Batcher(model, batchable=True, max_batch=8)
    model.gate.clear()
    first = b.submit({"x": rows(1, 0)})
    assert model.entered.wait(10)
    good, bad, good2 = (b.submit({"x": rows(1, v)}) for v in (1, -1, 2))
    model.gate.set()
    first.result(10)
    np.testing.assert_array_equal(good.result(10)["y"], rows(1, 2))
    np.testing.assert_array_equal(good2.result(10)["y"], rows(1, 4))
    with pytest.raises(ValueError, match="negative input"):
        bad.result(10)
    b.close()


def test_delay_gathers_requests_that_arrive_later():
    model = Model()
    b = Batcher(model, batchable=True, max_batch=4, max_delay=5.0)
    futures = [b.submit({"x": rows(1, k)}) for k in range(4)]  # the 4th fills the batch: no 5 s wait
    for k, f in enumerate(futures):
        np.testing.assert_array_equal(f.result(4)["y"], rows(1, 2 * k))
    assert model.calls == [4]
    b.close()


def test_not_batchable_runs_one_at_a_time():
    model = Model()
    b = Batcher(model, batchable=False, max_batch=8)
    queue_behind_busy_worker(b, model, [rows(1, k) for k in range(4)])
    assert model.calls == [1, 1, 1, 1]
    b.close()


def test_bounded_queue_and_close_drains():
    model = Model()
    b = Batcher(model, batchable=False, max_queue=2)
    model.gate.clear()
    running = b.submit({"x": rows(1, 0)})
    assert model.entered.wait(10)
    queued = [b.submit({"x": rows(1, k)}) for k in (1, 2)]
    with pytest.raises(QueueFull):
        b.submit({"x": rows(1, 3)})
    closer = threading.Thread(target=b.close)
    closer.start()
    for _ in range(1000):  # close() refuses new requests at once (the queue is still full meanwhile) ...
        try:
            b.submit({"x": rows(1, 4)})
        except QueueFull:
            threading.Event().wait(0.01)
        except Closed:
            break
    else:
        pytest.fail("close() did not refuse new requests")
    # ... and the queued requests still run
    model.gate.set()
    closer.join(10)
    assert not closer.is_alive()
    assert [f.result(0)["y"][0, 0] for f in [running, *queued]] == [0, 2, 4]
