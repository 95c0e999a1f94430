#pragma once
// The COCO results reader's fast path (read_coco_results, detections_io.h, has the contract): one
// strict pass over the mapped file straight into Detections, in parallel over stretches of the array,
// without building a document tree (a tree of a 600,000-detection file is larger than the file).
//
// It takes only the common shape: a top-level array of objects whose image_id and category_id are
// integers, bbox four numbers and score a number, other members any JSON value without escapes or
// non-ASCII bytes in their strings. For such a file it gives exactly the general reader's result: the
// same doubles (both round every number correctly; an integer becomes the double the general reader
// converts it to), the same counts. It declines (nullopt) everything else: a string image_id, a
// duplicate member, anything the general reader would report as an error. The general reader then
// reads the file, and its messages name the file, the entry, the field and the byte position.
#include <filesystem>
#include <optional>

#include "vision/data/detections_io.h"

namespace cvtk::data::detail {

std::optional<DetectionSet> read_coco_results_fast(const std::filesystem::path& file, const Dataset& ground_truth,
                                                   const DetectionReadOptions& options);

// The general reader (a simdjson document tree) read_coco_results falls back to; the tests hold the
// fast path to it.
DetectionSet read_coco_results_general(const std::filesystem::path& file, const Dataset& ground_truth,
                                       const DetectionReadOptions& options);

}  // namespace cvtk::data::detail
