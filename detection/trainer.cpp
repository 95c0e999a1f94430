#include "detection/trainer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include "augment/loader.h"
#include "augment/pipeline.h"
#include "detection/checkpoint.h"
#include "detection/predictor.h"
#include "detection/progress.h"
#include "metrics/evaluate.h"
#include "vision/data/dataset_io.h"
#include "vision/data/file_util.h"
#include "vision/data/output_dir.h"

namespace cvtk::detection {

namespace {

// --cache-mb -1: an eighth of the memory available now (Linux's MemAvailable), at most 1 GiB; none
// where that cannot be read.
size_t auto_cache_mb() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  size_t kb = 0;
  while (meminfo >> key >> kb) {
    if (key == "MemAvailable:") return std::min<size_t>(1024, kb / 1024 / 8);
    meminfo.ignore(256, '\n');
  }
  return 0;
}


using clock_type = std::chrono::steady_clock;

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string fmt(double v, int precision = 4) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

std::vector<GroundTruth> to_ground_truth(const augment::Batch& b, torch::Device device) {
  std::vector<GroundTruth> gts;
  for (const auto& t : b.targets) gts.push_back({t.boxes.to(device), t.labels.to(device)});
  return gts;
}

struct Validation {
  double map50 = -1, voc07 = -1, coco_ap = -1, coco_ap50 = -1;
};

// The model exactly as `cvtk eval --weights` and `cvtk predict` build it from the checkpoint about to be
// written (the EMA weights when on): a fresh model loaded with these weights and optimised for inference,
// run with the inference options the checkpoint stores. The training model itself is never run in eval
// mode here, so nothing it caches between calls (merged weights, folded BatchNorms) can go stale, and the
// figures are the ones a later evaluation of last.pt gives.
Validation validate(const ModelInfo& info, const vision::StateDict& weights, const data::Dataset& val,
                    const TrainOptions& o, torch::Device device) {
  auto model = inference_model(info, info.inference, weights, device);
  PredictOptions po;
  po.inference = info.inference;
  po.batch = o.batch;
  po.threads = o.loader_threads;
  auto dets = predict_dataset(model, val, po);
  Validation v;
  v.map50 = metrics::evaluate(val, dets, metrics::voc_protocol()).headline();
  v.voc07 = metrics::evaluate(val, dets, metrics::voc07_protocol()).headline();
  auto coco = metrics::evaluate(val, dets, metrics::coco_protocol());
  v.coco_ap = coco.headline();
  if (auto* s = coco.find("AP50")) v.coco_ap50 = s->value;
  return v;
}

// Two parameter groups: weight decay on weights with more than one dimension, none on biases and
// normalisation parameters (as the authors' recipe). AdamW's decay is decoupled from the gradient
// (Loshchilov & Hutter), so the same --weight-decay means a much stronger pull than SGD's; 0.05 is usual.
template <class Optimizer, class Options>
std::unique_ptr<torch::optim::Optimizer> two_groups(std::vector<torch::Tensor> decay, std::vector<torch::Tensor> no_decay,
                                                    const Options& base, double weight_decay) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::move(decay), std::make_unique<Options>(Options(base).weight_decay(weight_decay)));
  groups.emplace_back(std::move(no_decay), std::make_unique<Options>(Options(base).weight_decay(0)));
  return std::make_unique<Optimizer>(std::move(groups), base);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(ThunderNet& model, const TrainOptions& o) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model->parameters()) {
    if (!p.requires_grad()) continue;
    (p.dim() > 1 ? decay : no_decay).push_back(p);
  }
  if (o.optimizer == "adamw")
    return two_groups<torch::optim::AdamW>(decay, no_decay, torch::optim::AdamWOptions(o.schedule.base).betas({o.momentum, 0.999}),
                                           o.weight_decay);
  if (o.optimizer != "sgd") throw std::invalid_argument("unknown optimizer '" + o.optimizer + "' (sgd or adamw)");
  return two_groups<torch::optim::SGD>(decay, no_decay, torch::optim::SGDOptions(o.schedule.base).momentum(o.momentum),
                                       o.weight_decay);
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

