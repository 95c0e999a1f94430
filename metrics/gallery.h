#pragma once
// The report's gallery: per class the worst false positives (highest scores first) and the missed
// objects (largest first) as small JPEG crops with the ground truth (green) and the prediction (red)
// drawn, and the images with the most errors (false positives + missed objects) drawn whole. The
// errors are those of the error analysis (error_analysis.h) it is given.
//
// Images are read from the ground truth (Dataset::image_root / ImageRecord::file), each once, and
// embedded as base64 data: URIs, so the section needs nothing beside the page. An image that cannot be
// read (missing, damaged, over data::max_image_pixels()) is named in its item's place with the reason;
// it never fails the report. Every dataset string is HTML-escaped.
#include <cstddef>
#include <string>
#include <vector>

#include "metrics/error_analysis.h"
#include "vision/data/annotation.h"

namespace cvtk::metrics {

struct GalleryOptions {
  size_t per_class = 6;     // false positives shown per class, and missed objects per class
  size_t worst_images = 6;  // images with the most errors
  int crop_side = 128;      // a crop's longer side, px
  int image_side = 300;     // a worst image's longer side, px
  int jpeg_quality = 70;    // OpenCV's IMWRITE_JPEG_QUALITY
  double context = 0.6;     // margin around the boxes on each side, as a fraction of their larger side
};

// The gallery as an HTML fragment (headings, figures). `errors` must come from analyze_errors on
// exactly this ground truth and these detections.
std::string gallery_html(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections,
                         const ErrorBreakdown& errors, const GalleryOptions& options = {});

}  // namespace cvtk::metrics
