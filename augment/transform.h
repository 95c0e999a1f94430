#pragma once
// The interface every transform implements. A transform states its kind, its name in pipeline specs,
// and all its resolved parameters in one line (describe()), and changes a Sample in place drawing
// its randomness only from the Rng it is given.
//
// Kinds and what they may change:
//   photometric  pixels only; boxes and to_original untouched
//   geometric    pixels, boxes (mapped through the same matrix as the pixels, clipped, degenerate
//                ones dropped) and to_original (composed with the inverse of that matrix)
//   occluding    pixels; boxes only through a declared box policy (dropping occluded boxes)
//   output       geometric, and fixes the output size (resize)
#include <string>

#include "augment/random.h"
#include "augment/sample.h"

namespace cvtk::augment {

// Per-batch settings a transform may read: the target size chosen for the batch (used by a resize
// with no explicit size).
struct Context {
  int width = 0, height = 0;
};

class Transform {
 public:
  enum class Kind { photometric, geometric, occluding, output };

  virtual ~Transform() = default;
  virtual Kind kind() const = 0;
  virtual std::string name() const = 0;
  // One line: the name and every resolved parameter, in spec syntax.
  virtual std::string describe() const = 0;
  virtual void apply(Sample& sample, Rng& rng, const Context& context) const = 0;
};

const char* kind_name(Transform::Kind kind);

// Formats a number for describe(): up to 6 significant digits ("0.5", "32", "0.333333").
std::string format_number(double v);

}  // namespace cvtk::augment
