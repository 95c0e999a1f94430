#!/usr/bin/env python3
"""COCO evaluation side by side on the COCO-val-sized case, one run: cvtk in-process (eval_bench), `cvtk
eval` as a command, an older build of both when given, and pycocotools when /usr/bin/python3 has it.

Usage: bench/run_eval.py [--build build] [--old-cvtk OLD] [--old-bench OLD] [--runs 7] [--out FILE]
Writes the case once (build/bench/eval_bench --keep), then alternates the programs run by run (A B, B A,
...) so the machine's load falls on each alike, and prints one JSON line per program: median and
fastest wall time, peak resident size (from /usr/bin/time), and for an older build the median of the
per-run ratios new/old. --out also appends the lines to FILE (bench/results/eval.jsonl).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

PYCOCOTOOLS = """
import sys, time
t = time.perf_counter()
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2])
e = COCOeval(gt, dt, "bbox"); e.evaluate(); e.accumulate(); e.summarize()
print("AP", e.stats[0])
"""


def timed(cmd):
    """Wall seconds and peak resident MB of one run of cmd."""
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit("failed: " + " ".join(cmd) + "\n" + r.stderr[-2000:])
    rss = int(re.findall(r"MAXRSS (\d+)", r.stderr)[-1]) / 1024
    return wall, rss, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--old-cvtk")
    ap.add_argument("--old-bench")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out")
    a = ap.parse_args()
    case = tempfile.mkdtemp(prefix="cvtk_eval_case_")
    bench = os.path.join(a.build, "bench", "eval_bench")
    subprocess.run([bench, "--keep", case, "--repeat", "1"], check=True, capture_output=True)
    gt, dets = os.path.join(case, "gt.json"), os.path.join(case, "dets.json")
    size_mb = (os.path.getsize(gt) + os.path.getsize(dets)) / 1e6
    eval_args = ["eval", "--gt", gt, "--dets", dets, "--protocol", "coco"]
    programs = {
        "cvtk eval (command)": [os.path.join(a.build, "apps", "cvtk")] + eval_args,
        # One evaluation per process, so the peak resident size is one evaluation's.
        "cvtk in-process (eval_bench --read, read + evaluate + summarise)": [bench, "--read", case, "--repeat", "1"],
    }
    olds = {}
    if a.old_cvtk:
        programs["old cvtk eval (command)"] = [a.old_cvtk] + eval_args
        olds["cvtk eval (command)"] = "old cvtk eval (command)"
    if a.old_bench:
        # An older eval_bench cannot read a case: it writes its own (same generator) and times three runs.
        programs["old eval_bench (own case, median of 3 in-process runs)"] = [a.old_bench, "--dets-per-image", "120"]
    have_coco = subprocess.run(["/usr/bin/python3", "-c", "import pycocotools"], capture_output=True).returncode == 0
    if have_coco:
        programs["pycocotools COCOeval"] = ["/usr/bin/python3", "-c", PYCOCOTOOLS, gt, dets]
    walls = {k: [] for k in programs}
    rss = {k: 0.0 for k in programs}
    for i in range(a.runs if not have_coco else min(a.runs, 3)):
        order = list(programs) if i % 2 == 0 else list(reversed(programs))
        for name in order:
            w, r, out = timed(programs[name])
            if "eval_bench" in name:  # its own in-process figure, process start and writing excluded
                w = float(re.search(r"median ([0-9.]+) s", out).group(1))
            walls[name].append(w)
            rss[name] = max(rss[name], r)
    lines = []
    cvtk_median = statistics.median(walls["cvtk eval (command)"])
    for name in programs:
        d = {"work": "COCO eval, 5,000 images, 36,950 GT, 600,000 detections (%.0f MB JSON), 2 cores" % size_mb,
             "program": name, "median_s": round(statistics.median(walls[name]), 3),
             "fastest_s": round(min(walls[name]), 3), "peak_rss_mb": round(rss[name]), "runs": len(walls[name])}
        if name in olds:
            d["new_over_old"] = round(statistics.median(
                [n / o for n, o in zip(walls[name], walls[olds[name]])]), 3)
        if name.startswith("pycocotools"):
            d["over_cvtk_command"] = round(statistics.median(walls[name]) / cvtk_median, 1)
        lines.append(json.dumps(d))
    if not have_coco:
        lines.append(json.dumps({"program": "pycocotools COCOeval", "note": "not installed for /usr/bin/python3 on "
                                 "this machine (no Debian package): not run"}))
    print("\n".join(lines))
    if a.out:
        with open(a.out, "a") as f:
            f.write("\n".join(lines) + "\n")
    subprocess.run(["rm", "-rf", case])


if __name__ == "__main__":
    main()
