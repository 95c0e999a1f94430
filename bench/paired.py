#!/usr/bin/env python3
"""Two builds of one benchmark program, run in turn (A B, B A, ...), compared pair by pair.

Usage: bench/paired.py OLD_BINARY NEW_BINARY "ARGS" PAIRS
  e.g. bench/paired.py old/detector_bench build/bench/detector_bench "--threads 2 --n 100 --infer-only" 6

Each run prints JSON lines with "peer", "work" and "median_ms" (detector_bench, backbone_bench). For
each (peer, work) this prints both medians and the median of the per-pair ratios new/old: on a shared
machine the ratio of two runs made one after the other holds better than either absolute figure.
"""
import json
import statistics
import subprocess
import sys


def run(binary, args):
    out = subprocess.run([binary] + args, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "median_ms" in d:
            yield (d["peer"], d["work"]), d["median_ms"]


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    old, new, args, pairs = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4])
    figures = {}
    for i in range(pairs):
        order = [("old", old), ("new", new)] if i % 2 == 0 else [("new", new), ("old", old)]
        for tag, binary in order:
            for key, ms in run(binary, args):
                figures.setdefault(key, {}).setdefault(tag, []).append(ms)
    for (peer, work), v in figures.items():
        if "old" not in v or "new" not in v:  # a figure only one build prints: nothing to pair
            continue
        ratios = [b / a for a, b in zip(v["old"], v["new"])]
        print(json.dumps({"peer": peer, "work": work, "old_median_ms": statistics.median(v["old"]),
                          "new_median_ms": statistics.median(v["new"]),
                          "new_over_old": round(statistics.median(ratios), 3), "pairs": len(ratios)}))


if __name__ == "__main__":
    main()
