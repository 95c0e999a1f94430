#!/usr/bin/env bash
# ThunderNet's inference latency (batch 1), throughput (batch 8) and training throughput next to
# torchvision's 320 Faster R-CNN (fasterrcnn_mobilenet_v3_large_320_fpn) and SSDlite
# (ssdlite320_mobilenet_v3_large), same machine, same thread count, JSON lines on stdout and in
# bench/results/detector.jsonl (this script regenerates that file).
# Usage: bench/run_detector.sh [threads] [models...]   (build first: scripts/build.sh --target detector_bench)
#        default models: thundernet-snet49 thundernet-snet146 thundernet-snet535
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
shift || true
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(thundernet-snet49 thundernet-snet146 thundernet-snet535)
BUILD_DIR=${BUILD_DIR:-build}
out=bench/results/detector.jsonl
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$BUILD_DIR/bench/detector_bench" --threads "$threads" --n 100 "${models[@]}" | tee -a "$tmp"
/usr/bin/python3 bench/detector_peers.py --threads "$threads" --n 30 | tee -a "$tmp"
if [[ -f ../shared/bench/torchvision_peers.py ]]; then
  /usr/bin/time -f '{"peer": "torchvision (whole script)", "peak_kb": %M}' \
    /usr/bin/python3 ../shared/bench/torchvision_peers.py detector-infer detector-train --threads "$threads" --n 10 \
    2>&1 | tee -a "$tmp"
else
  echo "../shared/bench/torchvision_peers.py not found: no Faster R-CNN figures" >&2
fi
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
