#include "detection/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace cvtk::detection {

LrSchedule::LrSchedule(LrScheduleOptions options, long steps_per_epoch, int epochs)
    : o_(std::move(options)), steps_per_epoch_(std::max(1L, steps_per_epoch)), epochs_(std::max(1, epochs)) {
  if (o_.kind != "step" && o_.kind != "cosine")
    throw std::invalid_argument("schedule: unknown kind '" + o_.kind + "' (step or cosine)");
  if (!(o_.base > 0)) throw std::invalid_argument("schedule: learning rate must be positive");
}

double LrSchedule::at(long step) const {
  double lr = o_.base;
  if (o_.kind == "step") {
    const long epoch = step / steps_per_epoch_;  // 0-based epoch of this step
    for (int e : o_.step_epochs)
      if (epoch >= e) lr *= o_.gamma;
  } else {
    const double total = double(steps_per_epoch_) * epochs_;
    const double t = std::min(1.0, double(step) / std::max(1.0, total - 1));
    lr = o_.base * (o_.min_factor + (1 - o_.min_factor) * 0.5 * (1 + std::cos(M_PI * t)));
  }
  if (step < o_.warmup_steps) {
    const double a = double(step) / o_.warmup_steps;
    lr *= o_.warmup_factor * (1 - a) + a;
  }
  return lr;
}

std::string LrSchedule::describe() const {
  std::ostringstream s;
  s << o_.kind << " lr " << o_.base;
  if (o_.kind == "step") {
    s << " x" << o_.gamma << " after epochs";
    for (int e : o_.step_epochs) s << " " << e;
  } else {
    s << " -> " << o_.base * o_.min_factor;
  }
  s << ", warm-up " << o_.warmup_steps << " steps from x" << o_.warmup_factor;
  return s.str();
}

}  // namespace cvtk::detection
