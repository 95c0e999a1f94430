#!/usr/bin/env bash
# The demo, cvtk's main job end to end: installs what is missing, builds cvtk, writes a synthetic
# shapes dataset, checks it, trains ThunderNet-SNet49 on it for a few minutes, evaluates the model
# (VOC and COCO mAP, HTML report with PR plots) and draws its predictions. Output goes to
# ${DEMO_DIR:-runs/demo}; DEMO_MINUTES sets the training budget (default 13).
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
"$cvtk" synth "$out/shapes" --train 2000 --val 100 --seed 1

echo "== cvtk data check"
"$cvtk" data check "$out/shapes" --decode

echo "== cvtk data stats"
"$cvtk" data stats "$out/shapes" --plot "$out/shapes_stats.png"

echo "== cvtk augment preview: what the model sees in training"
"$cvtk" augment preview --data "$out/shapes" --split train --pipeline "resize() hflip" --n 16 --size 416 --out "$out/augment"

echo "== cvtk train: ThunderNet-SNet49 from scratch, options chosen from the data, ${DEMO_MINUTES:-13} minutes"
# 2,000 training images: with 400 the model memorised them and validation stalled near 0.7. --time
# plans the epochs so the cosine schedule and the EMA end inside the budget on any machine.
"$cvtk" train --data "$out/shapes" --time "${DEMO_MINUTES:-13}" --out "$out/train" --log-every 25

echo "== cvtk eval: the final weights on the validation split"
"$cvtk" eval --weights "$out/train/last.pt" --data "$out/shapes" --split val --protocol all \
  --html "$out/eval/report.html" --plots "$out/eval/pr" --json "$out/eval/report.json" --save-dets "$out/eval/detections.json"

echo "== cvtk predict: drawn detections"
"$cvtk" predict --weights "$out/train/last.pt" --source "$out/shapes" --split val --out "$out/predict" --score 0.3 --max-drawn 24

echo "demo: outputs in $out (report: $out/eval/report.html, drawings: $out/predict/images)"
