#pragma once
// Drawing boxes and labels on RGB images, and tiling images into one.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "vision/data/annotation.h"

namespace cvtk::image {

struct DrawBox {
  data::Box box;        // in the image's pixel coordinates
  std::string label;    // drawn above the box; may be empty
  double score = -1;    // drawn after the label with 2 decimals when >= 0
  int class_index = 0;  // picks the colour from a fixed palette
};

// The palette colour (RGB) of a class index.
cv::Scalar class_colour(int class_index);

// Draws each box as a 2-pixel rectangle in its class colour, with its label (and score) in white or
// black text on a filled background of the same colour. rgb must be CV_8UC3.
void draw_boxes(cv::Mat& rgb, const std::vector<DrawBox>& boxes);

// Tiles images row by row, `columns` per row, each in a cell the size of the largest image (smaller
// ones sit at the cell's top-left on black). Images must all be CV_8UC3. Empty input gives an empty Mat.
cv::Mat mosaic(const std::vector<cv::Mat>& images, int columns);

}  // namespace cvtk::image
