#!/usr/bin/env bash
# Configures and builds cvtk (Release) in ${BUILD_DIR:-build}. Extra arguments go to the build step,
# e.g. `scripts/build.sh --target cvtk`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# CMAKE_ARGS (e.g. -DCVTK_WERROR=ON) configures again, also an existing build directory.
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" || -n "${CMAKE_ARGS:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" "$@"
