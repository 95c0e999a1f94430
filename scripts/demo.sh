#!/usr/bin/env bash
# The demo: installs what is missing, builds cvtk, writes the synthetic dataset, checks it and prints
# its statistics. Output goes to ${DEMO_DIR:-runs/demo}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --target cvtk
BUILD_DIR=${BUILD_DIR:-build}
cvtk="$BUILD_DIR/apps/cvtk"
out=${DEMO_DIR:-runs/demo}
rm -rf "$out"
mkdir -p "$out"

echo "== cvtk synth: a synthetic shapes dataset in VOC layout"
"$cvtk" synth "$out/shapes" --train 400 --val 100 --seed 1

echo "== cvtk data check"
"$cvtk" data check "$out/shapes" --decode

echo "== cvtk data stats"
"$cvtk" data stats "$out/shapes" --plot "$out/shapes_stats.png"

echo "demo: outputs in $out"
