#include "detection/trainer.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "detection/interrupt_guard.h"
#include "detection/progress.h"
#include "detection/train_optimizer.h"
#include "detection/train_session.h"
#include "detection/train_validation.h"

namespace cvtk::detection {

namespace {

using clock_type = std::chrono::steady_clock;

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

// One optimiser step's losses: the total and the four terms (kLossTermNames).
struct StepLosses {
  double total = 0;
  std::array<double, 4> terms{};
  bool finite() const { return std::isfinite(total); }
  std::string describe() const {
    std::string s = fmt(total) + ":";
    for (size_t k = 0; k < terms.size(); ++k)
      s += std::string(k ? "," : "") + " " + kLossTermNames[k] + " " + fmt(terms[k]);
    return s;
  }
};

// Forward, and unless the loss is not finite, backward, clipping, the optimiser step and the EMA update.
StepLosses train_step(TrainSession& s, const augment::Batch& batch, double lr) {
  const TrainOptions& o = s.options;
  set_lr(*s.optimizer, lr);
  auto losses = s.model->forward_train(batch.images.to(s.device), to_ground_truth(batch, s.device));
  auto total = losses.total();
  StepLosses r;
  r.total = total.item<double>();
  const std::array<torch::Tensor, 4> terms = {losses.rpn_objectness, losses.rpn_box, losses.rcnn_classification,
                                              losses.rcnn_box};
  for (size_t k = 0; k < terms.size(); ++k) r.terms[k] = terms[k].item<double>();
  if (!r.finite()) return r;
  s.optimizer->zero_grad();
  total.backward();
  if (o.clip_grad > 0) torch::nn::utils::clip_grad_norm_(s.model->parameters(), o.clip_grad);
  s.optimizer->step();
  if (s.ema) s.ema->update(*s.model);
  return r;
}

// Sums over an epoch's steps, for the progress line and the epoch's record.
struct EpochSums {
  long steps = 0;
  double total = 0;
  std::array<double, 4> terms{};
  long images = 0, empty = 0;
  double data_s = 0, step_s = 0;
  void add(const StepLosses& l, long batch_images) {
    ++steps;
    total += l.total;
    for (size_t k = 0; k < terms.size(); ++k) terms[k] += l.terms[k];
    images += batch_images;
  }
  double mean(double sum) const { return sum / double(std::max<long>(steps, 1)); }
};

std::string progress_text(const EpochSums& e, double lr, double elapsed) {
  std::ostringstream line;
  line << "loss " << fmt(e.mean(e.total)) << " (rpn " << fmt(e.mean(e.terms[0]), 3) << "+" << fmt(e.mean(e.terms[1]), 3)
       << ", rcnn " << fmt(e.mean(e.terms[2]), 3) << "+" << fmt(e.mean(e.terms[3]), 3) << ") lr "
       << std::setprecision(3) << lr << " " << fmt(e.images / std::max(elapsed, 1e-9), 1) << " img/s data "
       << fmt(e.mean(e.data_s), 3) << "s step " << fmt(e.mean(e.step_s), 3) << "s mem " << fmt(peak_memory_mb(), 0)
       << "MB";
  return line.str();
}

// The epoch loop of one session: steps, stops (signal, step or time limit), end-of-epoch validation,
// checkpoints and log rows, and the final summary.
class EpochLoop {
 public:
  EpochLoop(TrainSession& s, std::FILE* out, clock_type::time_point start)
      : s_(s), o_(s.options), state_(s.state), out_(out), start_(start), progress_(out, s.options.log_every) {
    result_.last = o_.out / "last.pt";
    result_.best = o_.out / "best.pt";
    result_.out = o_.out;
    result_.best_map50 = state_.best_metric;
    // best.pt of this run: written by this invocation, or by the run being resumed (an --exist-ok run's
    // directory may still hold an earlier run's best.pt, which is not this run's).
    best_written_ = s.resuming && state_.best_epoch > 0 && std::filesystem::exists(result_.best);
    last_written_ = s.resuming;
  }

