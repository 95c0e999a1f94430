#pragma once
// A pipeline is an ordered list of transforms applied to a sample in turn, built from a text spec
// (see spec.h), e.g. `hflip(p=0.5) erase(p=0.5,mode=object) resize(320,320,interp=bilinear)`, or
// taken from a named preset:
//   thundernet-train        photometric expand iou_crop resize(context size, stretch) hflip(p=0.5)
//   thundernet-train-erase  the same, then erase(mode=object)
//   eval                    resize(context size, stretch, bilinear)
#include <memory>
#include <string>
#include <vector>

#include "augment/transform.h"

namespace cvtk::augment {

class Pipeline {
 public:
  Pipeline() = default;
  explicit Pipeline(std::vector<std::shared_ptr<const Transform>> transforms) : transforms_(std::move(transforms)) {}

  void add(std::shared_ptr<const Transform> t) { transforms_.push_back(std::move(t)); }
  // Applies transforms first, first + 1, ... in turn.
  void apply(Sample& sample, Rng& rng, const Context& context, size_t first = 0) const;
  // The size the first transform stretches every image to, when it is a Resize with a fixed_stretch
  // for `context`; else 0x0. A loader may then decode straight to that size
  // (image::decode_image_resized), call finish_stretch with the stored size, and apply from the
  // second transform: a resize draws no random numbers, so every later transform sees the same stream
  // and the same geometry, and only the pixels differ, by the decoder's rounding.
  cv::Size leading_stretch(const Context& context) const;
  // One describe() line per transform.
  std::string describe() const;
  // The spec that builds this pipeline again (describe() lines joined by spaces).
  std::string spec() const;
  const std::vector<std::shared_ptr<const Transform>>& transforms() const { return transforms_; }
  bool empty() const { return transforms_.empty(); }
  size_t size() const { return transforms_.size(); }

 private:
  std::vector<std::shared_ptr<const Transform>> transforms_;
};

// Builds a pipeline from a spec; std::invalid_argument quoting the bad token.
Pipeline parse_pipeline(const std::string& spec);
// A named preset; std::invalid_argument listing the names when unknown.
Pipeline preset(const std::string& name);
std::vector<std::string> preset_names();
// The spec text of a preset.
std::string preset_spec(const std::string& name);
// A preset name or a spec.
Pipeline pipeline_from_text(const std::string& text);

}  // namespace cvtk::augment
