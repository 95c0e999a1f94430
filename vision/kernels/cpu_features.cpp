#include "vision/kernels/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace cvtk::vision {
namespace {

// CVTK_PORTABLE_KERNELS=1 (any value but "" and "0") forces the portable loops for the whole process, so
// the test suite can run once the way a CPU without AVX2 would run it.
bool portable_from_environment() {
  const char* v = std::getenv("CVTK_PORTABLE_KERNELS");
  return v && *v && std::strcmp(v, "0") != 0;
}

std::atomic<bool> forced_portable{portable_from_environment()};

bool cpu_has_avx2_fma() {
#if defined(__GNUC__) && defined(__x86_64__)
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

}  // namespace

bool use_avx2_kernels() { return cpu_has_avx2_fma() && !forced_portable; }

void force_portable_kernels(bool on) { forced_portable = on || portable_from_environment(); }

}  // namespace cvtk::vision
