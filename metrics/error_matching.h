#pragma once
// The matching the error analysis shares (error_analysis.h, steps 1 and 2): detections listed per image,
// COCOeval's greedy match at t_f with per-object flags, TIDE's typing of each false positive, and the
// ranking the oracles walk. Internal to metrics/: tide.cpp, score_curves.cpp, confusion_matrix.cpp.
//
// Boxes are continuous pixel x1, y1, x2, y2 (annotation.h); indices are into gt.images, each image's
// objects and the input detections.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "metrics/error_analysis.h"

namespace cvtk::metrics::detail {

// COCOeval's IoU (maskApi.c bbIou) with its operation order, so the baseline reproduces its AP50 to
// the last bit; crowd regions divide by the detection's area.
double box_iou(const data::Box& d, const data::Box& g, bool crowd);

inline bool is_ignored(const data::Object& o) { return o.crowd || o.difficult; }

// Per detection: the index of its image in gt.images, after metrics::evaluate's checks.
std::vector<uint32_t> check_input(const data::Dataset& gt, const std::vector<data::Detection>& dets);

// Images in ascending id (COCOeval's accumulation order, which decides ties between equal scores) and
// each image's detections in descending score, ties in input order.
struct ImageLists {
  std::vector<uint32_t> order;  // indices into gt.images
  std::vector<size_t> begin;    // per position in order: the image's first entry in dets (one more at the end)
  std::vector<uint32_t> dets;
};

// Keeps detections with score >= min_score, then at most max_per_image (0: all) per image.
ImageLists list_by_image(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                         const std::vector<uint32_t>& det_image, double min_score, int max_per_image);

// Per-object flags, in one byte per object of the dataset.
enum ObjectFlag : uint8_t { kMatched = 1, kTargeted = 2, kLocClaimed = 4, kClsClaimed = 8 };

// Step 1 and 2 of analyze_errors, and what the oracles need from them.
struct Matching {
  const data::Dataset* gt = nullptr;
  const std::vector<data::Detection>* dets = nullptr;
  double t_match = 0.5, t_background = 0.1;
  ImageLists lists;
  std::vector<size_t> object_begin;  // per gt.images index: its first object in `flags`
  std::vector<uint8_t> flags;
  std::vector<DetectionOutcome> outcomes;
  std::vector<char> fix_wins;  // Loc / Cls error whose fix makes it a true positive
  std::vector<double> ious;    // one image's detection x object IoUs, reused
};

// Checks the options and input (std::invalid_argument), lists every detection, matches it and, with
// type_errors, types each false positive.
Matching match(const data::Dataset& gt, const std::vector<data::Detection>& dets, const ErrorOptions& o,
               bool type_errors);

// The true and false positives in COCOeval's accumulation order: descending score, ties in the image
// lists' order (ascending image id, then input order).
std::vector<uint32_t> ranking(const Matching& m);

}  // namespace cvtk::metrics::detail