void load_init_weights(ThunderNet& model, const std::filesystem::path& file, std::FILE* out) {
  vision::StateDict weights;
  try {
    auto c = read_checkpoint(file);
    weights = c.ema.empty() ? c.model : c.ema;
  } catch (const std::exception&) {
    weights = vision::read_weights(file);  // a plain state dict: a backbone's or a whole model's
  }
  // A backbone-only file (torchvision names) loads under the "backbone." prefix.
  bool has_prefix = false;
  for (auto& [n, t] : weights) has_prefix |= n.rfind("backbone.", 0) == 0;
  if (!has_prefix)
    for (auto& [n, t] : weights) n = "backbone." + n;
  // Heads that do not fit (another class count) are reported and skipped, not fatal.
  auto own = vision::state_dict(*model);
  std::map<std::string, torch::Tensor> shapes(own.begin(), own.end());
  vision::StateDict fitting;
  std::vector<std::string> skipped;
  for (auto& [n, t] : weights) {
    auto it = shapes.find(n);
    if (it != shapes.end() && it->second.sizes() == t.sizes())
      fitting.emplace_back(n, t);
    else
      skipped.push_back(n);
  }
  if (fitting.empty()) throw std::runtime_error(file.string() + ": no tensor matches the model by name and shape");
  auto report = vision::load_state_dict(*model, fitting, false);
  std::fprintf(out, "init-weights: loaded %zu tensors from %s; %zu skipped (name or shape), %zu model tensors left as initialised\n",
               fitting.size(), file.string().c_str(), skipped.size(), report.missing.size());
}

// SIGINT handler for the duration of a run, restored however the run ends.
class SigintScope {
 public:
  SigintScope() : previous_(std::signal(SIGINT, on_sigint)) { g_interrupted = false; }
  ~SigintScope() { std::signal(SIGINT, previous_); }

 private:
  void (*previous_)(int);
};

// A new run's directory, as this invocation found it missing or empty: when the run fails before writing
// any checkpoint it is put back that way (removed, or emptied of what the run wrote), so a failed start
// leaves nothing behind. Resumed and --exist-ok runs keep everything.
class FreshRunDir {
 public:
  // created: the outermost directory this invocation created for dir (dir itself or a parent), or empty.
  FreshRunDir(std::filesystem::path dir, bool fresh, std::filesystem::path created)
      : dir_(std::move(dir)), fresh_(fresh), created_(std::move(created)) {}
  ~FreshRunDir() {
    if (!fresh_ || kept_) return;
    std::error_code ec;
    if (!created_.empty()) {
      std::filesystem::remove_all(dir_, ec);
      if (created_ != dir_) data::remove_empty_up_to(dir_.parent_path(), created_);
      return;
    }
    for (const char* f : {"options.toml", "results.csv", "results.jsonl"}) std::filesystem::remove(dir_ / f, ec);
  }
  void keep() { kept_ = true; }

 private:
  std::filesystem::path dir_;
  bool fresh_;
  std::filesystem::path created_;
  bool kept_ = false;
};

std::filesystem::path absolute_or_empty(const std::filesystem::path& p) {
  return p.empty() ? p : std::filesystem::absolute(p).lexically_normal();
}

}  // namespace