  TrainResult run() {
    s_.model->train();
    for (int epoch = state_.epoch; epoch < o_.epochs && !stop_; ++epoch) {
      EpochSums sums;
      const auto epoch_start = clock_type::now();
      if (!train_epoch(epoch, sums, epoch_start)) break;
      finish_epoch(sums, seconds_since(epoch_start));
    }
    summarise();
    return result_;
  }

 private:
  // The epoch's remaining batches; false when the run stopped inside the epoch (last.pt written).
  bool train_epoch(int epoch, EpochSums& sums, clock_type::time_point epoch_start) {
    s_.loader->start_epoch(epoch);
    for (long k = 0; k < state_.batch_in_epoch; ++k) s_.loader->next();  // trained before the interruption
    long done = state_.batch_in_epoch;
    while (true) {
      auto t0 = clock_type::now();
      auto batch = s_.loader->next();
      sums.data_s += seconds_since(t0);
      if (!batch) break;
      t0 = clock_type::now();
      const double lr = s_.schedule->at(state_.step);
      for (const auto& t : batch->targets) sums.empty += t.boxes.size(0) == 0;
      const StepLosses losses = train_step(s_, *batch, lr);
      if (!losses.finite())
        throw std::runtime_error("non-finite loss (" + losses.describe() + ") at epoch " + std::to_string(epoch + 1) +
                                 ", step " + std::to_string(state_.step + 1) + ", images " +
                                 s_.image_files(batch->image_ids) + "; stopped, " +
                                 (last_written_ ? result_.last.string() + " is the last good checkpoint"
                                                : std::string("no checkpoint had been written (nothing kept)")));
      sums.step_s += seconds_since(t0);
      sums.add(losses, batch->images.size(0));
      ++state_.step;
      ++done;
      const double elapsed = seconds_since(epoch_start);
      const double left = elapsed / double(sums.steps) *
                          ((s_.steps_per_epoch - done) + double(o_.epochs - epoch - 1) * s_.steps_per_epoch);
      progress_.step(epoch + 1, o_.epochs, done, s_.steps_per_epoch, left, progress_text(sums, lr, elapsed));
      if (should_stop() && done < s_.steps_per_epoch) {
        state_.batch_in_epoch = done;
        write_last();
        progress_.line(result_.stop_reason + " at epoch " + std::to_string(epoch + 1) + ", step " +
                       std::to_string(state_.step) + "; " + result_.last.string() +
                       " written; continue with: cvtk train --resume " + o_.out.string());
        return false;
      }
    }
    if (sums.steps == 0) {
      const auto ls = s_.loader->stats();
      throw std::runtime_error(
          o_.data.string() + ": epoch " + std::to_string(epoch + 1) + " made no training batch: " +
          std::to_string(ls.skipped) + " of " + std::to_string(s_.train_set.images.size()) + " images unreadable" +
          (ls.skipped_files.empty() ? std::string() : " (first: " + ls.skipped_files.front() + ")") +
          (last_written_ ? "; " + result_.last.string() + " is the last good checkpoint" : "; nothing kept"));
    }
    state_.epoch = epoch + 1;
    state_.batch_in_epoch = 0;
    return true;
  }

  // A signal, the step limit or the time limit: sets the stop reason; the epoch then ends early, or
  // is finished normally (validation, checkpoints) when this was its last step.
  bool should_stop() {
    const bool out_of_time = o_.time_limit_minutes > 0 && seconds_since(start_) > o_.time_limit_minutes * 60;
    const bool step_limit = o_.max_steps > 0 && state_.step >= o_.max_steps;
    if (!InterruptGuard::requested() && !out_of_time && !step_limit) return false;
    result_.interrupted = InterruptGuard::requested();
    result_.stopped_early = true;
    result_.stop_reason = result_.interrupted ? "interrupted"
                          : out_of_time       ? "time limit reached"
                                              : "step limit reached";
    stop_ = true;
    return true;
  }

