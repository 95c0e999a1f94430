#include "augment/pipeline.h"

#include <stdexcept>
#include <utility>

#include "augment/registry.h"
#include "augment/resize.h"
#include "augment/spec.h"

namespace cvtk::augment {
namespace {
const std::vector<std::pair<std::string, std::string>>& presets() {
  static const std::vector<std::pair<std::string, std::string>> list = {
      {"thundernet-train",
       "photometric(p=0.5) expand(p=0.5,max_ratio=4) iou_crop() resize(mode=stretch,interp=bilinear) hflip(p=0.5)"},
      {"thundernet-train-erase",
       "photometric(p=0.5) expand(p=0.5,max_ratio=4) iou_crop() resize(mode=stretch,interp=bilinear) hflip(p=0.5) "
       "erase(p=0.5,mode=object)"},
      {"eval", "resize(mode=stretch,interp=bilinear)"},
  };
  return list;
}
}  // namespace

void Pipeline::apply(Sample& sample, Rng& rng, const Context& context, size_t first) const {
  for (size_t i = first; i < transforms_.size(); ++i) transforms_[i]->apply(sample, rng, context);
}

cv::Size Pipeline::leading_stretch(const Context& context) const {
  if (transforms_.empty()) return {};
  const auto* resize = dynamic_cast<const Resize*>(transforms_.front().get());
  return resize ? resize->fixed_stretch(context) : cv::Size();
}

std::string Pipeline::describe() const {
  std::string s;
  for (const auto& t : transforms_) s += t->describe() + "\n";
  return s;
}

std::string Pipeline::spec() const {
  std::string s;
  for (const auto& t : transforms_) s += (s.empty() ? "" : " ") + t->describe();
  return s;
}

Pipeline parse_pipeline(const std::string& spec) {
  Pipeline p;
  for (const SpecArgs& a : parse_spec_tokens(spec)) p.add(make_transform(a));
  if (p.empty()) throw std::invalid_argument("empty pipeline spec");
  return p;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& kv : presets()) names.push_back(kv.first);
  return names;
}

std::string preset_spec(const std::string& name) {
  for (const auto& kv : presets())
    if (kv.first == name) return kv.second;
  std::string names;
  for (const auto& kv : presets()) names += (names.empty() ? "" : ", ") + kv.first;
  throw std::invalid_argument("unknown preset '" + name + "' (known: " + names + ")");
}

Pipeline preset(const std::string& name) { return parse_pipeline(preset_spec(name)); }

Pipeline pipeline_from_text(const std::string& text) {
  for (const auto& kv : presets())
    if (kv.first == text) return parse_pipeline(kv.second);
  try {
    return parse_pipeline(text);
  } catch (const std::invalid_argument& e) {
    // One bare word that is no transform was most likely meant as a preset.
    const bool one_word = !text.empty() && text.find_first_of(" \t()") == std::string::npos;
    if (!one_word) throw;
    std::string names;
    for (const auto& kv : presets()) names += (names.empty() ? "" : ", ") + kv.first;
    throw std::invalid_argument("'" + text + "' is neither a preset (" + names +
                                ") nor a transform (cvtk augment list)");
  }
}

}  // namespace cvtk::augment
