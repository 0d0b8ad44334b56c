"""A bounded run of bench/serve_load.py: 300 requests from a second process over 4 keep-alive connections, zero
failures (wrong status, transport error, or an answer differing from the same input's first answer)."""
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_bounded_load_has_no_failures(server):
    batcher = server.models.batchers["lenet5"]
    before = batcher.stats["requests"]
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "serve_load.py"), "--url", server.url,
                        "--name", "lenet5", "--requests", "300", "--concurrency", "4", "--no-write", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert (result["succeeded"], result["failed"]) == (300, 0), result["errors"]
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"]
    assert batcher.stats["requests"] - before == 300
