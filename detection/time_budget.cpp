#include "detection/time_budget.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cvtk::detection {

namespace {

// Validations among epochs (done, total]: every val_every-th, and the last one always.
long validations_between(int done, int total, int val_every) {
  if (total <= done) return 0;
  const int ve = std::max(1, val_every);
  return long(total / ve - done / ve) + (total % ve != 0 ? 1 : 0);
}

double predicted_finish(const Pace& p, int total) {
  const long spe = std::max(1L, p.steps_per_epoch);
  const long steps_left = (spe - p.steps_done_in_epoch) + long(total - p.epochs_done - 1) * spe;
  const double validations = p.validates ? double(validations_between(p.epochs_done, total, p.val_every)) : 0;
  return p.elapsed_s + double(steps_left) * p.step_s + validations * p.validation_s;
}

}  // namespace

EpochPlan plan_epochs(const Pace& p) {
  const double limit = 0.98 * p.budget_s;
  EpochPlan plan;
  plan.epochs = p.epochs_done + 1;
  plan.finish_s = predicted_finish(p, plan.epochs);
  plan.fits = plan.finish_s <= limit;
  if (!(p.step_s > 0) || !std::isfinite(p.step_s)) return plan;
  // The finish grows with every epoch, so the first epoch count past the limit ends the search;
  // the cap only guards against a pace of (nearly) zero.
  for (int e = plan.epochs + 1; e <= 100000; ++e) {
    const double f = predicted_finish(p, e);
    if (f > limit) break;
    plan.epochs = e;
    plan.finish_s = f;
  }
  if (p.planned_epochs > 0 && 2 * p.epochs_done >= p.planned_epochs && plan.epochs > p.planned_epochs) {
    plan.epochs = std::max(p.planned_epochs, p.epochs_done + 1);
    plan.finish_s = predicted_finish(p, plan.epochs);
  }
  return plan;
}

std::string describe(const EpochPlan& plan, const Pace& p) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  const long spe = std::max(1L, p.steps_per_epoch);
  s << plan.epochs << (plan.epochs == 1 ? " epoch (" : " epochs (") << long(plan.epochs) * spe << " steps at ";
  s.precision(2);
  s << p.step_s << " s";
  if (p.validates) {
    s.precision(1);
    const long v = validations_between(0, plan.epochs, p.val_every);
    s << ", " << v << (v == 1 ? " validation of " : " validations of ") << p.validation_s << " s";
  }
  s.precision(1);
  s << ") end at " << plan.finish_s / 60 << " of " << p.budget_s / 60 << " min";
  if (!plan.fits) s << ": the budget is too short for even this epoch";
  return s.str();
}

}  // namespace cvtk::detection
