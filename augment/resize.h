#pragma once
// resize(W, H, interp=bilinear, mode=stretch, pad=114) | resize(S) | resize(scale=F) | resize() (=
// resize(size=context)): the output transform. Size: explicit W x H (resize(S) is S x S), or the input size times
// `scale` (output size floor(n * scale), as torch's interpolate(scale_factor) computes it; pixel coordinates then use
// n_out / n_in, as interpolate(size=) does), or with neither, the batch's Context size.
//
// mode=stretch scales x by W'/W and y by H'/H independently. mode=letterbox keeps the aspect ratio:
// s = min(W'/W, H'/H), the image is scaled to round(W s) x round(H s) and centred on a W' x H' canvas
// filled with grey level `pad`. Coordinates: x' = x * sx + left, y' = y * sy + top; boxes map exactly
// and to_original is composed with the inverse.
//
// Interpolation (see resize_image): nearest computes torch's index rule (float32 scale
// n_in / n_out, floor(d * scale)) so it equals torch::nn::functional::interpolate(mode=nearest) bit
// for bit; bilinear (half-pixel centres, align_corners=false), bicubic (A = -0.75), area and lanczos
// are OpenCV's INTER_LINEAR, INTER_CUBIC, INTER_AREA and INTER_LANCZOS4 on uint8.
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "augment/spec.h"
#include "augment/transform.h"

namespace cvtk::augment {

enum class Interp { nearest, bilinear, bicubic, area, lanczos };

Interp parse_interp(const std::string& name);  // throws std::invalid_argument
std::string interp_name(Interp interp);

// Resizes an image of any type to dsize with the rules above.
cv::Mat resize_image(const cv::Mat& src, cv::Size dsize, Interp interp);

struct ResizeOptions {
  int width = 0, height = 0;  // 0: use scale, or the Context size
  double scale = 0;           // > 0: output size floor(input size * scale)
  Interp interp = Interp::bilinear;
  bool letterbox = false;
  int pad = 114;  // letterbox fill, grey level
};

// The geometry of a stretch: sample.image has just been stretched from `from` to its current size by
// any means; maps the boxes and composes to_original exactly as Resize::apply does for mode=stretch.
void finish_stretch(Sample& sample, cv::Size from);

class Resize : public Transform {
 public:
  explicit Resize(ResizeOptions options) : o_(options) {}
  Kind kind() const override { return Kind::output; }
  std::string name() const override { return "resize"; }
  std::string describe() const override;
  void apply(Sample& sample, Rng& rng, const Context& context) const override;
  const ResizeOptions& options() const { return o_; }
  // The size apply() stretches every image to for `context` when that is all it does and it needs no
  // pixels to decide (mode=stretch, interp=bilinear, an explicit or the context size), else 0x0: a
  // decoder may then produce the stretched image itself (see Pipeline::leading_stretch).
  cv::Size fixed_stretch(const Context& context) const;

 private:
  ResizeOptions o_;
};

std::shared_ptr<const Transform> make_resize(const SpecArgs& args);

}  // namespace cvtk::augment
