#!/usr/bin/env python3
"""torchvision's SSDlite (ssdlite320_mobilenet_v3_large), the lightest detector torchvision ships, on the
work detector_bench measures: inference at 320x320, batch 1 and batch 8, random weights (no downloads;
speed does not depend on them), eval mode, the given thread count. JSON lines as torchvision_peers.py.

Usage: /usr/bin/python3 bench/detector_peers.py [--threads 2] [--n 30]
"""
import argparse
import json
import time

import torch
from torchvision.models.detection import ssdlite320_mobilenet_v3_large


def median_seconds(fn, n, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], times[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=30)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None).eval()
    for batch in (1, 8):
        images = [torch.rand(3, 320, 320) for _ in range(batch)]
        with torch.no_grad():
            med, best = median_seconds(lambda: model(images), a.n if batch == 1 else max(3, a.n // 4))
        print(json.dumps({"peer": "torchvision.ssdlite320_mobilenet_v3_large", "work": f"infer 320x320 batch {batch}",
                          "median_ms": round(med * 1000, 2), "min_ms": round(best * 1000, 2),
                          "per_s": round(batch / med, 3), "threads": a.threads}), flush=True)


if __name__ == "__main__":
    main()
