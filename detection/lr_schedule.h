#pragma once
// Learning rate as a function of the optimisation step: linear warm-up from base * warmup_factor over
// the first warmup_steps, then either steps (x gamma at each listed epoch) or a cosine decay to
// base * min_factor at the last step. Pure function of the step, so a resumed run gets the same rates.
#include <string>
#include <vector>

namespace cvtk::detection {

struct LrScheduleOptions {
  double base = 0.01;
  std::string kind = "step";     // "step" | "cosine"
  std::vector<int> step_epochs;  // step: epochs (1-based boundaries) after which lr *= gamma
  double gamma = 0.1;
  double min_factor = 0.01;  // cosine: final lr = base * min_factor
  int warmup_steps = 500;
  double warmup_factor = 0.001;
};

class LrSchedule {
 public:
  LrSchedule(LrScheduleOptions options, long steps_per_epoch, int epochs);
  double at(long step) const;  // step counts from 0
  std::string describe() const;

 private:
  LrScheduleOptions o_;
  long steps_per_epoch_;
  int epochs_;
};

}  // namespace cvtk::detection
