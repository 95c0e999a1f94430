#pragma once
// erase(p, sl, sh, r1, fill, value, attempts, mode, boxes, min_visible): Random Erasing
// (Zhong et al., arXiv 1708.04896, Alg. 1 and the detection variants of its section 4.3).
//
// In a region of size W x H (the image, or a box's interior pixels), with probability p: up to
// `attempts` times draw a target area Se = U(sl, sh) W H and an aspect ratio re = U(r1, 1/r1)
// (linear, as in the paper), He = round(sqrt(Se re)), We = round(sqrt(Se / re)); when 1 <= We <= W and
// 1 <= He <= H, the top-left corner is uniform over the positions that fit and the rectangle is
// filled; otherwise try again (after `attempts` failures nothing is erased).
//
// mode=image   one region on the whole image (IRE).
// mode=object  a region inside each box independently, each with probability p (ORE): the box's
//              interior pixels [ceil(x1), floor(x2)) x [ceil(y1), floor(y2)) act as the image.
// mode=both    image, then object (I+ORE).
// fill: random (independent uniform 0..255 per pixel and channel, as the paper), mean (ImageNet mean
// pixel 124, 116, 104), zero, or const (grey level `value`).
// Defaults: p=0.5 sl=0.02 r1=0.3 attempts=100; sh=0.4 in image mode and 0.2 in object/both modes
// (the paper's detection setting).
//
// Pixels only. Box policy (image-mode region): boxes=keep (default) leaves every box; boxes=drop
// drops (and counts) boxes whose visible fraction falls below min_visible. Object-mode regions never
// drop boxes.
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "augment/spec.h"
#include "augment/transform.h"

namespace cvtk::augment {

struct RandomErasingOptions {
  enum class Mode { image, object, both };
  enum class Fill { random, mean, zero, constant };
  double p = 0.5;
  double sl = 0.02;
  double sh = 0.4;
  double r1 = 0.3;
  Fill fill = Fill::random;
  int value = 0;  // grey level for Fill::constant
  int attempts = 100;
  Mode mode = Mode::image;
  bool drop_occluded = false;  // boxes=drop
  double min_visible = 0.5;
};

class RandomErasing : public Transform {
 public:
  explicit RandomErasing(RandomErasingOptions options) : o_(options) {}
  Kind kind() const override { return Kind::occluding; }
  std::string name() const override { return "erase"; }
  std::string describe() const override;
  void apply(Sample& sample, Rng& rng, const Context& context) const override;
  // apply(), returning the rectangles erased (image region first, then one per erased box, in box order).
  std::vector<cv::Rect> erase(Sample& sample, Rng& rng) const;
  const RandomErasingOptions& options() const { return o_; }

 private:
  RandomErasingOptions o_;
};

// One erasing rectangle inside a W x H area (origin 0, 0) by the rule above; empty when every attempt
// failed. Does not draw p.
cv::Rect erasing_region(int width, int height, const RandomErasingOptions& options, Rng& rng);

std::shared_ptr<const Transform> make_random_erasing(const SpecArgs& args);

}  // namespace cvtk::augment
