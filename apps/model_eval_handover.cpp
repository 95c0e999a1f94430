// cvtk's eval --weights: the command line goes to cvtk-models, which has LibTorch.
#include "apps/model_eval.h"
#include "apps/models_program.h"

namespace cvtk::apps {

int run_model_eval_command(const ModelEvalFlags&, const metrics::EvalFilesOptions&) { return hand_over_to_models(); }

}  // namespace cvtk::apps
