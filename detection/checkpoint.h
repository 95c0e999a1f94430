#pragma once
// Checkpoints: everything a resumed run needs, and everything `cvtk predict` / `cvtk eval --weights`
// need to rebuild the model, in one file written atomically (temporary file, then rename).
//
// Layout (torch::serialize archive): "format" = "cvtk-checkpoint", "version" = 1, the model description
// (name, classes, head width), the inference options (detection/inference_options.h: "size" and
// "inference_*" entries; checkpoints written before those entries existed read the defaults with their
// "size"), training state (completed epochs, optimisation steps,
// batches done in the current epoch, best metric, world size: 1 when absent), the resolved options as config text, the
// default CPU generator's state, and sub-archives "model", "ema" (when enabled) and "optimizer".
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "detection/ema.h"
#include "detection/inference_options.h"
#include "detection/inference/thundernet_executor.h"
#include "detection/thundernet.h"

namespace cvtk::detection {

struct ModelInfo {
  std::string model = "thundernet-snet49";  // model_names()
  std::vector<std::string> classes;
  int num_fc = 1;              // R-CNN head depth
  InferenceOptions inference;  // what training validated with; eval and predict start from it
};

struct TrainState {
  int epoch = 0;            // completed epochs
  long step = 0;            // optimiser steps taken
  long batch_in_epoch = 0;  // batches of epoch `epoch` already trained (interrupted runs)
  double best_metric = -1;  // best validation mAP@0.5 so far
  int best_epoch = 0;
  int world_size = 1;  // processes of the run that wrote it (batch_in_epoch counts its global batches)
};

struct Checkpoint {
  std::filesystem::path file;  // where it was read from, for messages
  ModelInfo info;
  TrainState state;
  std::string options_text;
  vision::StateDict model, ema;
  long ema_updates = 0;
  bool has_optimizer = false;
  // What restore_training_state puts back; kept from the one read of the file.
  std::shared_ptr<torch::serialize::InputArchive> optimizer_state;
  torch::Tensor generator_state;
};

// The model's options with info's inference options applied.
ThunderNetOptions thundernet_options(const ModelInfo& info);

void save_checkpoint(const std::filesystem::path& file, const ModelInfo& info, const ThunderNet& model,
                     const ModelEma* ema, torch::optim::Optimizer* optimizer, const TrainState& state,
                     const std::string& options_text);

// Throws std::runtime_error naming the file and the missing entry. Restores the optimizer and the
// default generator's state when an optimizer is given (else restore_training_state does it later).
Checkpoint read_checkpoint(const std::filesystem::path& file, torch::optim::Optimizer* optimizer = nullptr);

// A resumed run's optimizer state and the default CPU generator's state, from a checkpoint already
// read. Throws naming the file when it holds no optimizer state (a best.pt, say).
void restore_training_state(const Checkpoint& checkpoint, torch::optim::Optimizer& optimizer);

// A model in eval mode from a checkpoint: EMA weights when present and prefer_ema. `adjust` may change
// the model's options before it is built. Not optimised for inference (inference_model does that).
ThunderNet load_model(const std::filesystem::path& file, ModelInfo* info = nullptr,
                      const std::function<void(ThunderNetOptions&)>& adjust = {}, bool prefer_ema = true);

// The one way a model is built for inference, shared by validation in training, `cvtk eval --weights`
// and `cvtk predict`: info's model with `inference` applied, the weights loaded strictly, moved to
// `device`, eval mode, and its inference executor (inference/thundernet_executor.h). Building it leaves
// the default random generator as it was, so validating inside a training run does not change the
// run's random stream.
ThunderNetExecutor inference_model(const ModelInfo& info, const InferenceOptions& inference,
                                   const vision::StateDict& weights, torch::Device device = torch::kCPU);

// The checkpoint's info and the weights inference uses (EMA when present).
struct InferenceWeights {
  ModelInfo info;
  vision::StateDict weights;
};
InferenceWeights read_inference_weights(const std::filesystem::path& file);

// inference_model for weights read from `file`: its errors name the file, except std::invalid_argument
// for an inference option out of range, which names the option.
ThunderNetExecutor inference_model(const std::filesystem::path& file, const InferenceWeights& weights,
                                   const InferenceOptions& inference);

}  // namespace cvtk::detection
