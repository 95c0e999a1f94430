#!/usr/bin/env bash
# cvtk's backbone latency next to torchvision's, same machine, same thread count.
# Usage: bench/run_backbones.sh [threads]   (build first: scripts/build.sh --target backbone_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
BUILD_DIR=${BUILD_DIR:-build}
"$BUILD_DIR/bench/backbone_bench" --threads "$threads" --n 10
if [[ -f ../shared/bench/torchvision_peers.py ]]; then
  /usr/bin/python3 ../shared/bench/torchvision_peers.py backbones --threads "$threads" --n 10
else
  echo "../shared/bench/torchvision_peers.py not found: no torchvision figures" >&2
fi
