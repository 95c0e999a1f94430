#include "vision/nn/cpu_features.h"

#include <atomic>

namespace cvtk::vision {
namespace {

std::atomic<bool> forced_portable{false};

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

void force_portable_kernels(bool on) { forced_portable = on; }

}  // namespace cvtk::vision
