"""Load test of `fastconv serve`: latency percentiles, throughput and failed requests over real HTTP.

    python bench/serve_load.py                              # lenet5, 3000 requests, 8 connections, binary tensors
    python bench/serve_load.py --model models/resnet_small.onnx --requests 2000 --concurrency 16 --json-tensors
    python bench/serve_load.py --threads 2 --max-batch 16 --batch-delay-ms 1   # server options
    python bench/serve_load.py --url http://127.0.0.1:8000 --name lenet5 --no-write   # an already running server

This process is the client; the server runs as a second process (`fastconv serve`, started here on a free
port of 127.0.0.1 and stopped with SIGTERM at the end, whose exit status must be 0), unless --url names one.
Each client thread keeps one HTTP/1.1 keep-alive connection and sends its share of the requests back to back
(closed loop). The inputs are --distinct random tensors; the first answer for each is its reference and every
later answer must equal it (rtol 1e-4: batched runs may round differently), so answers crossed between
requests count as failures, as do non-200 statuses and transport errors. Prints the summary; writes
bench/results/serve-load-<date>-<time>.md and .json (not with --no-write). Exit status 1 if any request failed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from fastconv.serve.protocol import DATATYPES, HEADER_LENGTH, decode_response, encode_request  # noqa: E402


def start_server(args) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "fastconv.cli", "serve", f"{args.name}={args.model}", "--port", "0",
           "--max-batch", str(args.max_batch), "--batch-delay-ms", str(args.batch_delay_ms)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        print(f"  server: {line.rstrip()}", flush=True)
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # keep draining
            return proc, m.group(1)
    raise SystemExit(f"the server exited with status {proc.wait()} before listening")


def stop_server(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def connect(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host.strip("[]"), int(port), timeout=60)


def model_inputs(url: str, name: str, batch: int, distinct: int, seed: int) -> list[dict[str, np.ndarray]]:
    conn = connect(url)
    conn.request("GET", f"/v2/models/{name}")
    resp = conn.getresponse()
    meta = json.loads(resp.read())
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"model metadata: {resp.status} {meta}")
    rng = np.random.default_rng(seed)
    feeds = []
    for _ in range(distinct):
        feed = {}
        for t in meta["inputs"]:
            shape = [batch if d == -1 else d for d in t["shape"]]
            feed[t["name"]] = rng.standard_normal(shape).astype(DATATYPES[t["datatype"]])
        feeds.append(feed)
    return feeds


def run_load(url: str, name: str, feeds: list[dict], requests: int, concurrency: int, binary: bool) -> dict:
    bodies = [encode_request(f, binary=binary, binary_outputs=binary) for f in feeds]
    reference: dict[int, dict] = {}
    latencies, errors = [], []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker():
        conn = connect(url)
        for k in iter(lambda: next(counter, None), None):
            body, headers = bodies[k % len(bodies)]
            t0 = time.perf_counter()
            try:
                conn.request("POST", f"/v2/models/{name}/infer", body, headers)
                resp = conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - t0
                if resp.status != 200:
                    raise RuntimeError(f"status {resp.status}: {data[:200]!r}")
                _, outs = decode_response(data, resp.getheader(HEADER_LENGTH))
                with lock:
                    want = reference.setdefault(k % len(bodies), outs)
                for n, a in outs.items():
                    if not np.allclose(a, want[n], rtol=1e-4, atol=1e-5):
                        raise RuntimeError(f"request {k}: output '{n}' differs from the same input's first answer")
                with lock:
                    latencies.append(elapsed)
            except Exception as e:  # noqa: BLE001 - every failure is counted, the load goes on
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = connect(url)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = np.array(latencies) * 1e3
    pct = (lambda q: float(np.percentile(ms, q))) if ms.size else (lambda q: float("nan"))
    return {"requests": requests, "succeeded": len(latencies), "failed": len(errors),
            "errors": sorted(set(errors))[:20], "wall_s": wall, "throughput_rps": len(latencies) / wall,
            "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99), "max": float(ms.max()) if ms.size else
                           float("nan"), "mean": float(ms.mean()) if ms.size else float("nan")}}


def markdown(result: dict, machine: dict, args: dict, started: str) -> str:
    lat = result["latency_ms"]
    lines = [f"# fastconv serve load test, {started}", "",
             f"- model: `{args['model']}` as `{args['name']}`, input batch {args['batch']}, "
             f"{'JSON' if args['json_tensors'] else 'binary'} tensors",
             f"- {result['requests']} requests from {args['concurrency']} keep-alive connections (closed loop, "
             f"client in a second process)",
             f"- server: --threads {args['threads'] or 'all'} --max-batch {args['max_batch']} --batch-delay-ms "
             f"{args['batch_delay_ms']}" + (f"; exit status after SIGTERM {result['server_exit']}"
                                            if "server_exit" in result else ""),
             f"- CPU: {machine['cpu']} ({machine['logical_cores']} logical cores, {machine['usable_cores']} usable); "
             f"python {machine['python']}, fastconv {machine['fastconv']}", "",
             "| p50 ms | p90 ms | p99 ms | max ms | mean ms | throughput req/s | failed |",
             "|---|---|---|---|---|---|---|",
             f"| {lat['p50']:.2f} | {lat['p90']:.2f} | {lat['p99']:.2f} | {lat['max']:.2f} | {lat['mean']:.2f} | "
             f"{result['throughput_rps']:.0f} | {result['failed']} |", ""]
    if result["errors"]:
        lines += ["Errors (distinct, first 20):", ""] + [f"- {e}" for e in result["errors"]] + [""]
    return "\n".join(lines)


def machine_description(threads) -> dict:
    import platform

    import fastconv
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        cpu = platform.processor() or cpu
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "os": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
            "fastconv": fastconv.__version__, "server_threads": threads}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=os.path.join(REPO, "models", "lenet5.onnx"))
    p.add_argument("--name", default=None, help="model name on the server (default: the file's stem)")
    p.add_argument("--url", default=None, help="load an already running server instead of starting one")
    p.add_argument("--requests", "-n", type=int, default=3000)
    p.add_argument("--concurrency", "-c", type=int, default=8, help="client threads, one connection each")
    p.add_argument("--batch", type=int, default=1, help="rows per request along a dynamic first dim")
    p.add_argument("--distinct", type=int, default=16, help="distinct random inputs, cycled")
    p.add_argument("--json-tensors", action="store_true", help="JSON tensor data instead of binary")
    p.add_argument("--threads", type=int, default=None, help="server: intra-op threads")
    p.add_argument("--max-batch", type=int, default=8, help="server: largest dynamic batch")
    p.add_argument("--batch-delay-ms", type=float, default=0.0, help="server: batching delay")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    p.add_argument("--no-write", action="store_true", help="print only, write no result files")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = p.parse_args(argv)
    args.name = args.name or os.path.splitext(os.path.basename(args.model))[0]
    if min(args.requests, args.concurrency, args.batch, args.distinct) < 1:
        p.error("--requests, --concurrency, --batch and --distinct must be at least 1")

    started = dt.datetime.now()
    proc, url = start_server(args) if args.url is None else (None, args.url)
    try:
        feeds = model_inputs(url, args.name, args.batch, args.distinct, args.seed)
        result = run_load(url, args.name, feeds, args.requests, args.concurrency, not args.json_tensors)
    finally:
        if proc is not None:
            exit_status = stop_server(proc)
    if proc is not None:
        result["server_exit"] = exit_status
    lat = result["latency_ms"]
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['succeeded']}/{result['requests']} requests in {result['wall_s']:.2f} s: "
              f"{result['throughput_rps']:.0f} req/s; latency ms p50 {lat['p50']:.2f} p90 {lat['p90']:.2f} "
              f"p99 {lat['p99']:.2f} max {lat['max']:.2f}; failed {result['failed']}")
        for e in result["errors"]:
            print(f"  {e}")
    if not args.no_write:
        machine = machine_description(args.threads)
        stem = os.path.join(args.out, f"serve-load-{started.strftime('%Y-%m-%d-%H%M%S')}")
        os.makedirs(args.out, exist_ok=True)
        with open(stem + ".json", "w") as f:
            json.dump({"started": started.isoformat(timespec="seconds"), "machine": machine, "args": vars(args),
                       "result": result}, f, indent=1)
        with open(stem + ".md", "w") as f:
            f.write(markdown(result, machine, vars(args), started.strftime("%Y-%m-%d %H:%M")))
        print(f"wrote {stem}.md and {stem}.json")
    return 1 if result["failed"] or result.get("server_exit", 0) != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
