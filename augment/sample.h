#pragma once
// A Sample is one image on its way through a pipeline: its pixels and boxes in *current* coordinates,
// and the 3x3 matrix that takes a current point back to the original image.
//
// Geometric transforms change the pixels and the boxes together and compose their inverse into
// to_original; pixel-only transforms change pixels only (and boxes only by their declared box policy).
// Boxes that leave the image are clipped to it; boxes that become degenerate (a side below
// kMinBoxSide pixels) are dropped together with their labels and counted in dropped_objects.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "vision/data/annotation.h"

namespace cvtk::augment {

// Boxes whose clipped width or height falls below this many pixels are dropped.
constexpr double kMinBoxSide = 1.0;

struct Sample {
  cv::Mat image;                      // 8-bit RGB, HxWx3, current coordinates
  std::vector<data::Object> objects;  // boxes in current coordinates
  int original_width = 0, original_height = 0;
  cv::Matx33d to_original = cv::Matx33d::eye();  // current (x,y,1) -> original image coordinates
  size_t index = 0;                              // record index in the dataset
  int64_t image_id = 0;                          // ImageRecord::id
  int dropped_objects = 0;                       // boxes dropped as degenerate/occluded by transforms

  int width() const { return image.cols; }
  int height() const { return image.rows; }
};

// A sample holding rec's objects and rgb (CV_8UC3). The original size is rgb's size (the decoded
// pixels are the truth when the annotation disagrees).
Sample make_sample(const data::ImageRecord& rec, size_t index, cv::Mat rgb);

// Maps a box in current coordinates to original coordinates: the bounding box of its 4 mapped corners,
// clipped to the original image.
data::Box to_original(const Sample& sample, const data::Box& box);

// The bounding box of box's 4 corners mapped by m (homogeneous, divided by the third coordinate).
data::Box map_box(const cv::Matx33d& m, const data::Box& box);

// After a geometric change of the pixels: `forward` maps old current coordinates to new ones. Maps
// every box, clips it to the new image (sample.image must already be the new image), drops the ones
// that became degenerate (counting them), and composes forward's inverse into to_original.
void apply_geometry(Sample& sample, const cv::Matx33d& forward);

// Clips every box to the image and drops (and counts) the degenerate ones.
void clip_and_drop(Sample& sample);

}  // namespace cvtk::augment
