#pragma once
// Detections of a validation set sharded over the ranks (sharded_sampler.h validation_shard), merged
// into the list one process would have produced: every rank's detections, ordered by the position
// of their image in the full set, each image's detections in the model's order.
#include <vector>

#include "detection/distributed/process_group.h"
#include "vision/data/annotation.h"

namespace cvtk::detection::distributed {

// positions: for each image of this rank's shard, its position in the full set; `mine` must refer
// to those images only, by ImageRecord::id (ids unique within the set). Every rank receives the
// merged list (values travel as float64, so they arrive unchanged).
std::vector<data::Detection> gather_detections(ProcessGroup& group, const data::Dataset& full,
                                               const std::vector<size_t>& positions,
                                               const std::vector<data::Detection>& mine);

}  // namespace cvtk::detection::distributed
