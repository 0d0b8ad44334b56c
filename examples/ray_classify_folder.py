"""Classify a folder of images (PNG, JPEG, ...) with fastconv on a local Ray cluster; print or write a CSV of
(file, class, score).

    python examples/ray_classify_folder.py photos/                      # the embedded models/resnet_small.onnx
    python examples/ray_classify_folder.py photos/ --model m.onnx --actors 3 --threads 2 --csv out.csv
    python examples/ray_classify_folder.py demo/ --make-images 300      # first write 300 synthetic images there

Images are read by Ray's reader, resized to the model's input size and converted to RGB, then classified by an
actor pool of fastconv sessions (fastconv.integrations.ray.predict). Needs `pip install "fastconv[ray]"`.
"""
import argparse
import csv
import os
import sys
import time

import numpy as np
import ray
import ray.data
from PIL import Image

import fastconv
from fastconv.integrations.ray import predict
from fastconv.models import model_path


def make_images(folder: str, n: int, seed: int = 0) -> None:
    """Write n synthetic images (coloured stripes plus noise, 48 to 96 pixels a side), PNG and JPEG in turn."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for k in range(n):
        h, w = rng.integers(48, 97, 2)
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        f, theta = rng.uniform(0.5, 12), rng.uniform(0, np.pi)
        wave = 2 * np.pi * f * (np.cos(theta) * xx + np.sin(theta) * yy)
        img = (0.5 + 0.5 * np.sin(wave[..., None] + rng.uniform(0, 2 * np.pi, 3))) * rng.uniform(0, 1, 3)
        img += rng.normal(0, 0.2, img.shape) * rng.uniform(0, 1)
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(
            os.path.join(folder, f"img{k:05d}.{'png' if k % 2 == 0 else 'jpg'}"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--model", default=model_path(), help="ONNX classifier (default: %(default)s)")
    ap.add_argument("--actors", type=int, default=None, help="actor pool size (default: the CPUs minus one, "
                    "over --threads)")
    ap.add_argument("--threads", type=int, default=1, help="CPUs reserved by, and threads of, each actor")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--size", default=None, metavar="HxW", help="resize images to this (default: the model's "
                    "input size)")
    ap.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray cluster (default: all)")
    ap.add_argument("--csv", default=None, help="write the predictions here instead of stdout")
    ap.add_argument("--make-images", type=int, default=0, metavar="N", help="first write N synthetic images")
    args = ap.parse_args(argv)

    if args.make_images:
        make_images(args.folder, args.make_images)
    if args.size:
        height, width = (int(v) for v in args.size.lower().split("x"))
    else:
        height, width = fastconv.InferenceSession(args.model, warmup=False).get_inputs()[0].shape[2:4]
        if not (isinstance(height, int) and isinstance(width, int)):
            ap.error(f"the model's input size is not fixed ({height}x{width}): pass --size HxW")

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    start = time.perf_counter()
    ds = ray.data.read_images(args.folder, size=(height, width), mode="RGB", include_paths=True)
    rows = predict(ds, args.model, num_actors=args.actors, threads_per_actor=args.threads,
                   batch_size=args.batch_size).take_all()
    elapsed = time.perf_counter() - start
    ray.shutdown()

    rows.sort(key=lambda r: r["path"])
    out = open(args.csv, "w", newline="") if args.csv else sys.stdout
    writer = csv.writer(out)
    writer.writerow(["file", "class", "score"])
    for r in rows:
        writer.writerow([os.path.basename(r["path"]), int(r["class"]), f"{float(r['score']):.6f}"])
    if args.csv:
        out.close()
    classes, counts = np.unique([r["class"] for r in rows], return_counts=True)
    print(f"{len(rows)} images in {elapsed:.1f} s ({len(rows) / elapsed:.0f} images/s, Ray start-up excluded); "
          f"classes: {dict(zip(classes.tolist(), counts.tolist()))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
