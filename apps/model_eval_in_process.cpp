// cvtk-models' eval --weights: the model runs in this process.
#include <iostream>

#include "apps/model_eval.h"
#include "detection/run_model.h"

namespace cvtk::apps {

int run_model_eval_command(const ModelEvalFlags& flags, const metrics::EvalFilesOptions& eval) {
  detection::ModelEvalOptions m;
  m.weights = flags.weights;
  m.eval = eval;
  m.save_detections = flags.save_dets;
  m.size = flags.size;
  m.soft_nms = flags.soft_nms;
  return detection::run_model_eval(m, std::cout);
}

}  // namespace cvtk::apps
