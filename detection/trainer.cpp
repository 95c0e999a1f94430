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
    for (size_t k = 0; k < terms.size(); ++k) s += std::string(k ? "," : "") + " " + kLossTermNames[k] + " " + fmt(terms[k]);
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
       << ", rcnn " << fmt(e.mean(e.terms[2]), 3) << "+" << fmt(e.mean(e.terms[3]), 3) << ") lr " << std::setprecision(3) << lr
       << " " << fmt(e.images / std::max(elapsed, 1e-9), 1) << " img/s data " << fmt(e.mean(e.data_s), 3) << "s step "
       << fmt(e.mean(e.step_s), 3) << "s mem " << fmt(peak_memory_mb(), 0) << "MB";
  return line.str();
}

}  // namespace

TrainResult train(TrainOptions options, std::FILE* out) {
  const auto run_start = clock_type::now();
  TrainSession s(std::move(options), out);  // everything checked before anything is created
  s.open_run_directory();
  const TrainOptions& o = s.options;
  TrainState& state = s.state;

  InterruptGuard interrupt;
  Progress progress(out, o.log_every);
  TrainResult result;
  result.last = o.out / "last.pt";
  result.best = o.out / "best.pt";
  result.out = o.out;
  result.best_map50 = state.best_metric;
  // best.pt of this run: written by this invocation, or by the run being resumed (an --exist-ok run's
  // directory may still hold an earlier run's best.pt, which is not this run's).
  bool best_written = s.resuming && state.best_epoch > 0 && std::filesystem::exists(result.best);
  bool last_written = s.resuming;
  auto write_last = [&] {
    save_checkpoint(result.last, s.info, s.model, s.ema.get(), s.optimizer.get(), state, s.options_text);
    last_written = true;
    s.mark_checkpoint_written();
  };
  bool stop = false;  // finish the current epoch, then stop
  s.model->train();

  for (int epoch = state.epoch; epoch < o.epochs && !stop; ++epoch) {
    s.loader->start_epoch(epoch);
    for (long k = 0; k < state.batch_in_epoch; ++k) s.loader->next();  // already trained before the interruption
    EpochSums sums;
    const auto epoch_start = clock_type::now();
    long done = state.batch_in_epoch;
    bool stopped_mid_epoch = false;
    while (true) {
      auto t0 = clock_type::now();
      auto batch = s.loader->next();
      sums.data_s += seconds_since(t0);
      if (!batch) break;
      t0 = clock_type::now();
      const double lr = s.schedule->at(state.step);
      for (const auto& t : batch->targets) sums.empty += t.boxes.size(0) == 0;
      const StepLosses losses = train_step(s, *batch, lr);
      if (!losses.finite())
        throw std::runtime_error("non-finite loss (" + losses.describe() + ") at epoch " + std::to_string(epoch + 1) +
                                 ", step " + std::to_string(state.step + 1) + ", images " + s.image_files(batch->image_ids) +
                                 "; stopped, " +
                                 (last_written ? result.last.string() + " is the last good checkpoint"
                                               : std::string("no checkpoint had been written (nothing kept)")));
      sums.step_s += seconds_since(t0);
      sums.add(losses, batch->images.size(0));
      ++state.step;
      ++done;
      const double elapsed = seconds_since(epoch_start);
      const double left = elapsed / double(sums.steps) *
                          ((s.steps_per_epoch - done) + double(o.epochs - epoch - 1) * s.steps_per_epoch);
      progress.step(epoch + 1, o.epochs, done, s.steps_per_epoch, left, progress_text(sums, lr, elapsed));

      const bool out_of_time = o.time_limit_minutes > 0 && seconds_since(run_start) > o.time_limit_minutes * 60;
      const bool step_limit = o.max_steps > 0 && state.step >= o.max_steps;
      if (InterruptGuard::requested() || out_of_time || step_limit) {
        result.interrupted = InterruptGuard::requested();
        result.stopped_early = true;
        result.stop_reason = result.interrupted ? "interrupted" : out_of_time ? "time limit reached" : "step limit reached";
        if (done < s.steps_per_epoch) {
          state.batch_in_epoch = done;
          write_last();
          progress.line(result.stop_reason + " at epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(state.step) +
                        "; " + result.last.string() + " written; continue with: cvtk train --resume " + o.out.string());
          stopped_mid_epoch = true;
          break;
        }
        stop = true;  // the epoch is complete: finish it normally (validation, checkpoints) then stop
      }
    }
    if (stopped_mid_epoch) break;
    if (sums.steps == 0) {
      const auto ls = s.loader->stats();
      throw std::runtime_error(
          o.data.string() + ": epoch " + std::to_string(epoch + 1) + " made no training batch: " + std::to_string(ls.skipped) +
          " of " + std::to_string(s.train_set.images.size()) + " images unreadable" +
          (ls.skipped_files.empty() ? std::string() : " (first: " + ls.skipped_files.front() + ")") +
          (last_written ? "; " + result.last.string() + " is the last good checkpoint" : "; nothing kept"));
    }

    // End of epoch: validation, checkpoints, log rows.
    state.epoch = epoch + 1;
    state.batch_in_epoch = 0;
    EpochRecord r;
    if (s.validate_on && (state.epoch % o.val_every == 0 || state.epoch == o.epochs || stop)) {
      r.val = validate(s.info, s.ema ? s.ema->state() : vision::state_dict(*s.model), s.val_set, o.batch, o.loader_threads,
                       s.device);
      s.model->train();
    }
    const bool best = s.validate_on ? r.val.map50 > state.best_metric : true;
    if (best && s.validate_on) {
      state.best_metric = r.val.map50;
      state.best_epoch = state.epoch;
    }
    write_last();
    if (best) {
      save_checkpoint(result.best, s.info, s.model, s.ema.get(), nullptr, state, s.options_text);
      best_written = true;
    }
    r.seconds = seconds_since(epoch_start);
    r.epoch = state.epoch;
    r.steps = state.step;
    r.lr = s.schedule->at(state.step - 1);
    r.loss = sums.mean(sums.total);
    for (size_t k = 0; k < r.terms.size(); ++k) r.terms[k] = sums.mean(sums.terms[k]);
    r.images_per_s = sums.images / std::max(r.seconds, 1e-9);
    r.data_s = sums.data_s;
    r.step_s = sums.step_s;
    r.empty_images = sums.empty;
    r.peak_mb = peak_memory_mb();
    s.csv->write(r);
    s.jsonl->write(r);

    std::ostringstream summary;
    summary << "epoch " << state.epoch << "/" << o.epochs << ": loss " << fmt(r.loss) << ", " << fmt(r.images_per_s, 1)
            << " img/s, " << r.empty_images << " negative images";
    if (s.validate_on && r.val.map50 >= 0)
      summary << ", val mAP@0.5 " << fmt(r.val.map50) << " (VOC07 " << fmt(r.val.voc07) << "), COCO AP " << fmt(r.val.coco_ap)
              << (best ? " *best*" : "");
    summary << " [" << format_duration(r.seconds) << "]";
    progress.line(summary.str());
    if (stop && state.epoch < o.epochs)
      progress.line(result.stop_reason + " at the end of epoch " + std::to_string(state.epoch) +
                    "; continue with: cvtk train --resume " + o.out.string());
    result.last_map50 = r.val.map50;
    result.last_coco_ap = r.val.coco_ap;
  }
  result.epochs_done = state.epoch;
  result.steps = state.step;
  result.stopped_early = result.stopped_early && state.epoch < o.epochs;
  result.best_map50 = state.best_metric;
  if (!best_written) result.best.clear();
  if (!last_written) result.last.clear();
  const auto ls = s.loader->stats();
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
