#!/usr/bin/env bash
# The whole suite built with AddressSanitizer and UndefinedBehaviorSanitizer (CVTK_SANITIZE), in
# ${SANITIZE_BUILD_DIR:-build-sanitize}. Any sanitizer report fails the test that triggered it.
# LibTorch itself is not instrumented; leak checking is off because its static registries are
# never freed, and the vptr check is off because LibTorch's classes are compiled without the type
# information it needs. CTEST_ARGS adds CTest flags; SANITIZE_TARGETS builds only those targets (then
# give CTEST_ARGS that select their tests, e.g. SANITIZE_TARGETS="cvtk_metrics_tests" CTEST_ARGS="-L
# torch_free"). The whole suite took 64 min on a 2-core machine under other load (44 to build, 20 to run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${SANITIZE_BUILD_DIR:-build-sanitize}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCVTK_SANITIZE=ON \
    -DCVTK_BUILD_BENCH=OFF >/dev/null
fi
if [[ -n "${SANITIZE_TARGETS:-}" ]]; then
  # shellcheck disable=SC2086  # a list of target names
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target ${SANITIZE_TARGETS}
else
  cmake --build "$BUILD_DIR" -j"$(nproc)"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:detect_odr_violation=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" ${CTEST_ARGS:-}
echo "sanitize.sh: all tests passed under ASan + UBSan"
