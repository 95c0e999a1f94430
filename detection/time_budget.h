#pragma once
// `cvtk train --time MINUTES`: the number of epochs that makes the whole schedule (warm-up, cosine
// decay to its last step, EMA) end inside a wall-clock budget. Stopping a fixed schedule when the
// clock runs out (--time-limit) leaves the learning rate high and the model unfinished; planning the
// length from the measured pace instead ends every run with its decay done.
//
// The trainer plans once early in the first epoch (after kMeasuredSteps steps, while the warm-up,
// whose rates do not depend on the length, is still running) and plans again after every epoch from
// the pace of the last epoch and the last validation's duration, so a machine that slows down or a
// validation that costs more than estimated moves the end of the schedule, not past the budget.
//
// Units: seconds. Pure arithmetic, no clock: the trainer passes what it measured.
#include <string>

namespace cvtk::detection {

inline constexpr int kMeasuredSteps = 12;  // steps timed before the first plan (after kSkippedSteps)
inline constexpr int kSkippedSteps = 3;    // first steps not timed: allocation, cold caches

struct Pace {
  double budget_s = 0;   // the whole run's budget
  double elapsed_s = 0;  // since the run started (setup and everything so far)
  int epochs_done = 0;   // completed epochs
  long steps_done_in_epoch = 0;
  long steps_per_epoch = 1;
  double step_s = 0;        // seconds per training step (data included), as measured
  double validation_s = 0;  // seconds one validation takes (measured, or estimated before the first)
  int val_every = 1;        // validation after every val_every-th epoch and after the last
  bool validates = true;
  // The plan in force (0: none yet). Past its first half a new plan may only shorten it: lengthening
  // a cosine schedule near its end would raise a rate that had already decayed.
  int planned_epochs = 0;
};

struct EpochPlan {
  int epochs = 1;       // total epochs of the run, at least the current one
  double finish_s = 0;  // the run's predicted duration with that many epochs
  bool fits = true;     // false when even finishing the current epoch exceeds the budget
};

// The most epochs whose predicted finish (elapsed + the current epoch's rest + the following epochs +
// their validations) stays within 98% of the budget (the rest is for checkpoints and the report); at
// least the epoch in progress, and no longer than planned_epochs once half of those are done.
EpochPlan plan_epochs(const Pace& pace);

// "47 epochs (1,692 steps of 0.81 s, 47 validations of 3.1 s) end at 29.4 of 30 min"
std::string describe(const EpochPlan& plan, const Pace& pace);

}  // namespace cvtk::detection
