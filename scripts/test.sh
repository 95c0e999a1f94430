#!/usr/bin/env bash
# The test command: installs what is missing, builds everything, runs every test (CTest), and exits
# non-zero on any failure. CTEST_ARGS adds CTest flags (e.g. CTEST_ARGS="-LE long" to skip long tests).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" ${CTEST_ARGS:-}
echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
