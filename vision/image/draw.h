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

// Sizes of drawn boxes and labels for an image, from its shorter side: font scale (cv::FONT_HERSHEY_SIMPLEX),
// stroke widths and the padding around label text, in pixels.
struct LabelStyle {
  double font_scale = 0.4;
  int text_thickness = 1;
  int box_thickness = 2;
  int padding = 1;
};
LabelStyle label_style(cv::Size image);

// Black or white, whichever contrasts more with an RGB background (WCAG relative luminance).
cv::Scalar ink_for(const cv::Scalar& background);

// Draws each box as a rectangle in its class colour, then each label (and score) in black or white
// text on a filled background of that colour, placed by place_labels (label_layout.h): above the box,
// else inside its top, else below, never over another label where a free place exists, always inside
// the image. Sizes follow label_style(rgb.size()). Higher scores are drawn over lower ones. rgb must
// be CV_8UC3; boxes may reach outside it.
void draw_boxes(cv::Mat& rgb, const std::vector<DrawBox>& boxes);

// Tiles images row by row, `columns` per row, each in a cell the size of the largest image (smaller
// ones sit at the cell's top-left on black). Images must all be CV_8UC3. Empty input gives an empty Mat.
cv::Mat mosaic(const std::vector<cv::Mat>& images, int columns);

}  // namespace cvtk::image