  // Validation, checkpoints, the log rows and the epoch's line.
  void finish_epoch(const EpochSums& sums, double seconds) {
    EpochRecord r;
    if (s_.validate_on && (state_.epoch % o_.val_every == 0 || state_.epoch == o_.epochs || stop_)) {
      r.val = validate(s_.info, s_.ema ? s_.ema->state() : vision::state_dict(*s_.model), s_.val_set, o_.batch,
                       o_.loader_threads, s_.device);
      s_.model->train();
    }
    const bool best = s_.validate_on ? r.val.map50 > state_.best_metric : true;
    if (best && s_.validate_on) {
      state_.best_metric = r.val.map50;
      state_.best_epoch = state_.epoch;
    }
    write_last();
    if (best) {
      save_checkpoint(result_.best, s_.info, s_.model, s_.ema.get(), nullptr, state_, s_.options_text);
      best_written_ = true;
    }
    r.seconds = seconds;
    r.epoch = state_.epoch;
    r.steps = state_.step;
    r.lr = s_.schedule->at(state_.step - 1);
    r.loss = sums.mean(sums.total);
    for (size_t k = 0; k < r.terms.size(); ++k) r.terms[k] = sums.mean(sums.terms[k]);
    r.images_per_s = sums.images / std::max(r.seconds, 1e-9);
    r.data_s = sums.data_s;
    r.step_s = sums.step_s;
    r.empty_images = sums.empty;
    r.peak_mb = peak_memory_mb();
    s_.csv->write(r);
    s_.jsonl->write(r);

    std::ostringstream line;
    line << "epoch " << state_.epoch << "/" << o_.epochs << ": loss " << fmt(r.loss) << ", " << fmt(r.images_per_s, 1)
         << " img/s, " << r.empty_images << " negative images";
    if (s_.validate_on && r.val.map50 >= 0)
      line << ", val mAP@0.5 " << fmt(r.val.map50) << " (VOC07 " << fmt(r.val.voc07) << "), COCO AP "
           << fmt(r.val.coco_ap) << (best ? " *best*" : "");
    line << " [" << format_duration(r.seconds) << "]";
    progress_.line(line.str());
    if (stop_ && state_.epoch < o_.epochs)
      progress_.line(result_.stop_reason + " at the end of epoch " + std::to_string(state_.epoch) +
                     "; continue with: cvtk train --resume " + o_.out.string());
    result_.last_map50 = r.val.map50;
    result_.last_coco_ap = r.val.coco_ap;
  }

  void write_last() {
    save_checkpoint(result_.last, s_.info, s_.model, s_.ema.get(), s_.optimizer.get(), state_, s_.options_text);
    last_written_ = true;
    s_.mark_checkpoint_written();
  }

  void summarise() {
    result_.epochs_done = state_.epoch;
    result_.steps = state_.step;
    result_.stopped_early = result_.stopped_early && state_.epoch < o_.epochs;
    result_.best_map50 = state_.best_metric;
    if (!best_written_) result_.best.clear();
    if (!last_written_) result_.last.clear();
    const auto ls = s_.loader->stats();
    if (ls.skipped) {
      std::fprintf(out_, "skipped %zu unreadable images:\n", ls.skipped);
      for (size_t i = 0; i < ls.skipped_files.size() && i < 10; ++i)
        std::fprintf(out_, "  %s\n", ls.skipped_files[i].c_str());
      if (ls.skipped_files.size() > 10) std::fprintf(out_, "  ... and %zu more\n", ls.skipped_files.size() - 10);
    }
    std::string files;
    if (!result_.best.empty()) files += "best " + result_.best.string();
    if (!result_.last.empty()) files += (files.empty() ? "last " : ", last ") + result_.last.string();
    std::fprintf(out_, "%s: %d epochs, %ld steps in %s; %s\n", result_.interrupted ? "interrupted" : "done",
                 result_.epochs_done, result_.steps, format_duration(seconds_since(start_)).c_str(),
                 files.empty() ? "no checkpoint written" : files.c_str());
  }

  TrainSession& s_;
  const TrainOptions& o_;
  TrainState& state_;
  std::FILE* out_;
  clock_type::time_point start_;
  Progress progress_;
  TrainResult result_;
  bool best_written_ = false, last_written_ = false;
  bool stop_ = false;  // finish the current epoch, then stop
};

}  // namespace

TrainResult train(TrainOptions options, std::FILE* out) {
  const auto start = clock_type::now();
  TrainSession session(std::move(options), out);  // everything checked before anything is created
  session.open_run_directory();
  InterruptGuard interrupt;
  return EpochLoop(session, out, start).run();
}

}  // namespace cvtk::detection
