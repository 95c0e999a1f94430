#include "detection/train_defaults.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "vision/data/file_util.h"

namespace cvtk::detection {

namespace {

// ThunderNet predicts from a stride-16 map; a box whose short side spans 24 px covers one and a half
// cells, below which the RPN's anchors and PSRoIAlign's 7x7 bins have next to nothing to see.
constexpr double kMinBoxSide = 24;
constexpr int kSizeStep = 32;  // sides the backbone's five stride-2 stages divide evenly
constexpr int kMinSize = 320, kMaxSize = 640;

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

int round_up(double x, int step) { return int(std::ceil(x / step)) * step; }

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

// The stretch to size x size scales a box's short side by size / W or size / H; a tenth of the boxes
// of every class must keep kMinBoxSide. Per class, because a class of small objects (platelets among
// blood cells) is a small share of all boxes, and a rule over all boxes would size the input for the
// large classes and leave the small one undetectable. Classes with fewer than kMinClassBoxes boxes
// are too few to measure. Images smaller than 320 are not enlarged past their own size.
constexpr size_t kMinClassBoxes = 10;

DefaultChoice choose_size(TrainOptions& o, const data::Dataset& train) {
  std::vector<std::vector<double>> relative(train.classes.size()), short_px(train.classes.size());
  std::vector<double> long_sides;
  for (const auto& im : train.images) {
    if (im.width <= 0 || im.height <= 0) continue;
    long_sides.push_back(std::max(im.width, im.height));
    for (const auto& ob : im.objects) {
      const double w = ob.box.width(), h = ob.box.height();
      if (!(w > 0 && h > 0) || ob.label < 0 || size_t(ob.label) >= relative.size()) continue;
      relative[size_t(ob.label)].push_back(std::min(w / im.width, h / im.height));
      short_px[size_t(ob.label)].push_back(std::min(w, h));
    }
  }
  // The class whose tenth-smallest box is smallest relative to its image.
  int smallest = -1;
  double r10 = 0;
  for (size_t c = 0; c < relative.size(); ++c) {
    if (relative[c].size() < kMinClassBoxes) continue;
    const double q = quantile(relative[c], 0.1);
    if (smallest < 0 || q < r10) smallest = int(c), r10 = q;
  }
  if (smallest < 0) {
    o.size = kMinSize;
    return {"--size", std::to_string(o.size),
            "no class has " + std::to_string(kMinClassBoxes) + " boxes with a known image size to measure"};
  }
  const int image_side = round_up(quantile(long_sides, 0.5), kSizeStep);
  const int lo = std::min(kMinSize, std::max(128, image_side));
  const int need = round_up(kMinBoxSide / std::max(r10, 1e-6), kSizeStep);
  o.size = std::clamp(need, lo, kMaxSize);
  std::string reason = "a tenth of the " + train.classes[size_t(smallest)] +
                       " boxes (the smallest class) are shorter than " +
                       fixed(quantile(short_px[size_t(smallest)], 0.1), 0) + " px on images of median long side " +
                       fixed(quantile(long_sides, 0.5), 0) + " px; at " + std::to_string(o.size) + " they span " +
                       fixed(r10 * o.size, 0) + " px";
  if (need > kMaxSize)
    reason += " (" + std::to_string(need) + " would keep 24 px; " + std::to_string(kMaxSize) +
              " is the largest chosen: give --size for more)";
  else if (need < lo)
    reason += lo < kMinSize ? " (the images' own size)" : " (320 is the smallest chosen)";
  return {"--size", std::to_string(o.size), reason};
}

// At most a quarter of the sampled RoIs are foreground: with few objects per image a large sample is
// mostly background and drowns the classification loss of the few objects; crowded images need the
// room.
DefaultChoice choose_rcnn_rois(TrainOptions& o, const data::Dataset& train) {
  size_t objects = 0;
  for (const auto& im : train.images) objects += im.objects.size();
  const double per_image = double(objects) / double(std::max<size_t>(1, train.images.size()));
  int rois = 64;
  while (rois < 512 && rois < 32 * per_image) rois *= 2;
  o.rcnn_rois = rois;
  return {"--rcnn-rois", std::to_string(rois), fixed(per_image, 1) + " objects per training image (32 RoIs each)"};
}

DefaultChoice choose_epochs(TrainOptions& o, const data::Dataset& train) {
  const double n = double(std::max<size_t>(1, train.images.size()));
  o.epochs = std::clamp(int(std::ceil(12000 / n)), 12, 300);
  const std::string seen = "about 12,000 training images seen (" + std::to_string(train.images.size()) + " per epoch)";
  if (o.time_minutes > 0)
    return {"--epochs", std::to_string(o.epochs), "until --time plans them from the measured pace: " + seen};
  return {"--epochs", std::to_string(o.epochs), seen + "; --time MINUTES fits the schedule to a budget instead"};
}

}  // namespace

EmaSetting ema_defaults(long total_steps) {
  const double steps = double(std::max(1L, total_steps));
  const double horizon = std::max(20.0, steps / 10);
  return {1 - 1 / horizon, std::max(10.0, std::round(steps / 20))};
}

std::vector<DefaultChoice> resolve_train_defaults(TrainOptions& o, const data::Dataset& train, long steps_per_epoch) {
  std::vector<DefaultChoice> chosen;
  if (o.size == 0) chosen.push_back(choose_size(o, train));
  if (o.rcnn_rois == 0) chosen.push_back(choose_rcnn_rois(o, train));
  if (o.epochs == 0) chosen.push_back(choose_epochs(o, train));
  const long spe =
      steps_per_epoch > 0 ? steps_per_epoch : std::max<long>(1, long(train.images.size()) / std::max(1, o.batch));
  if (o.schedule.kind == "auto") {
    o.schedule.kind = "cosine";
    chosen.push_back({"--schedule", "cosine", "decays smoothly to the last step, whatever the length"});
  }
  if (o.schedule.base == 0) {
    const bool sgd = o.optimizer == "sgd";
    const bool fine_tune = !o.init_weights.empty();
    o.schedule.base = (sgd ? 0.1 : 0.001) * (fine_tune ? 0.2 : 1) * o.batch / 8.0;
    chosen.push_back({"--lr", data::format_number(o.schedule.base),
                      std::string(sgd ? "SGD 0.1" : "AdamW 0.001") + " for a batch of 8, linear in --batch " +
                          std::to_string(o.batch) + (fine_tune ? ", a fifth for starting from --init-weights" : "") +
                          (o.schedule.kind == "cosine" ? ", cosine to 1%" : "")});
  }
  if (o.schedule.warmup_steps < 0) {
    o.schedule.warmup_steps = int(std::clamp<long>(2 * spe, 100, 300));
    chosen.push_back({"--warmup", std::to_string(o.schedule.warmup_steps),
                      "two epochs of " + std::to_string(spe) + " steps, within [100, 300]"});
  }
  if (o.ema < 0) {
    const long total = spe * std::max(1, o.epochs);
    const EmaSetting e = ema_defaults(total);
    o.ema = e.decay;
    o.ema_ramp = e.ramp;
    char decay[32];
    std::snprintf(decay, sizeof decay, "%.5g", o.ema);
    chosen.push_back({"--ema", decay,
                      "validation and the checkpoints use the average over about the last tenth of the run's " +
                          std::to_string(total) + " steps (ramp " + data::format_number(o.ema_ramp) +
                          " updates), so one noisy step does not decide the result" +
                          (o.time_minutes > 0 ? "; follows the length --time plans" : "")});
  }
  if (o.pipeline == "auto") {
    o.pipeline = "thundernet-train";
    chosen.push_back({"--pipeline", o.pipeline, "photometric, expand, IoU crop, resize, flip (cvtk augment list)"});
  }
  return chosen;
}

std::string describe(const std::vector<DefaultChoice>& choices) {
  std::string s;
  for (const auto& c : choices) s += "  " + c.flag + " " + c.value + ": " + c.reason + "\n";
  return s;
}

}  // namespace cvtk::detection
