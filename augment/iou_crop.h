#pragma once
// iou_crop(min_scale=0.3, max_aspect=2, trials=50): SSD's minimum-IoU random crop.
// Draws a mode from {none, 0.1, 0.3, 0.5, 0.7, 0.9}; "none" keeps the image. Otherwise up to `trials`
// times: a crop of width U(min_scale W, W) and height U(min_scale H, H) with height/width in
// [1/max_aspect, max_aspect], at a random position; it is accepted when its IoU with every box is at
// least the mode's value and at least one box centre lies inside it. Boxes whose centre is outside are
// dropped (counted), the others clipped. When every trial fails a new mode is drawn, up to 10 rounds,
// after which the image is kept. Images without boxes are kept.
// Coordinates: x' = x - left, y' = y - top.
#include <memory>

#include "augment/spec.h"
#include "augment/transform.h"

namespace cvtk::augment {

struct IouCropOptions {
  double min_scale = 0.3;
  double max_aspect = 2;
  int trials = 50;
};

class IouCrop : public Transform {
 public:
  explicit IouCrop(IouCropOptions options) : o_(options) {}
  Kind kind() const override { return Kind::geometric; }
  std::string name() const override { return "iou_crop"; }
  std::string describe() const override;
  void apply(Sample& sample, Rng& rng, const Context& context) const override;

 private:
  IouCropOptions o_;
};

std::shared_ptr<const Transform> make_iou_crop(const SpecArgs& args);

}  // namespace cvtk::augment
