#pragma once
// The checks every evaluation applies to what it is given in memory (the readers check files; these
// catch what a caller builds itself), with one set of messages: metrics::evaluate and the error
// analysis both use them.
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::metrics::detail {

// Image id -> index in gt.images. std::invalid_argument naming both images when two share an id.
std::unordered_map<int64_t, size_t> index_images(const data::Dataset& gt);

// std::invalid_argument naming the image when an object's label is not one of gt.classes.
void check_object_labels(const data::Dataset& gt);

// Per detection, the index of its image in gt.images. std::invalid_argument naming the detection's
// index for an image id not in the ground truth, a label out of range, a non-finite score or box, or
// a box with x2 < x1 or y2 < y1.
std::vector<size_t> detection_images(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                                     const std::unordered_map<int64_t, size_t>& image_index);

// The mean of the values that are defined (not -1); -1 when none is.
double mean_defined(const std::vector<double>& values);

}  // namespace cvtk::metrics::detail
