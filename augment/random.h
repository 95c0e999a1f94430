#pragma once
// The random stream of one sample (or one batch decision): a 64-bit Mersenne Twister seeded from
// (seed, epoch, index, stream) mixed with splitmix64, so every stream is independent of how many
// threads run and in which order. Draws are computed with fixed formulas (not <random>'s
// distributions), so they are the same with any standard library.
//
// Streams used by cvtk: 0 = the augmentation of dataset record `index` in `epoch`;
// 1 = the size chosen for batch `index`; 2 = the shuffle of an epoch (index 0); 3 = the anchor and RoI
// sampling of record `index` at training step `epoch` (detection/train_session.h training_targets).
#include <cstdint>
#include <random>

namespace cvtk::augment {

uint64_t splitmix64(uint64_t x);

class Rng {
 public:
  Rng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream = 0);

  uint64_t next() { return engine_(); }
  // Uniform in [a, b).
  double uniform(double a = 0.0, double b = 1.0);
  // True with probability p.
  bool bernoulli(double p) { return uniform() < p; }
  // Uniform integer in [lo, hi] (inclusive; lo when hi < lo).
  int64_t integer(int64_t lo, int64_t hi);

 private:
  std::mt19937_64 engine_;
};

}  // namespace cvtk::augment
