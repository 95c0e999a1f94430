#pragma once
// Validation inside a training run: the checkpoint about to be written, run exactly as
// `cvtk eval --weights` runs it (checkpoint.h inference_model: a fresh model from these weights,
// optimised for inference, with the inference options the checkpoint stores). The training model
// itself is never run in eval mode, so nothing it caches between calls (merged weights, folded
// BatchNorms) can go stale, and the figures are the ones a later evaluation of last.pt gives.
#include "detection/checkpoint.h"
#include "detection/train_log.h"
#include "vision/data/dataset_io.h"

namespace cvtk::detection {

namespace distributed {
class ProcessGroup;
}

// VOC (all-point) and VOC07 mAP@0.5, COCO AP and AP50 on `val`. batch and threads as prediction uses them.
// With a process group of several ranks (each passing the same weights), each rank predicts whole
// batches b with b % world == rank, the detections are gathered in the single-process order and rank
// 0 computes the figures (equal to one process's: the same batches, the same order); other ranks
// return -1 figures. detections (when given) receives what the figures were computed from (rank 0).
Validation validate(const ModelInfo& info, const vision::StateDict& weights, const data::Dataset& val, int batch,
                    int threads, torch::Device device, distributed::ProcessGroup* group = nullptr,
                    std::vector<data::Detection>* detections = nullptr);

}  // namespace cvtk::detection
