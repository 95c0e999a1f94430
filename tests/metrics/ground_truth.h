#pragma once
// Ground truth built in memory for the evaluator's tests: `images` 200x200 images with ids 1..images,
// classes c0..c(classes-1), and objects added by hand.
#include <string>

#include "vision/data/annotation.h"

namespace cvtk::testing {

inline data::Dataset make_gt(int images, int classes) {
  data::Dataset ds;
  for (int k = 0; k < classes; ++k) ds.classes.push_back("c" + std::to_string(k));
  for (int i = 0; i < images; ++i) {
    data::ImageRecord r;
    r.id = i + 1;
    r.name = "im" + std::to_string(i);
    r.width = 200;
    r.height = 200;
    ds.images.push_back(r);
  }
  return ds;
}

// An object of class `label`; area -1 lets the evaluator use the box's.
inline data::Object obj(data::Box b, int label = 0, bool difficult = false, bool crowd = false, double area = -1) {
  data::Object o;
  o.box = b;
  o.label = label;
  o.difficult = difficult;
  o.crowd = crowd;
  o.area = area;
  o.id = 1;
  return o;
}

}  // namespace cvtk::testing
