#include "detection/trainer.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "detection/distributed/data_parallel.h"
#include "detection/distributed/launcher.h"
#include "detection/distributed/sync_batchnorm.h"
#include "detection/interrupt_guard.h"
#include "detection/predictor.h"
#include "detection/progress.h"
#include "detection/time_budget.h"
#include "detection/train_optimizer.h"
#include "detection/train_session.h"
#include "detection/train_validation.h"
#include "metrics/bootstrap.h"
#include "metrics/training_report.h"
#include "vision/data/file_util.h"

namespace cvtk::detection {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string fmt(double v, int precision = 4) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

// One optimiser step's losses: the total and the four terms (kLossTermNames).
struct StepLosses {
  double total = 0;
  std::array<double, 4> terms{};
  std::string bad_ranks;  // data parallel: the ranks whose loss was not finite ("1, 3")
  bool finite() const { return std::isfinite(total); }
  std::string describe() const {
    std::string s = fmt(total) + ":";
    for (size_t k = 0; k < terms.size(); ++k)
      s += std::string(k ? "," : "") + " " + kLossTermNames[k] + " " + fmt(terms[k]);
    return s;
  }
};

// Data parallel: every rank's losses; the step's are their mean (each rank's loss is a mean over
// its equal share of the global batch), not finite when any rank's is.
void merge_losses(StepLosses& r, distributed::DataParallel& dp) {
  std::array<double, 5> mine = {r.total, r.terms[0], r.terms[1], r.terms[2], r.terms[3]};
  const auto all = dp.gather_losses(mine);
  StepLosses m;
  for (size_t q = 0; q < all.size(); ++q) {
    if (!std::isfinite(all[q][0])) m.bad_ranks += (m.bad_ranks.empty() ? "" : ", ") + std::to_string(q);
    m.total += all[q][0] / double(all.size());
    for (size_t k = 0; k < 4; ++k) m.terms[k] += all[q][k + 1] / double(all.size());
  }
  if (!m.bad_ranks.empty()) {
    // Every rank stops; a rank whose own loss was bad reports its own terms (and images).
    const std::string bad = m.bad_ranks;
    if (!r.finite()) m = r;
    m.total = NAN;
    m.bad_ranks = bad;
  }
  r = m;
}

// Forward, and unless the loss is not finite, backward (with the gradients averaged over the ranks
// when dp is given), clipping, the optimiser step and the EMA update.
StepLosses train_step(TrainSession& s, const augment::Batch& batch, double lr, distributed::DataParallel* dp) {
  const TrainOptions& o = s.options;
  set_lr(*s.optimizer, lr);
  LossTerms losses;
  {
    distributed::SyncBatchNormScope sync_bn(dp && o.sync_bn ? dp : nullptr);
    losses = s.model->forward_train(batch.images.to(s.device), training_targets(batch, s.device, o.seed, s.state.step));
  }
  auto total = losses.total();
  StepLosses r;
  r.total = total.item<double>();
  const std::array<torch::Tensor, 4> terms = {losses.rpn_objectness, losses.rpn_box, losses.rcnn_classification,
                                              losses.rcnn_box};
  for (size_t k = 0; k < terms.size(); ++k) r.terms[k] = terms[k].item<double>();
  if (dp) merge_losses(r, *dp);
  if (!r.finite()) return r;
  s.optimizer->zero_grad();
  if (dp) dp->begin_backward();
  total.backward();
  if (dp) dp->finish_backward();
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
  EpochLoop(TrainSession& s, std::FILE* out, clock_type::time_point start, distributed::DataParallel* dp)
      : s_(s),
        o_(s.options),
        state_(s.state),
        out_(out),
        start_(start),
        progress_(out, s.options.log_every),
        dp_(dp),
        writer_(!dp || dp->rank() == 0) {
    result_.last = o_.out / "last.pt";
    result_.best = o_.out / "best.pt";
    result_.out = o_.out;
    result_.best_map50 = state_.best_metric;
    // best.pt of this run: written by this invocation, or by the run being resumed (an --exist-ok run's
    // directory may still hold an earlier run's best.pt, which is not this run's).
    best_written_ = s.resuming && state_.best_epoch > 0 && std::filesystem::exists(result_.best);
    last_written_ = s.resuming;
    // A resumed --time run keeps the length planned when it started (its budget was that invocation's).
    plan_time_ = o_.time_minutes > 0 && !s.resuming;
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
      const StepLosses losses = train_step(s_, *batch, lr, dp_);
      if (!losses.finite())
        throw std::runtime_error(
            "non-finite loss (" + losses.describe() + ") at epoch " + std::to_string(epoch + 1) + ", step " +
            std::to_string(state_.step + 1) + (losses.bad_ranks.empty() ? "" : " on rank " + losses.bad_ranks) +
            ", images " +
            (std::isfinite(losses.terms[0] + losses.terms[1] + losses.terms[2] + losses.terms[3]) &&
                     !losses.bad_ranks.empty()
                 ? std::string("of that rank")
                 : s_.image_files(batch->image_ids)) +
            "; stopped, " +
            (last_written_ ? result_.last.string() + " is the last good checkpoint"
                           : std::string("no checkpoint had been written (nothing kept)")));
      sums.step_s += seconds_since(t0);
      sums.add(losses, batch->images.size(0) * (dp_ ? dp_->size() : 1));
      ++state_.step;
      ++done;
      if (plan_time_ && !planned_) time_first_steps(epoch, done);
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
  // Data parallel: the ranks agree (a signal or the clock may reach one rank a step before another).
  bool should_stop() {
    std::array<bool, 3> why = {InterruptGuard::requested(),
                               o_.time_limit_minutes > 0 && seconds_since(start_) > o_.time_limit_minutes * 60,
                               o_.max_steps > 0 && state_.step >= o_.max_steps};
    if (dp_) why = dp_->agree_stop(why);
    const bool out_of_time = why[1];
    if (!why[0] && !why[1] && !why[2]) return false;
    result_.interrupted = why[0];
    result_.stopped_early = true;
    result_.stop_reason = result_.interrupted ? "interrupted"
                          : out_of_time       ? "time limit reached"
                                              : "step limit reached";
    stop_ = true;
    return true;
  }

  // Validation, checkpoints, the log rows and the epoch's line.
  void finish_epoch(const EpochSums& sums, double seconds) {
    // The epoch's whole pace (data included), before deciding whether this epoch is the last.
    if (plan_time_ && sums.steps > 0) plan(seconds / double(sums.steps), state_.epoch - 1, s_.steps_per_epoch);
    EpochRecord r;
    if (s_.validate_on && (state_.epoch % o_.val_every == 0 || state_.epoch == o_.epochs || stop_)) {
      const auto val_start = clock_type::now();
      const auto weights = s_.ema ? s_.ema->state() : vision::state_dict(*s_.model);
      if (dp_) {
        // Rank 0's weights everywhere (BatchNorm statistics differ across ranks without --sync-bn).
        std::vector<torch::Tensor> tensors;
        for (const auto& w : weights) tensors.push_back(w.second);
        dp_->broadcast(tensors);
      }
      const bool last = state_.epoch == o_.epochs || stop_;
      final_dets_.clear();
      // In eval's batches, not the training batch: a batch of another size rounds the convolutions
      // differently, and near-tied scores of a young model then reorder detections.
      r.val = validate(s_.info, weights, s_.val_set, PredictOptions().batch, o_.loader_threads, s_.device,
                       dp_ ? &dp_->group() : nullptr, last ? &final_dets_ : nullptr);
      final_validated_ = last;
      validation_s_ = seconds_since(val_start);
      s_.model->train();
    }
    const bool best = s_.validate_on ? r.val.map50 > state_.best_metric : true;
    if (best && s_.validate_on) {
      state_.best_metric = r.val.map50;
      state_.best_epoch = state_.epoch;
      best_coco_ap_ = r.val.coco_ap;
    }
    write_last();
    if (best && writer_)
      save_checkpoint(result_.best, s_.info, s_.model, s_.ema.get(), nullptr, state_, s_.options_text);
    best_written_ = best_written_ || best;
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
    if (writer_) {
      s_.csv->write(r);
      s_.jsonl->write(r);
      write_report();
    }

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

  // --time: the first plan, from kMeasuredSteps steps after the first kSkippedSteps of the run; an
  // epoch shorter than that is planned at its end instead.
  void time_first_steps(int epoch, long done) {
    ++steps_seen_;
    if (steps_seen_ == kSkippedSteps) timing_start_ = clock_type::now();
    if (steps_seen_ == kSkippedSteps + kMeasuredSteps) plan(seconds_since(timing_start_) / kMeasuredSteps, epoch, done);
  }

  // Sets the run's length from the pace (time_budget.h). epochs_done and done_in_epoch say where the
  // run is; at an epoch's end that epoch counts as in progress with all its steps done, so the plan
  // may end the run with it.
  void plan(double step_s, int epochs_done, long done_in_epoch) {
    Pace p;
    p.budget_s = o_.time_minutes * 60;
    p.elapsed_s = seconds_since(start_);
    p.epochs_done = epochs_done;
    p.steps_done_in_epoch = done_in_epoch;
    p.steps_per_epoch = s_.steps_per_epoch;
    p.step_s = step_s;
    p.validates = s_.validate_on;
    p.val_every = o_.val_every;
    p.planned_epochs = planned_ ? o_.epochs : 0;
    // Before the first validation: an inference pass costs about a third of a training step per
    // image; half of one is assumed, plus a second for the evaluation.
    p.validation_s =
        validation_s_ >= 0 ? validation_s_ : 1 + 0.5 * step_s / o_.batch * double(s_.val_set.images.size());
    const EpochPlan e = plan_epochs(p);
    int epochs = e.epochs;
    if (dp_) epochs = std::stoi(dp_->group().broadcast_string(std::to_string(epochs)));  // rank 0's plan
    const bool first = !planned_;
    planned_ = true;
    if (epochs == o_.epochs && !first) return;
    s_.set_epochs(epochs);
    // Every plan is applied; one that moves the end by less than 5% of the last printed one is not
    // worth a line per epoch.
    if (!first && std::abs(epochs - printed_epochs_) < std::max(1.0, 0.05 * printed_epochs_)) return;
    printed_epochs_ = epochs;
    char ema[64] = "";
    if (s_.ema_unset) std::snprintf(ema, sizeof ema, "; EMA decay %.5g, ramp %.0f", o_.ema, o_.ema_ramp);
    progress_.line(
        std::string(first ? "time: --time " + data::format_number(o_.time_minutes) + " min: "
                          : "time: re-planned at the pace of epoch " + std::to_string(epochs_done + 1) + ": ") +
        describe(e, p) + ema);
  }

  // OUT/report.html, redrawn from results.jsonl each epoch so a running job can be looked at. A page
  // that cannot be written costs a warning, never the run.
  void write_report() {
    try {
      metrics::write_training_report(o_.out);
    } catch (const std::exception& e) {
      progress_.line(std::string("warning: training report not written: ") + e.what());
    }
  }

  // Rank 0 alone writes; the other ranks hold the same weights and state.
  void write_last() {
    if (writer_)
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
    if (dp_) std::fprintf(out_, "communication: %s\n", dp_->describe_communication().c_str());
    if (writer_) report_final_and_best();
    std::fprintf(out_, "%s: %d epochs, %ld steps in %s; %s\n", result_.interrupted ? "interrupted" : "done",
                 result_.epochs_done, result_.steps, format_duration(seconds_since(start_)).c_str(),
                 files.empty() ? "no checkpoint written" : files.c_str());
  }

  // The weights a user takes away, side by side: the final ones (last.pt; the EMA average when on) and
  // the best epoch's (best.pt). The best is picked on the images it is measured on, so it flatters;
  // how much an epoch-to-epoch change can be chance is the bootstrap's spread over those images.
  void report_final_and_best() {
    if (!s_.validate_on || !final_validated_ || result_.last_map50 < 0) return;
    std::string noise;
    if (s_.val_set.images.size() < kNoiseImages) {
      try {
        metrics::BootstrapOptions bo;
        bo.seed = o_.seed;
        noise = metrics::describe(metrics::bootstrap(s_.val_set, final_dets_, bo));
      } catch (const std::exception& e) {
        noise = std::string("noise not estimated: ") + e.what();
      }
    }
    std::fprintf(out_, "final weights (%s%s): val mAP@0.5 %s, COCO AP %s\n", result_.last.filename().string().c_str(),
                 s_.ema ? ", EMA average" : "", fmt(result_.last_map50).c_str(), fmt(result_.last_coco_ap).c_str());
    if (state_.best_epoch > 0)
      std::fprintf(out_, "best epoch %d of %d (%s): val mAP@0.5 %s%s; %s\n", state_.best_epoch, state_.epoch,
                   result_.best.filename().string().c_str(), fmt(state_.best_metric).c_str(),
                   best_coco_ap_ >= 0 ? (", COCO AP " + fmt(best_coco_ap_)).c_str() : "",
                   state_.best_epoch == state_.epoch
                       ? "the final epoch"
                       : "picked on these validation images, so an optimistic figure for new ones");
    if (!noise.empty()) std::fprintf(out_, "noise: %s\n", noise.c_str());
  }

  // Below this many validation images the spread of the figure is printed (bootstrap.h).
  static constexpr size_t kNoiseImages = 5000;

  TrainSession& s_;
  const TrainOptions& o_;
  TrainState& state_;
  std::FILE* out_;
  clock_type::time_point start_;
  Progress progress_;
  TrainResult result_;
  bool best_written_ = false, last_written_ = false;
  bool stop_ = false;  // finish the current epoch, then stop
  // --time planning (time_budget.h)
  bool plan_time_ = false, planned_ = false;
  int printed_epochs_ = 0;  // the plan last printed
  int steps_seen_ = 0;
  clock_type::time_point timing_start_;
  double validation_s_ = -1;  // the last validation's duration
  // The last epoch's validation: its detections, for the noise of the final figures.
  std::vector<data::Detection> final_dets_;
  bool final_validated_ = false;
  double best_coco_ap_ = -1;  // of the best epoch, when this invocation validated it
  distributed::DataParallel* dp_;
  bool writer_;  // rank 0 (or the only process): checkpoints, logs
};

}  // namespace

TrainResult train(TrainOptions options, std::FILE* out) {
  const auto start = clock_type::now();
  const auto world = distributed::world_from_environment();
  std::unique_ptr<distributed::DataParallel> dp;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> quiet(nullptr, std::fclose);
  if (world.distributed()) {
    check_train_options(options);  // before waiting for the other ranks
    const auto timeout = std::chrono::milliseconds(long(options.dist_timeout * 1000));
    dp = std::make_unique<distributed::DataParallel>(world, timeout, options.device.rfind("cuda", 0) == 0,
                                                     options.sync_bn);
    // Rank 0 alone prints, logs and writes.
    if (world.rank != 0) quiet.reset(std::fopen("/dev/null", "w")), out = quiet ? quiet.get() : out;
  }
  TrainSession session(std::move(options), out, world);  // everything checked before anything is created
  if (!dp) {
    session.open_run_directory();
    InterruptGuard interrupt;
    return EpochLoop(session, out, start, nullptr).run();
  }
  std::string dir;
  if (dp->rank() == 0) session.open_run_directory(), dir = session.options.out.string();
  session.adopt_run_directory(dp->group().broadcast_string(dir));
  dp->broadcast_module(*session.model);
  if (session.ema) {
    std::vector<torch::Tensor> averaged;
    for (const auto& e : session.ema->state()) averaged.push_back(e.second);
    dp->broadcast(averaged);
  }
  dp->attach(*session.model);
  InterruptGuard interrupt;
  auto result = EpochLoop(session, out, start, dp.get()).run();
  dp->group().barrier();
  return result;
}

int launch_training_workers(const TrainOptions& options) {
  check_train_options(options);
  if (const char* w = std::getenv("WORLD_SIZE"); w && *w && std::string(w) != "1")
    throw std::invalid_argument("--nproc " + std::to_string(options.nproc) + ": WORLD_SIZE=" + w +
                                " is set already (a launcher started this process); drop --nproc");
  return distributed::launch_local_workers(options.nproc);
}

}  // namespace cvtk::detection
