#pragma once
// expand(p=0.5, max_ratio=4, fill=mean): SSD zoom-out. With probability p, places the image at a
// random position on a canvas r times its size, r ~ U(1, max_ratio), filled with the ImageNet mean
// pixel (124, 116, 104) or zero. Coordinates: x' = x + left, y' = y + top (a pure translation);
// boxes map exactly, none is dropped.
#include <memory>

#include "augment/spec.h"
#include "augment/transform.h"

namespace cvtk::augment {

struct ExpandOptions {
  double p = 0.5;
  double max_ratio = 4;
  bool mean_fill = true;  // false: zero
};

class Expand : public Transform {
 public:
  explicit Expand(ExpandOptions options) : o_(options) {}
  Kind kind() const override { return Kind::geometric; }
  std::string name() const override { return "expand"; }
  std::string describe() const override;
  void apply(Sample& sample, Rng& rng, const Context& context) const override;

 private:
  ExpandOptions o_;
};

std::shared_ptr<const Transform> make_expand(const SpecArgs& args);

}  // namespace cvtk::augment
