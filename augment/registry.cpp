#include "augment/registry.h"

#include <stdexcept>

#include "augment/expand.h"
#include "augment/hflip.h"
#include "augment/iou_crop.h"
#include "augment/photometric.h"
#include "augment/random_erasing.h"
#include "augment/resize.h"

namespace cvtk::augment {

const std::vector<TransformInfo>& transform_registry() {
  using K = Transform::Kind;
  static const std::vector<TransformInfo> list = {
      {"photometric", K::photometric, "SSD colour distortion: brightness, contrast, saturation, hue in one pass",
       "photometric(p=0.5)", make_photometric},
      {"expand", K::geometric, "SSD zoom-out onto a mean-filled canvas up to max_ratio times larger",
       "expand(p=0.5,max_ratio=4)", make_expand},
      {"iou_crop", K::geometric, "SSD random crop with a minimum IoU to every box; keeps boxes whose centre is inside",
       "iou_crop()", make_iou_crop},
      {"hflip", K::geometric, "left-right mirror with probability p", "hflip(p=0.5)", make_hflip},
      {"erase", K::occluding, "Random Erasing (Zhong et al.) on the image, inside each box, or both",
       "erase(p=0.5,mode=both)", make_random_erasing},
      {"resize", K::output, "resize to a size, a scale, or the batch size; stretch or letterbox",
       "resize(320,320,interp=bilinear)", make_resize},
  };
  return list;
}

std::shared_ptr<const Transform> make_transform(const SpecArgs& args) {
  for (const TransformInfo& t : transform_registry())
    if (t.name == args.name) return t.make(args);
  std::string names;
  for (const TransformInfo& t : transform_registry()) names += (names.empty() ? "" : ", ") + t.name;
  args.fail("unknown transform '" + args.name + "' (known: " + names + ")");
}

}  // namespace cvtk::augment
