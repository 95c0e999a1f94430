// cvtk train: train a ThunderNet detector on a dataset (detection/trainer.h does the work).
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <memory>

#include "apps/command.h"
#include "apps/image_limit_option.h"
#include "detection/thundernet.h"
#include "detection/trainer.h"

namespace cvtk::apps {
namespace {

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r"));
  s.erase(s.find_last_not_of(" \t\r") + 1);
  return s;
}

// Feeds a config file's values to the options the command line left unset (CLI11's own config
// support does not reach subcommands in the Debian version). Keys are long flag names; values are
// TOML-style: "quoted strings", numbers, true/false, [a,b,c] lists.
void apply_config_file(CLI::App& cmd, const std::string& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw std::runtime_error(file + ": --config: is a directory, not a file");
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file + ": --config: cannot open the file (" + std::strerror(errno) + ")");
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error(file + ":" + std::to_string(n) + ": expected key=value");
    const std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    CLI::Option* opt = cmd.get_option_no_throw("--" + key);
    if (!opt || key == "config")
      throw std::runtime_error(file + ":" + std::to_string(n) + ": unknown key '" + key + "'");
    if (opt->count() > 0) continue;  // given on the command line
    std::vector<std::string> items;
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
      std::stringstream list(value.substr(1, value.size() - 2));
      for (std::string x; std::getline(list, x, ',');)
        if (!trim(x).empty()) items.push_back(trim(x));
    } else {
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      items.push_back(value);
    }
    if (items.empty()) continue;
    if (opt->get_type_size_max() == 0 && (items[0] == "false" || items[0] == "0")) continue;  // an unset flag
    for (const auto& x : items) opt->add_result(opt->get_type_size_max() == 0 ? std::string("true") : x);
    try {
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw std::runtime_error(file + ":" + std::to_string(n) + ": bad value for '" + key + "': " + e.what());
    }
  }
}

// The flags that take paths, kept as given until the callback resolves them.
struct TrainPaths {
  std::string config, data, val_data, init, out = "runs/train", resume;
};
using Options = std::shared_ptr<detection::TrainOptions>;
using Paths = std::shared_ptr<TrainPaths>;

void add_data_options(CLI::App* cmd, const Options& o, const Paths& p) {
  cmd->add_option("--data", p->data, "Dataset: VOC directory, COCO .json or YOLO directory");
  cmd->add_option("--format", o->format, "Dataset format: auto, voc, coco or yolo")->capture_default_str();
  cmd->add_option("--val-data", p->val_data, "Separate validation dataset (default: --data)");
  cmd->add_option("--train-split", o->train_split, "Training split")->capture_default_str();
  cmd->add_option("--val-split", o->val_split, "Validation split, or none")->capture_default_str();
}

void add_model_options(CLI::App* cmd, const Options& o) {
  std::string models;
  for (const auto& m : detection::model_names()) models += (models.empty() ? "" : ", ") + m;
  cmd->add_option("--model", o->model, "Model: " + models + " or thundernet-<backbone>")->capture_default_str();
  cmd->add_option("--num-fc", o->num_fc, "R-CNN head fully connected layers (1: paper, 2: authors' code)")
      ->capture_default_str()
      ->check(CLI::Range(1, 2));
  cmd->add_option("--rcnn-rois", o->rcnn_rois,
                  "RoIs sampled per image for the R-CNN loss, at most 25% foreground (fewer: foreground weighs more; "
                  "default: from the objects per image)")
      ->check(CLI::Range(16, 4096));
}

void add_optimisation_options(CLI::App* cmd, const Options& o, const Paths& p) {
  auto* epochs = cmd->add_option("--epochs", o->epochs, "Epochs (default: about 12,000 training images seen)")
                     ->check(CLI::PositiveNumber);
  cmd->add_option("--time", o->time_minutes,
                  "Minutes the whole run may take: the epochs are planned from the measured pace so warm-up, decay "
                  "and EMA end inside it (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->excludes(epochs);
  cmd->add_option("--batch", o->batch, "Images per step")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--size", o->size, "Input side in pixels (square; default: from the image and box sizes)")
      ->check(CLI::Range(64, 4096));
  cmd->add_option("--multiscale", o->multiscale, "Training sides chosen per batch, e.g. 240,320,480")->delimiter(',');
  cmd->add_option("--pipeline", o->pipeline, "Augmentation preset or spec (cvtk augment list)")->capture_default_str();
  cmd->add_option("--lr", o->schedule.base, "Base learning rate (default: 0.1 for SGD at batch 8, linear in --batch)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--schedule", o->schedule.kind, "step or cosine (default: cosine)")
      ->check(CLI::IsMember({"step", "cosine"}));
  cmd->add_option("--steps", o->schedule.step_epochs,
                  "step: epochs after which lr *= gamma (default 2/3 and 8/9 of --epochs)")
      ->delimiter(',');
  cmd->add_option("--gamma", o->schedule.gamma, "step: lr factor")->capture_default_str();
  cmd->add_option("--min-lr-factor", o->schedule.min_factor, "cosine: final lr / base lr")->capture_default_str();
  cmd->add_option("--warmup", o->schedule.warmup_steps, "Linear warm-up steps (default: two epochs, 100 to 300)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--warmup-factor", o->schedule.warmup_factor, "Warm-up starting lr factor")->capture_default_str();
  cmd->add_option("--optimizer", o->optimizer, "sgd (with momentum) or adamw")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adamw"}));
  cmd->add_option("--momentum", o->momentum, "SGD momentum; AdamW's beta1")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "Weight decay (weights with more than one dimension)")
      ->capture_default_str();
  cmd->add_option("--ema", o->ema,
                  "EMA decay of the weights used for validation and the checkpoints (0: off; default: averaging over "
                  "the last tenth of the run)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--ema-ramp", o->ema_ramp, "EMA warm-up: updates until the decay nears its value")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--clip-grad", o->clip_grad, "Clip the gradient's L2 norm (0: off)")->capture_default_str();
  cmd->add_option("--freeze-stages", o->freeze_stages, "Freeze the first N backbone stages (1 = conv1, 2 = + stage2)")
      ->capture_default_str();
  cmd->add_flag("--freeze-bn", o->freeze_bn, "Keep the backbone's BatchNorm in inference mode");
  cmd->add_option("--init-weights", p->init, "Initial weights: a cvtk checkpoint or a (torchvision-named) state dict");
}

