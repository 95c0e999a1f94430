#!/usr/bin/env bash
# ThunderNet's inference latency and training throughput next to torchvision's 320 Faster R-CNN
# (fasterrcnn_mobilenet_v3_large_320_fpn), same machine, same thread count, JSON lines.
# Usage: bench/run_detector.sh [threads] [models...]   (build first: scripts/build.sh --target detector_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
shift || true
BUILD_DIR=${BUILD_DIR:-build}
"$BUILD_DIR/bench/detector_bench" --threads "$threads" --n 60 "$@"
if [[ -f ../shared/bench/torchvision_peers.py ]]; then
  /usr/bin/time -f '{"peer": "torchvision (whole script)", "peak_kb": %M}' \
    /usr/bin/python3 ../shared/bench/torchvision_peers.py detector-infer detector-train --threads "$threads" --n 10 2>&1
else
  echo "../shared/bench/torchvision_peers.py not found: no torchvision figures" >&2
fi
