#pragma once
// hflip(p=0.5): mirrors the image left-right with probability p.
// Coordinates: x' = W - x, y' = y (continuous pixel coordinates; pixel column c becomes W - 1 - c).
// Boxes map exactly; to_original is composed with the same (self-inverse) matrix.
#include <memory>

#include "augment/spec.h"
#include "augment/transform.h"

namespace cvtk::augment {

class HFlip : public Transform {
 public:
  explicit HFlip(double p = 0.5) : p_(p) {}
  Kind kind() const override { return Kind::geometric; }
  std::string name() const override { return "hflip"; }
  std::string describe() const override;
  void apply(Sample& sample, Rng& rng, const Context& context) const override;

 private:
  double p_;
};

std::shared_ptr<const Transform> make_hflip(const SpecArgs& args);

}  // namespace cvtk::augment
