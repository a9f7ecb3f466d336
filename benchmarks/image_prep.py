"""Benchmark: a 4000x3000 photo JPEG -> API-ready image block (budget: docs/architecture.md).

Compares ``nbclaude.image(data)`` with the naive Pillow recipe (open, ``thumbnail((1568, 1568),
LANCZOS)``, save as JPEG, base64) in the same run, interleaved, and prints the medians and
their ratio. Budget: nbclaude <= 0.5x naive.

Run: ``python benchmarks/image_prep.py [--repeat N]``. Exit status 1 when over budget.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

import nbclaude

BUDGET = 0.5


def photo_like_jpeg(width: int = 4000, height: int = 3000, seed: int = 0) -> bytes:
    """A JPEG (quality 90) with photo-like detail: gradients, soft blobs, edges and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.empty((height, width, 3), np.float32)
    img[..., 0] = 60 + 140 * x / width
    img[..., 1] = 40 + 150 * y / height
    img[..., 2] = 90 + 100 * (x + y) / (width + height)
    # soft low-frequency structure (like out-of-focus shapes), upsampled from a small grid
    blobs = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8))
    img += 0.35 * np.asarray(blobs.resize((width, height), Image.Resampling.BICUBIC), np.float32)
    # hard edges (like objects) and fine texture (like foliage or sensor noise)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, width - 200)), int(rng.integers(0, height - 200))
        w, h = int(rng.integers(50, 600)), int(rng.integers(50, 600))
        img[y0 : y0 + h, x0 : x0 + w] += rng.normal(0, 40, 3).astype(np.float32)
    img += rng.normal(0, 9, (height, width, 3)).astype(np.float32)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def naive(data: bytes) -> dict[str, object]:
    img = Image.open(io.BytesIO(data))
    img.thumbnail((1568, 1568), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG")
    b64 = base64.b64encode(out.getvalue()).decode("ascii")
    return {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": b64}}


def median_times(
    funcs: dict[str, Callable[[], object]], repeat: int
) -> dict[str, tuple[float, float]]:
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for f in funcs.values():  # warm up (imports, caches)
        f()
    for _ in range(repeat):
        for name, f in funcs.items():  # interleaved: drift hits both alike
            t = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
    return {n: (statistics.median(ts), min(ts)) for n, ts in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    data = photo_like_jpeg()
    block = nbclaude.image(data)
    same_size = nbclaude.image(data, max_pixels=1568 * 1176)
    ref = naive(data)
    results = median_times(
        {
            "naive": lambda: naive(data),
            "nbclaude": lambda: nbclaude.image(data),
            "nbclaude_same_size": lambda: nbclaude.image(data, max_pixels=1568 * 1176),
        },
        args.repeat,
    )
    t_naive, t_ours = results["naive"][0], results["nbclaude"][0]
    ratio = t_ours / t_naive
    ref_len = len(ref["source"]["data"])  # type: ignore[index]
    print(f"input: 4000x3000 photo-like JPEG, quality 90, {len(data) / 1e6:.2f} MB")
    print(f"repeats: {args.repeat} (interleaved), medians (min in brackets)")
    print(
        f"naive Pillow (open + thumbnail LANCZOS + save JPEG + base64): "
        f"{t_naive * 1e3:7.1f} ms  [{results['naive'][1] * 1e3:.1f}]  -> 1568x1176, "
        f"{ref_len / 1e3:.0f} k base64 chars"
    )
    print(
        f"nbclaude.image (draft + BICUBIC, fit 1568 px / 1.15 MP):       "
        f"{t_ours * 1e3:7.1f} ms  [{results['nbclaude'][1] * 1e3:.1f}]  -> "
        f"{block.width}x{block.height}, {block.base64_length / 1e3:.0f} k base64 chars"
    )
    t_same = results["nbclaude_same_size"][0]
    print(
        f"nbclaude.image at the naive output size (info only):          "
        f"{t_same * 1e3:7.1f} ms  -> {same_size.width}x{same_size.height} "
        f"({t_same / t_naive:.2f}x naive)"
    )
    verdict = "OK" if ratio <= BUDGET else "OVER BUDGET"
    print(f"ratio nbclaude / naive: {ratio:.2f}x (budget <= {BUDGET:.2f}x): {verdict}")
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
