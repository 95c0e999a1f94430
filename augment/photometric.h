#pragma once
// photometric(p=0.5, brightness=32, contrast=0.5, saturation=0.5, hue=18): SSD-style colour
// distortion. Each of four changes fires independently with probability p:
//   brightness  add delta ~ U(-brightness, brightness) to every channel
//   contrast    multiply by alpha ~ U(1 - contrast, 1 + contrast)
//   saturation  scale chroma by U(1 - saturation, 1 + saturation)
//   hue         rotate chroma by U(-hue, hue) degrees
// Saturation and hue act in YIQ (the chroma plane I, Q), so all four are one affine colour map
// rgb' = M rgb + b, applied in a single pass (cv::transform) with one rounding and clamp at the end.
// In this linear form the order SSD randomises (contrast before or after saturation/hue) does not
// change the result. Pixels only: boxes and to_original are untouched.
#include <memory>

#include <opencv2/core.hpp>

#include "augment/spec.h"
#include "augment/transform.h"

namespace cvtk::augment {

struct PhotometricOptions {
  double p = 0.5;
  double brightness = 32;  // grey levels
  double contrast = 0.5;
  double saturation = 0.5;
  double hue = 18;  // degrees
};

// The 3x4 RGB colour map for the given factors (brightness delta, contrast alpha, saturation factor,
// hue angle in degrees).
cv::Matx34f colour_matrix(double brightness, double contrast, double saturation, double hue_degrees);

class Photometric : public Transform {
 public:
  explicit Photometric(PhotometricOptions options) : o_(options) {}
  Kind kind() const override { return Kind::photometric; }
  std::string name() const override { return "photometric"; }
  std::string describe() const override;
  void apply(Sample& sample, Rng& rng, const Context& context) const override;

 private:
  PhotometricOptions o_;
};

std::shared_ptr<const Transform> make_photometric(const SpecArgs& args);

}  // namespace cvtk::augment
