"""The `fastconv` command line: `fastconv run`, `verify`, `summary`, `bench` and `serve`.

Exit status: 0 success, 1 `verify` found a mismatch (with --layerwise: in any value), 2 error (bad arguments,
invalid or unsupported model, onnxruntime missing). Errors are printed as one line on stderr, without a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

import numpy as np

DEFAULT_MODEL = "resnet_small.onnx"


class UsageError(Exception):
    """A bad command-line value; printed as one line, exit status 2."""


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the CLI turns every failure into an exit status
        from fastconv.errors import FastconvError
        from fastconv.tools.verify import VerifyError

        expected = (FastconvError, VerifyError, UsageError, OSError, ImportError)
        if not isinstance(e, expected):
            traceback.print_exc()
            print(f"fastconv: internal error: {type(e).__name__}: {_one_line(str(e))}", file=sys.stderr)
            return 2
        kind = "" if isinstance(e, (UsageError, VerifyError)) else f"{type(e).__name__}: "
        print(f"fastconv: error: {kind}{_one_line(str(e))}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastconv", description="CPU inference engine for ONNX CNNs.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp):
        sp.add_argument("--input", "-i", action="append", default=[], metavar="NAME=FILE.npy",
                        help="input tensor from a .npy file (NAME= may be omitted for single-input models)")
        sp.add_argument("--input-shape", "-s", action="append", default=[], metavar="NAME=1x3x224x224",
                        help="shape of a random input, resolving symbolic dimensions")
        sp.add_argument("--threads", "-t", type=int, default=None, metavar="N",
                        help="intra-op threads (default: all cores)")
        sp.add_argument("--seed", type=int, default=0, help="seed of the random inputs")

    r = sub.add_parser("run", help="run a model on given or random inputs and time it",
                       description="Run MODEL (default: the embedded resnet_small.onnx) and print its outputs' "
                                   "statistics and latency.")
    r.add_argument("model", nargs="?", default=None, metavar="MODEL")
    common(r)
    r.add_argument("--iterations", "-n", type=int, default=10, metavar="I", help="timed runs (default 10)")
    r.set_defaults(handler=cmd_run)

    v = sub.add_parser("verify", help="compare a model's outputs with onnxruntime",
                       description="Run MODEL in fastconv and onnxruntime on the same inputs; exit 0 if every "
                                   "output matches, 1 if one does not, 2 on errors.")
    v.add_argument("model", metavar="MODEL")
    common(v)
    v.add_argument("--rtol", type=float, default=1e-4)
    v.add_argument("--atol", type=float, default=1e-5)
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument("--layerwise", action="store_true",
                   help="compare every intermediate value (each plan step's output; nodes fused into one step "
                        "are listed) and name the first node whose output differs")
    v.set_defaults(handler=cmd_verify)

    s = sub.add_parser("summary", help="per-node shapes, parameters, MACs and receptive field",
                       description="Print MODEL's nodes with output shape, window (kernel, stride, pad, dilation, "
                                   "group), parameters, MACs, receptive field and jump (effective stride) relative "
                                   "to the input, how fastconv runs each (plan step, fused, folded), and totals.")
    s.add_argument("model", metavar="MODEL")
    s.add_argument("--input-shape", "-s", action="append", default=[], metavar="NAME=1x3x224x224",
                   help="input shape, resolving symbolic dimensions (default: batch 1, others 224)")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.add_argument("--all", action="store_true", help="also list the nodes folded into constants at plan time")
    s.set_defaults(handler=cmd_summary)

    b = sub.add_parser("bench", help="latency, throughput and a per-layer profile, optionally against onnxruntime",
                       description="Time MODEL: latency statistics and throughput, with --compare onnxruntime "
                                   "interleaved with onnxruntime in this process (same inputs and threads), then a "
                                   "per-layer profile (both engines with --compare).")
    b.add_argument("model", metavar="MODEL")
    common(b)
    b.add_argument("--compare", choices=["onnxruntime"], default=None, help="also time onnxruntime, interleaved")
    b.add_argument("--batch", "-b", type=int, default=None, metavar="B",
                   help="batch size: the first dimension of every input (must be symbolic in the model)")
    b.add_argument("--warmup", type=int, default=3, metavar="W", help="untimed runs per engine first (default 3)")
    length = b.add_mutually_exclusive_group()
    length.add_argument("--iterations", "-n", type=int, default=None, metavar="I",
                        help="timed runs per engine (default 20)")
    length.add_argument("--duration", "-d", type=float, default=None, metavar="S",
                        help="time runs for S seconds instead of a fixed count")
    b.add_argument("--profile-iterations", type=int, default=10, metavar="P",
                   help="step-by-step runs for the per-layer profile (default 10; 0: no profile)")
    b.add_argument("--top", type=int, default=None, metavar="N", help="list only the N slowest layers")
    b.add_argument("--json", action="store_true", help="print the report as JSON")
    b.add_argument("--plot", default=None, metavar="OUT.png",
                   help="write a PNG of per-layer and per-op times (needs matplotlib: fastconv[plot])")
    b.set_defaults(handler=cmd_bench)

    sv = sub.add_parser("serve", help="serve models over HTTP (Open Inference Protocol v2, as KServe and Triton)",
                        description="Serve MODELs over HTTP with the Open Inference Protocol v2 REST API (KServe v2, "
                                    "Triton): health, metadata and inference with JSON or binary tensors. Requests "
                                    "for a model with a batch axis are batched dynamically. Stops gracefully on "
                                    "SIGINT or SIGTERM. Needs the serve extra: pip install 'fastconv[serve]'.")
    sv.add_argument("models", nargs="+", metavar="MODEL", help="PATH or NAME=PATH (default name: the file's stem)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", "-p", type=int, default=8000, help="port (default 8000; 0: any free port)")
    sv.add_argument("--threads", "-t", type=int, default=None, metavar="N",
                    help="intra-op threads per model (default: all cores)")
    sv.add_argument("--max-batch", type=int, default=8, metavar="ROWS",
                    help="largest dynamic batch, in rows along the batch axis (default 8; 1: no batching)")
    sv.add_argument("--batch-delay-ms", type=float, default=0.0, metavar="MS",
                    help="wait up to MS for more requests when a batch is not full (default 0: batch only what "
                         "queued while the model was busy)")
    sv.add_argument("--max-queue", type=int, default=256, metavar="N",
                    help="queued requests per model before refusing with 503 (default 256)")
    sv.add_argument("--max-request-mb", type=float, default=64, metavar="MB",
                    help="largest request body, after decompression (default 64; larger: 413)")
    sv.add_argument("--access-log", action="store_true", help="log every request")
    sv.set_defaults(handler=cmd_serve)
    return p


def _version() -> str:
    from fastconv import __version__

    return __version__


def cmd_run(args) -> int:
    from fastconv import InferenceSession
    from fastconv.tools.verify import make_inputs

    _check_positive(args.threads, "--threads")
    _check_positive(args.iterations, "--iterations")
    path = args.model or default_model_path()
    t0 = time.perf_counter()
    sess = InferenceSession(path, num_threads=args.threads)
    t_load = time.perf_counter() - t0
    names = [v.name for v in sess.graph.inputs]
    feeds = make_inputs(sess, _read_inputs(args.input, names), _parse_shapes(args.input_shape, names), args.seed)

    print(f"model: {path}")
    print(f"threads: {sess.platform.num_threads}")
    print("inputs:")
    for n, a in feeds.items():
        print(f"  {n}: {a.dtype}[{_dims(a.shape)}]")
    t0 = time.perf_counter()
    outs = sess.run(None, feeds)
    t_first = time.perf_counter() - t0
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - t0)
    print("outputs:")
    for o, a in zip(sess.get_outputs(), outs):
        print(f"  {o.name}: {a.dtype}[{_dims(a.shape)}]  {_stats(a)}")
    print("latency:")
    print(f"  load (parse, import, plan fixed shapes): {t_load * 1e3:.2f} ms")
    print(f"  first run (plans new shapes, JIT warm-up): {t_first * 1e3:.2f} ms")
    print(f"  median of {args.iterations} runs: {np.median(times) * 1e3:.3f} ms "
          f"(min {min(times) * 1e3:.3f} ms)")
    return 0


def cmd_verify(args) -> int:
    from fastconv.onnx import import_model, load_model_proto
    from fastconv.tools.verify import compare_layerwise, compare_with_onnxruntime

    _check_positive(args.threads, "--threads")
    # --input/--input-shape are checked against the model's input names, known once it is loaded
    proto, _ = load_model_proto(args.model)
    names = [v.name for v in import_model(proto).inputs]
    compare = compare_layerwise if args.layerwise else compare_with_onnxruntime
    report = compare(proto, _read_inputs(args.input, names), rtol=args.rtol, atol=args.atol,
                     num_threads=args.threads, seed=args.seed, input_shapes=_parse_shapes(args.input_shape, names))
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format())
    return 0 if report.ok else 1


def cmd_summary(args) -> int:
    from fastconv import InferenceSession
    from fastconv.tools.summary import summary

    sess = InferenceSession(args.model, warmup=False)
    names = [v.name for v in sess.graph.inputs]
    result = summary(sess, _parse_shapes(args.input_shape, names))
    print(json.dumps(result.to_dict(), indent=1) if args.json else result.format(show_folded=args.all))
    return 0


def cmd_bench(args) -> int:
    from fastconv.onnx import import_model, load_model_proto
    from fastconv.tools.bench import benchmark, plot

    _check_positive(args.threads, "--threads")
    _check_positive(args.iterations, "--iterations")
    _check_positive(args.batch, "--batch")
    _check_positive(args.top, "--top")
    if args.warmup < 0 or args.profile_iterations < 0:
        raise UsageError("--warmup and --profile-iterations must be at least 0")
    if args.duration is not None and not args.duration > 0:
        raise UsageError("--duration must be positive")
    if args.plot:
        if not args.profile_iterations:
            raise UsageError("--plot shows the per-layer profile: --profile-iterations must be at least 1")
        try:
            import matplotlib  # noqa: F401 - fail before the benchmark, not after it
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'fastconv[plot]'") from None
    proto, _ = load_model_proto(args.model)
    names = [v.name for v in import_model(proto).inputs]
    report = benchmark(proto, name=args.model, inputs=_read_inputs(args.input, names),
                       input_shapes=_parse_shapes(args.input_shape, names), batch=args.batch,
                       num_threads=args.threads, warmup=args.warmup, iterations=args.iterations,
                       duration=args.duration, compare=args.compare, profile_iterations=args.profile_iterations,
                       seed=args.seed)
    if args.plot:
        plot(report, args.plot)
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.format(top=args.top))
    if args.plot and not args.json:
        print(f"plot: {args.plot}")
    return 0


def cmd_serve(args) -> int:
    _check_positive(args.threads, "--threads")
    _check_positive(args.max_batch, "--max-batch")
    _check_positive(args.max_queue, "--max-queue")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be from 0 to 65535")
    if args.batch_delay_ms < 0 or not args.max_request_mb > 0:
        raise UsageError("--batch-delay-ms must be at least 0 and --max-request-mb positive")
    from fastconv.serve import Server, load_models
    from fastconv.serve.models import ModelNameError

    try:
        models = load_models(args.models, args.threads)
    except ModelNameError as e:
        raise UsageError(str(e)) from None
    server = Server(models, args.host, args.port, max_request_bytes=int(args.max_request_mb * (1 << 20)),
                    max_batch=args.max_batch, max_delay=args.batch_delay_ms / 1e3, max_queue=args.max_queue,
                    access_log=args.access_log)
    for m in models:
        batching = f"batched up to {args.max_batch} rows" if m.batchable and args.max_batch > 1 else "one at a time"
        print(f"model {m.name}: {server.url}/v2/models/{m.name} ({batching})")
    print(f"fastconv serve: listening on {server.url} (Ctrl+C or SIGTERM stops)", flush=True)
    server.serve_forever()
    print("fastconv serve: stopped", flush=True)
    return 0


def default_model_path() -> str:
    try:
        import fastconv.models as models
    except ImportError:
        raise UsageError("no MODEL given and the embedded models package fastconv.models is not installed") \
            from None
    path = os.path.join(os.path.dirname(os.path.abspath(models.__file__)), DEFAULT_MODEL)
    if not os.path.isfile(path):
        raise UsageError(f"no MODEL given and the embedded default model {DEFAULT_MODEL} is not installed "
                         f"(expected at {path}); pass a MODEL path")
    return path


def _split_named(value: str, names: list[str], option: str) -> tuple[str, str]:
    """'NAME=VALUE' -> (NAME, VALUE); a bare VALUE names the model's only input."""
    name, sep, rest = value.partition("=")
    if sep and name in names:
        return name, rest
    if len(names) == 1 and (not sep or os.path.exists(value)):  # a bare path may itself contain '='
        return names[0], value
    if sep:
        raise UsageError(f"{option} {value}: the model has no input '{name}' (inputs: {', '.join(names)})")
    raise UsageError(f"{option} {value}: give it as NAME=... (the model's inputs are {', '.join(names)})")


