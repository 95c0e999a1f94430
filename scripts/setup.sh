#!/usr/bin/env bash
# Installs every Debian package cvtk needs, if missing. Idempotent; silent when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format util-linux
  libtorch-dev libopenblas0-openmp libgloo-dev
  libopencv-dev libjpeg62-turbo-dev libtbb-dev libcli11-dev libgtest-dev
  nlohmann-json3-dev libsimdjson-dev libpugixml-dev
  python3 python3-torchvision python3-numpy
  chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup.sh: done"
