#pragma once
// The evaluator's one entry point, used in memory by the trainer and by `cvtk eval`.
//
// Detections refer to ground-truth images by ImageRecord::id and to classes by label. Boxes are
// continuous pixel coordinates of the original image (DESIGN.md §3). The result does not depend on
// the order of images in the dataset or on the thread count; it depends on the order of detections
// only among equal scores, exactly as the reference tools do (stable order: file order within an
// image, then image id order).
#include <vector>

#include "metrics/protocol.h"
#include "metrics/report.h"
#include "vision/data/annotation.h"

namespace cvtk::metrics {

// Throws std::invalid_argument for two ground-truth images with one id, and for a detection whose image
// id is not in the ground truth, whose label is out of range, or whose score or box is not finite
// (naming the detection's index). Report::images_with_detections counts the images the detections
// cover, with a warning when that is not all of them.
Report evaluate(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections,
                const Protocol& protocol);

}  // namespace cvtk::metrics