void add_output_options(CLI::App* cmd, const Options& o, const Paths& p) {
  cmd->add_option("--out", p->out,
                  "Run directory; when it holds an earlier run, a numbered one is used (runs/train2, ...)")
      ->capture_default_str();
  cmd->add_flag("--exist-ok", o->exist_ok, "Write into --out even when it holds an earlier run");
}

void add_inference_options(CLI::App* cmd, const Options& o) {
  cmd->add_option(
         "--score-threshold", o->score_threshold,
         "Inference: keep detections scored at least this (validation; stored in the checkpoints for eval and predict)")
      ->capture_default_str();
  cmd->add_option("--nms-iou", o->nms_iou, "Inference: per-class NMS IoU threshold")->capture_default_str();
  cmd->add_flag("--soft-nms", o->soft_nms, "Inference: linear Soft-NMS instead of NMS");
  cmd->add_option("--max-dets", o->max_detections, "Inference: detections per image at most")->capture_default_str();
}

void add_run_options(CLI::App* cmd, const Options& o, const Paths& p) {
  cmd->add_option("--resume", p->resume, "Continue the run in this directory (its last.pt and options)");
  cmd->add_option("--val-every", o->val_every, "Validate every N epochs")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--threads", o->threads, "LibTorch threads (default: all cores)");
  cmd->add_option("--loader-threads", o->loader_threads, "Data loader threads (default: all cores)");
  cmd->add_option(
         "--cache-mb", o->cache_mb,
         "Keep decoded training images in memory across epochs, up to N MiB (0: decode every epoch; -1: an eighth "
         "of the available memory, at most 1024)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1 << 30));
  cmd->add_option("--device", o->device, "cpu, or cuda / cuda:N where LibTorch has CUDA")->capture_default_str();
  cmd->add_option("--time-limit", o->time_limit_minutes, "Stop after this many minutes, checkpointing (0: none)");
  cmd->add_option("--log-every", o->log_every, "Progress line every N steps when not on a terminal")
      ->capture_default_str();
  cmd->add_option("--max-steps", o->max_steps, "Stop after N optimiser steps in total (0: none)");
}

void add_distributed_options(CLI::App* cmd, const Options& o) {
  cmd->add_option("--nproc", o->nproc,
                  "Data parallel: start N local worker processes (torchrun-style environment; --batch and --lr are "
                  "each process's, the global batch N x --batch trains at N x --lr)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--sync-bn", o->sync_bn, "Data parallel: BatchNorm statistics over the global batch");
  cmd->add_option("--dist-timeout", o->dist_timeout,
                  "Data parallel: seconds a collective waits for the other ranks before the run fails")
      ->capture_default_str();
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<detection::TrainOptions>();
  auto p = std::make_shared<TrainPaths>();
  CLI::App* cmd = app.add_subcommand("train", "Train a ThunderNet detector");
  add_max_pixels_option(*cmd);
  cmd->add_option("--config", p->config,
                  "Read options from a file of key=value lines (keys are these flags' long names, e.g. a run's "
                  "options.toml); flags given on the command line win");
  add_data_options(cmd, o, p);
  add_model_options(cmd, o);
  add_optimisation_options(cmd, o, p);
  add_output_options(cmd, o, p);
  add_inference_options(cmd, o);
  add_run_options(cmd, o, p);
  add_distributed_options(cmd, o);
  cmd->callback([o, p, cmd] {
    const bool epochs_given = cmd->count("--epochs") > 0, time_given = cmd->count("--time") > 0 && o->time_minutes > 0;
    if (time_given && !p->resume.empty())
      throw CLI::ValidationError("--time",
                                 "plans a new run; --resume keeps the epochs its run planned (--epochs extends it)");
    if (!p->config.empty()) apply_config_file(*cmd, p->config);
    // The command line wins over a config file's length, whichever of the two it names.
    if (time_given) o->epochs = 0;
    if (epochs_given) o->time_minutes = 0;
    if (!p->resume.empty() && !epochs_given) o->epochs = 0;  // keep the saved run's length
    if (p->data.empty() && p->resume.empty()) throw CLI::ValidationError("train", "--data (or --resume) is required");
    o->data = p->data;
    o->val_data = p->val_data;
    o->init_weights = p->init;
    o->out = p->out;
    o->resume = p->resume;
    if (o->nproc > 1) {
      set_exit_code(detection::launch_training_workers(*o));
      return;
    }
    auto r = detection::train(*o, stdout);
    // Only a signal is an interruption; reaching --max-steps or --time-limit is a successful stop.
    set_exit_code(r.interrupted ? 130 : 0);
  });
}

}  // namespace cvtk::apps
