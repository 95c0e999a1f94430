#include "augment/random.h"

namespace cvtk::augment {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

Rng::Rng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ epoch);
  h = splitmix64(h ^ index);
  h = splitmix64(h ^ stream);
  engine_.seed(h);
}

double Rng::uniform(double a, double b) {
  const double u = static_cast<double>(engine_() >> 11) * 0x1.0p-53;  // [0, 1)
  return a + (b - a) * u;
}

int64_t Rng::integer(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
  if (range == 0) return static_cast<int64_t>(engine_());
  // Rejection sampling: unbiased.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t x;
  do x = engine_();
  while (x >= limit);
  return lo + static_cast<int64_t>(x % range);
}

}  // namespace cvtk::augment