TrainResult train(TrainOptions o, std::FILE* out) {
  const auto run_start = clock_type::now();
  Checkpoint resumed;
  const bool resuming = !o.resume.empty();
  if (resuming) {
    const auto file = o.resume / "last.pt";
    resumed = read_checkpoint(file);
    auto saved = from_config_text(resumed.options_text, file.string() + " (options)");
    saved.resume = absolute_or_empty(o.resume);
    if (o.epochs > 0) saved.epochs = o.epochs;  // a resume may change the length of the run
    saved.out = saved.resume;
    // Limits and resources belong to this invocation, not to the saved run.
    saved.max_steps = o.max_steps;
    saved.time_limit_minutes = o.time_limit_minutes;
    saved.log_every = o.log_every;
    if (o.threads > 0) saved.threads = o.threads;
    if (o.loader_threads > 0) saved.loader_threads = o.loader_threads;
    o = saved;
  }
  // Paths are saved absolute, so `--resume DIR` works from any working directory.
  o.data = absolute_or_empty(o.data);
  o.val_data = absolute_or_empty(o.val_data);
  o.init_weights = absolute_or_empty(o.init_weights);

  // Everything is checked before the run directory is created: options, datasets, model, weights,
  // pipeline, loader and schedule.
  const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(o.threads > 0 ? o.threads : hw);
  check_train_options(o);
  const InferenceOptions inference = validation_inference(o);
  inference.check();
  torch::Device device(o.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw std::invalid_argument("--device " + o.device + ": this LibTorch build has no usable CUDA device");
  const auto pipeline = augment::pipeline_from_text(o.pipeline);  // checked by check_train_options

  data::ReadOptions ro;
  ro.format = data::parse_format(o.format);
  ro.split = o.train_split;
  const auto train_set = data::read_dataset(o.data, ro);
  if (train_set.images.empty()) throw std::runtime_error(o.data.string() + ": split '" + o.train_split + "' has no images");
  if (train_set.classes.empty()) throw std::runtime_error(o.data.string() + ": the dataset names no classes");
  const bool validate_on = o.val_split != "none" && !o.val_split.empty();
  data::Dataset val_set;
  if (validate_on) {
    ro.split = o.val_split;
    val_set = data::read_dataset(o.val_data.empty() ? o.data : o.val_data, ro);
    if (val_set.classes != train_set.classes)
      throw std::runtime_error("validation classes differ from training classes (" + val_set.source + ")");
  }

  ModelInfo info;
  info.model = o.model;
  info.classes = train_set.classes;
  info.num_fc = o.num_fc;
  info.inference = inference;
  if (resuming) {
    if (resumed.info.classes != info.classes) throw std::runtime_error("resume: the dataset's classes differ from the checkpoint's");
  }
  torch::manual_seed(o.seed);
  // Sampling options shape the loss only; checkpoints and inference do not need them.
  auto model_opts = thundernet_options(info);
  model_opts.rcnn.batch_per_image = o.rcnn_rois;
  ThunderNet model(model_opts);
  if (!o.init_weights.empty() && !resuming) load_init_weights(model, o.init_weights, out);
  if (o.freeze_stages > 0 || o.freeze_bn) model->freeze_backbone(o.freeze_stages, o.freeze_bn);
  model->to(device);
  auto optimizer = make_optimizer(model, o);
  std::unique_ptr<ModelEma> ema;
  if (o.ema > 0) ema = std::make_unique<ModelEma>(*model, o.ema);

  TrainState state;
  if (resuming) {
    auto c = read_checkpoint(o.resume / "last.pt", optimizer.get());
    vision::load_state_dict(*model, c.model, true);
    if (ema) {
      ema->state() = c.ema;
      ema->set_updates(c.ema_updates);
    }
    state = c.state;
  }

  augment::LoaderOptions lo;
  lo.batch_size = o.batch;
  lo.shuffle = true;
  lo.drop_last = train_set.images.size() > size_t(o.batch);
  lo.seed = o.seed;
  lo.threads = o.loader_threads;
  lo.cache_mb = o.cache_mb >= 0 ? size_t(o.cache_mb) : auto_cache_mb();
  lo.nice = 10;  // the model's threads first; the loader needs only a small share of the cores
  lo.sizes = o.multiscale.empty() ? std::vector<int>{o.size} : o.multiscale;
  augment::Loader loader(train_set, pipeline, lo);
  const long steps_per_epoch = long(loader.batches_per_epoch());
  if (o.schedule.kind == "step" && o.schedule.step_epochs.empty())
    o.schedule.step_epochs = {std::max(1, o.epochs * 2 / 3), std::max(1, o.epochs * 8 / 9)};
  LrSchedule schedule(o.schedule, steps_per_epoch, o.epochs);

  // The run directory: a resume keeps its own; a new run never overwrites an earlier one silently.
  data::OutputDir run_dir;
  if (resuming) {
    run_dir.path = run_dir.requested = o.out;
    run_dir.existing = true;
  } else {
    run_dir = data::choose_output_dir(o.out, o.exist_ok);
    o.out = absolute_or_empty(run_dir.path);
  }
  const auto text = to_config_text(o);
  const auto created = data::create_directories_noting_first(o.out);
  FreshRunDir fresh(o.out, !resuming && !run_dir.existing, created);
  data::write_file_atomic(o.out / "options.toml", text);

  std::fprintf(out, "cvtk train: %s on %s (%zu train images, %zu classes%s)\n", o.model.c_str(), o.data.string().c_str(),
               train_set.images.size(), train_set.classes.size(),
               validate_on ? (", " + std::to_string(val_set.images.size()) + " val images").c_str() : ", no validation");
  std::fprintf(out, "out: %s%s\n", run_dir.describe().c_str(),
               resuming ? "; resumed" : run_dir.existing ? "; --exist-ok: writing into it" : "");
  std::fprintf(out, "threads: %d LibTorch, %s loader; decoded-image cache up to %zu MiB; device %s\n", torch::get_num_threads(),
               o.loader_threads > 0 ? std::to_string(o.loader_threads).c_str() : "all", lo.cache_mb, o.device.c_str());
  std::fprintf(out, "inference: %s%s\n", inference.describe().c_str(),
               validate_on ? " (validation; stored in the checkpoints)" : " (stored in the checkpoints)");
  std::fprintf(out, "schedule: %s; %ld steps/epoch\npipeline:\n%s\noptions:\n%s", schedule.describe().c_str(),
               steps_per_epoch, pipeline.describe().c_str(), text.c_str());
  if (resuming)
    std::fprintf(out, "resuming %s at epoch %d, step %ld (batch %ld of the epoch)\n", o.resume.string().c_str(),
                 state.epoch + 1, state.step, state.batch_in_epoch);
  std::fflush(out);

  const bool new_logs = !resuming || !std::filesystem::exists(o.out / "results.csv");
  std::ofstream csv(o.out / "results.csv", new_logs ? std::ios::trunc : std::ios::app);
  std::ofstream jsonl(o.out / "results.jsonl", new_logs ? std::ios::trunc : std::ios::app);
  if (new_logs)
    csv << "epoch,steps,lr,loss,rpn_objectness,rpn_box,rcnn_classification,rcnn_box,images_per_s,data_s,step_s,"
           "empty_images,val_map50,val_voc07,val_coco_ap,val_coco_ap50,seconds,peak_mb\n";

  SigintScope sigint;
  Progress progress(out, o.log_every);
  TrainResult result;
  result.last = o.out / "last.pt";
  result.best = o.out / "best.pt";
  result.out = o.out;
  result.best_map50 = state.best_metric;
  // best.pt of this run: written by this invocation, or by the run being resumed (an --exist-ok run's
  // directory may still hold an earlier run's best.pt, which is not this run's).
  bool best_written = resuming && state.best_epoch > 0 && std::filesystem::exists(result.best);
  bool last_written = resuming;
  bool stop = false;          // finish the current epoch, then stop
  bool stopped_mid_epoch = false;
  auto stop_reason = [&](bool out_of_time) {
    return std::string(g_interrupted ? "interrupted" : out_of_time ? "time limit reached" : "step limit reached");
  };
  model->train();

  for (int epoch = state.epoch; epoch < o.epochs && !stop; ++epoch) {
    loader.start_epoch(epoch);
    for (long k = 0; k < state.batch_in_epoch; ++k) loader.next();  // already trained before the interruption
    double sums[5] = {0, 0, 0, 0, 0};
    long steps_this = 0;
    size_t images = 0, empty = 0;
    double data_s = 0, step_s = 0;
    const auto epoch_start = clock_type::now();
    long done = state.batch_in_epoch;
    while (true) {
      auto t0 = clock_type::now();
      auto batch = loader.next();
      data_s += seconds_since(t0);
      if (!batch) break;
      t0 = clock_type::now();
      const double lr = schedule.at(state.step);
      set_lr(*optimizer, lr);
      auto gts = to_ground_truth(*batch, device);
      for (const auto& g : gts) empty += g.boxes.size(0) == 0;
      auto losses = model->forward_train(batch->images.to(device), gts);
      auto total = losses.total();
      const double loss_value = total.item<double>();
      if (!std::isfinite(loss_value)) {
        std::string ids;
        for (auto id : batch->image_ids) ids += " " + std::to_string(id);
        throw std::runtime_error("non-finite loss (" + fmt(loss_value) + ": rpn_objectness " +
                                 fmt(losses.rpn_objectness.item<double>()) + ", rpn_box " + fmt(losses.rpn_box.item<double>()) +
                                 ", rcnn_classification " + fmt(losses.rcnn_classification.item<double>()) + ", rcnn_box " +
                                 fmt(losses.rcnn_box.item<double>()) + ") at epoch " + std::to_string(epoch + 1) + ", step " +
                                 std::to_string(state.step + 1) + ", images" + ids + "; stopped, " +
                                 (last_written ? result.last.string() + " is the last good checkpoint"
                                               : std::string("no checkpoint had been written (nothing kept)")));
      }
      optimizer->zero_grad();
      total.backward();
      if (o.clip_grad > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), o.clip_grad);
      optimizer->step();
      if (ema) ema->update(*model);
      step_s += seconds_since(t0);
      ++state.step;
      ++steps_this;
      ++done;
      images += batch->images.size(0);
      sums[0] += loss_value;
      sums[1] += losses.rpn_objectness.item<double>();
      sums[2] += losses.rpn_box.item<double>();
      sums[3] += losses.rcnn_classification.item<double>();
      sums[4] += losses.rcnn_box.item<double>();
      const double elapsed = seconds_since(epoch_start);
      const double per_step = elapsed / steps_this;
      const double left = per_step * ((steps_per_epoch - done) + double(o.epochs - epoch - 1) * steps_per_epoch);
      std::ostringstream line;
      line << "loss " << fmt(sums[0] / steps_this) << " (rpn " << fmt(sums[1] / steps_this, 3) << "+"
           << fmt(sums[2] / steps_this, 3) << ", rcnn " << fmt(sums[3] / steps_this, 3) << "+" << fmt(sums[4] / steps_this, 3)
           << ") lr " << std::setprecision(3) << lr << " " << fmt(images / std::max(elapsed, 1e-9), 1) << " img/s data "
           << fmt(data_s / steps_this, 3) << "s step " << fmt(step_s / steps_this, 3) << "s mem " << fmt(peak_memory_mb(), 0) << "MB";
      progress.step(epoch + 1, o.epochs, done, steps_per_epoch, left, line.str());
      const bool out_of_time = o.time_limit_minutes > 0 && seconds_since(run_start) > o.time_limit_minutes * 60;
      const bool step_limit = o.max_steps > 0 && state.step >= o.max_steps;
      if (g_interrupted || out_of_time || step_limit) {
        result.interrupted = g_interrupted;
        result.stopped_early = true;
        result.stop_reason = stop_reason(out_of_time);
        if (done < steps_per_epoch) {
          state.batch_in_epoch = done;
          save_checkpoint(result.last, info, model, ema.get(), optimizer.get(), state, text);
          last_written = true;
          fresh.keep();
          progress.line(result.stop_reason + " at epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(state.step) +
                        "; " + result.last.string() + " written; continue with: cvtk train --resume " + o.out.string());
          stopped_mid_epoch = true;
          break;
        }
        stop = true;  // the epoch is complete: finish it normally (validation, checkpoints) then stop
      }
    }
    if (stopped_mid_epoch) break;
    if (steps_this == 0) {
      const auto ls = loader.stats();
      throw std::runtime_error(
          o.data.string() + ": epoch " + std::to_string(epoch + 1) + " made no training batch: " + std::to_string(ls.skipped) +
          " of " + std::to_string(train_set.images.size()) + " images unreadable" +
          (ls.skipped_files.empty() ? std::string() : " (first: " + ls.skipped_files.front() + ")") +
          (last_written ? "; " + result.last.string() + " is the last good checkpoint" : "; nothing kept"));
    }

    // End of epoch: validation, checkpoints, log rows.
    state.epoch = epoch + 1;
    state.batch_in_epoch = 0;
    const double n = std::max<long>(steps_this, 1);
    Validation v;
    if (validate_on && (state.epoch % std::max(1, o.val_every) == 0 || state.epoch == o.epochs || stop)) {
      v = validate(info, ema ? ema->state() : vision::state_dict(*model), val_set, o, device);
      model->train();
    }
    const bool best = validate_on ? v.map50 > state.best_metric : true;
    if (best && validate_on) {
      state.best_metric = v.map50;
      state.best_epoch = state.epoch;
    }
    save_checkpoint(result.last, info, model, ema.get(), optimizer.get(), state, text);
    last_written = true;
    fresh.keep();
    if (best) {
      save_checkpoint(result.best, info, model, ema.get(), nullptr, state, text);
      best_written = true;
    }
    const double secs = seconds_since(epoch_start);
    std::ostringstream row;
    row << state.epoch << "," << state.step << "," << schedule.at(state.step - 1) << "," << sums[0] / n << "," << sums[1] / n
        << "," << sums[2] / n << "," << sums[3] / n << "," << sums[4] / n << "," << images / std::max(secs, 1e-9) << ","
        << data_s << "," << step_s << "," << empty << "," << v.map50 << "," << v.voc07 << "," << v.coco_ap << ","
        << v.coco_ap50 << "," << secs << "," << peak_memory_mb() << "\n";
    csv << row.str() << std::flush;
    jsonl << "{\"epoch\":" << state.epoch << ",\"steps\":" << state.step << ",\"lr\":" << schedule.at(state.step - 1)
          << ",\"loss\":" << sums[0] / n << ",\"rpn_objectness\":" << sums[1] / n << ",\"rpn_box\":" << sums[2] / n
          << ",\"rcnn_classification\":" << sums[3] / n << ",\"rcnn_box\":" << sums[4] / n
          << ",\"images_per_s\":" << images / std::max(secs, 1e-9) << ",\"data_s\":" << data_s << ",\"step_s\":" << step_s
          << ",\"empty_images\":" << empty << ",\"val_map50\":" << v.map50 << ",\"val_voc07\":" << v.voc07
          << ",\"val_coco_ap\":" << v.coco_ap << ",\"val_coco_ap50\":" << v.coco_ap50 << ",\"seconds\":" << secs
          << ",\"peak_mb\":" << peak_memory_mb() << "}\n"
          << std::flush;
    std::ostringstream summary;
    summary << "epoch " << state.epoch << "/" << o.epochs << ": loss " << fmt(sums[0] / n) << ", "
            << fmt(images / std::max(secs, 1e-9), 1) << " img/s, " << empty << " negative images";
    if (validate_on && v.map50 >= 0)
      summary << ", val mAP@0.5 " << fmt(v.map50) << " (VOC07 " << fmt(v.voc07) << "), COCO AP " << fmt(v.coco_ap)
              << (best ? " *best*" : "");
    summary << " [" << format_duration(secs) << "]";
    progress.line(summary.str());
    if (stop && state.epoch < o.epochs)
      progress.line(result.stop_reason + " at the end of epoch " + std::to_string(state.epoch) +
                    "; continue with: cvtk train --resume " + o.out.string());
    result.last_map50 = v.map50;
    result.last_coco_ap = v.coco_ap;
  }
  result.epochs_done = state.epoch;
  result.steps = state.step;
  result.stopped_early = result.stopped_early && state.epoch < o.epochs;
  result.best_map50 = state.best_metric;
  if (!best_written) result.best.clear();
  if (!last_written) result.last.clear();
  const auto ls = loader.stats();
  if (ls.skipped) {
    std::fprintf(out, "skipped %zu unreadable images:\n", ls.skipped);
    for (size_t i = 0; i < ls.skipped_files.size() && i < 10; ++i) std::fprintf(out, "  %s\n", ls.skipped_files[i].c_str());
    if (ls.skipped_files.size() > 10) std::fprintf(out, "  ... and %zu more\n", ls.skipped_files.size() - 10);
  }
  std::string files;
  if (!result.best.empty()) files += "best " + result.best.string();
  if (!result.last.empty()) files += (files.empty() ? "last " : ", last ") + result.last.string();
  std::fprintf(out, "%s: %d epochs, %ld steps in %s; %s\n", result.interrupted ? "interrupted" : "done", result.epochs_done,
               result.steps, format_duration(seconds_since(run_start)).c_str(),
               files.empty() ? "no checkpoint written" : files.c_str());
  return result;
}

}  // namespace cvtk::detection