def _parse_shapes(values: list[str], names: list[str]) -> dict[str, tuple]:
    shapes = {}
    for value in values:
        name, text = _split_named(value, names, "--input-shape")
        parts = [p for p in text.replace(",", "x").split("x")] if text else []
        if not all(p.strip().isdigit() for p in parts):
            raise UsageError(f"--input-shape {value}: expected dimensions like 1x3x224x224")
        shapes[name] = tuple(int(p) for p in parts)
    return shapes


def _read_inputs(values: list[str], names: list[str]) -> dict[str, np.ndarray]:
    arrays = {}
    for value in values:
        name, path = _split_named(value, names, "--input")
        try:
            arrays[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UsageError(f"--input {value}: cannot read a .npy array: {_one_line(str(e))}") from None
        if not isinstance(arrays[name], np.ndarray):
            raise UsageError(f"--input {value}: expected a .npy file holding one array, not an .npz archive")
    return arrays


def _check_positive(value, option):
    if value is not None and value < 1:
        raise UsageError(f"{option} must be at least 1")


def _dims(shape) -> str:
    return "x".join(map(str, shape))


def _stats(a: np.ndarray) -> str:
    if a.size == 0:
        return "(empty)"
    x = a.astype(np.float64)
    return f"min {x.min():.6g}  max {x.max():.6g}  mean {x.mean():.6g}  std {x.std():.6g}"


def _one_line(msg: str) -> str:
    """Join a multi-line message (e.g. a list of unsupported nodes) into one line."""
    out = ""
    for line in (ln.strip() for ln in msg.strip().splitlines()):
        if line:
            out = line if not out else out + (" " if out.endswith(":") else "; ") + line
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
