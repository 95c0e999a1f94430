#pragma once
// `cvtk eval --weights`: the flags that only running a model needs, and the one call eval_command.cpp
// makes with them. cvtk-models runs the checkpoint on the ground truth's images (detection/run_model.h);
// the LibTorch-free cvtk hands the command line over to cvtk-models (apps/models_program.h), which
// parses it again, so both programs accept and reject exactly the same flags.
#include <string>

#include "metrics/eval_files.h"

namespace cvtk::apps {

struct ModelEvalFlags {
  std::string weights;    // checkpoint
  std::string save_dets;  // COCO results JSON of the model's detections ("" = none)
  int size = 0;           // input side; 0: the checkpoint's
  bool soft_nms = false;
};

// The process exit code.
int run_model_eval_command(const ModelEvalFlags& flags, const metrics::EvalFilesOptions& eval);

}  // namespace cvtk::apps
