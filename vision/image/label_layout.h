#pragma once
// Where the labels of drawn boxes go, so that they stay inside the image and do not cover each other.
//
// Pure geometry in integer image pixels (x right, y down, a cv::Rect covers [x, x + width) x
// [y, y + height)); no drawing. Labels are placed greedily, highest score first (ties keep the input
// order), each at the first free position among, in this order: just above its box, inside the box
// along its top edge, just below it; then the same three shifted sideways past the labels already
// placed, or stacked outwards by whole label heights. A position counts only when it lies inside the
// image as it is; when none is free, the one covering the least label area is taken. Every result lies
// inside the image: a label wider or taller than the image is cut to it.
#include <vector>

#include <opencv2/core.hpp>

namespace cvtk::image {

struct LabelRequest {
  cv::Rect box;       // the box the label names, in image pixels (may reach outside the image)
  cv::Size size;      // the label's size in pixels, background included
  double score = -1;  // placement priority: higher first
};

// One rectangle per request, in the requests' order, each request.size (cut to the image when larger),
// inside [0, image.width) x [0, image.height). An empty image gives empty rectangles.
std::vector<cv::Rect> place_labels(const std::vector<LabelRequest>& labels, cv::Size image);

}  // namespace cvtk::image
