#include "metrics/bootstrap.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "metrics/evaluate.h"
#include "metrics/input_checks.h"

namespace cvtk::metrics {

namespace {

// splitmix64: a few integer operations, fully specified, so the draws do not depend on the standard
// library (whose distributions are implementation-defined).
constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Draws {
 public:
  // Distinct replicates of one seed start from distinct states (mix64 is a bijection), and a
  // replicate's draws do not depend on which replicates ran before it.
  Draws(uint64_t seed, uint64_t replicate) : state_(mix64(mix64(seed) + replicate)) {}

  // Uniform in [0, n), n > 0: values below 2^64 mod n are rejected so that the rest cover every
  // residue equally often.
  uint64_t below(uint64_t n) {
    const uint64_t reject_below = (0 - n) % n;
    for (;;) {
      const uint64_t x = next();
      if (x >= reject_below) return x % n;
    }
  }

 private:
  uint64_t next() {
    state_ += kGoldenGamma;
    return mix64(state_);
  }
  uint64_t state_;
};

// The three figures of one evaluation pair, -1 where undefined.
struct Figures {
  double map50 = -1, coco_ap = -1, coco_ap50 = -1;
};

// Positions in Report::classes of the classes a figure averages over on the original data.
std::vector<size_t> defined_classes(const Report& report, double ClassReport::*field) {
  std::vector<size_t> classes;
  for (size_t i = 0; i < report.classes.size(); ++i)
    if (report.classes[i].*field >= 0) classes.push_back(i);
  return classes;
}

// The figure, or -1 when it is undefined or averages over other classes than on the original data.
double figure(const Report& report, const SummaryNumber* number, const std::vector<size_t>& required,
              double ClassReport::*field) {
  if (!number || number->value < 0) return -1;
  for (size_t i : required)
    if (report.classes[i].*field < 0) return -1;
  return number->value;
}

struct Required {
  std::vector<size_t> map50, coco_ap, coco_ap50;
};

Figures evaluate_figures(const data::Dataset& gt, const std::vector<data::Detection>& dets, const Protocol& voc,
                         const Protocol& coco, const Required& required) {
  const Report v = evaluate(gt, dets, voc);
  const Report c = evaluate(gt, dets, coco);
  Figures f;
  f.map50 = figure(v, v.summary.empty() ? nullptr : &v.summary.front(), required.map50, &ClassReport::ap);
  f.coco_ap = figure(c, c.summary.empty() ? nullptr : &c.summary.front(), required.coco_ap, &ClassReport::ap);
  f.coco_ap50 = figure(c, c.find("AP50"), required.coco_ap50, &ClassReport::ap50);
  return f;
}

// Linear between order statistics of sorted values (numpy's default), 0 <= p <= 1.
double percentile(const std::vector<double>& sorted, double p) {
  const double h = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

void summarise(BootstrapFigure& f) {
  std::vector<double> defined;
  defined.reserve(f.samples.size());
  for (double x : f.samples)
    if (x >= 0) defined.push_back(x);
  f.skipped = f.samples.size() - defined.size();
  if (defined.size() < 2) return;
  std::sort(defined.begin(), defined.end());
  f.lo = percentile(defined, 0.025);
  f.hi = percentile(defined, 0.975);
  // A figure that never moves has s.d. exactly 0, not the residue of rounding its mean.
  if (defined.front() == defined.back()) {
    f.sd = 0;
    return;
  }
  double sum = 0;
  for (double x : defined) sum += x;
  const double mean = sum / static_cast<double>(defined.size());
  double squares = 0;
  for (double x : defined) squares += (x - mean) * (x - mean);
  f.sd = std::sqrt(squares / static_cast<double>(defined.size() - 1));
}

}  // namespace

BootstrapResult bootstrap(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                          const BootstrapOptions& options) {
  if (options.replicates < 2)
    throw std::invalid_argument("bootstrap: at least 2 replicates are needed, got " +
                                std::to_string(options.replicates));
  if (gt.images.empty()) throw std::invalid_argument("bootstrap: the ground truth " + gt.source + " has no images");

  Protocol voc = voc_protocol(), coco = coco_protocol();
  voc.threads = coco.threads = options.threads;
  std::unique_ptr<tbb::global_control> limit;
  if (options.threads > 0)
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, options.threads);

  // The point values; evaluate also checks the input, so the replicates cannot fail on it.
  const Report point_voc = evaluate(gt, dets, voc);
  const Report point_coco = evaluate(gt, dets, coco);
  Required required;
  required.map50 = defined_classes(point_voc, &ClassReport::ap);
  required.coco_ap = defined_classes(point_coco, &ClassReport::ap);
  required.coco_ap50 = defined_classes(point_coco, &ClassReport::ap50);

  BootstrapResult result;
  result.replicates = static_cast<size_t>(options.replicates);
  result.images = gt.images.size();
  result.seed = options.seed;
  result.map50.value = point_voc.headline();
  result.coco_ap.value = point_coco.headline();
  const SummaryNumber* ap50 = point_coco.find("AP50");
  result.coco_ap50.value = ap50 ? ap50->value : -1;

  // Each image's detections in input order, built once for all replicates.
  const auto image_index = detail::index_images(gt);
  std::vector<std::vector<data::Detection>> image_dets(gt.images.size());
  for (const auto& d : dets) image_dets[image_index.at(d.image_id)].push_back(d);

  const size_t n = gt.images.size();
  std::vector<Figures> figures(result.replicates);
  tbb::parallel_for(size_t(0), result.replicates, [&](size_t r) {
    Draws draws(options.seed, r);
    data::Dataset sample;
    sample.classes = gt.classes;
    sample.category_ids = gt.category_ids;
    sample.source = gt.source;
    sample.images.reserve(n);
    std::vector<data::Detection> sample_dets;
    sample_dets.reserve(dets.size() + dets.size() / 4);
    for (size_t j = 0; j < n; ++j) {
      const size_t i = static_cast<size_t>(draws.below(n));
      // A copy is an image of its own: ids 1..N in draw order, unique whatever the original ids.
      const int64_t id = static_cast<int64_t>(j) + 1;
      sample.images.push_back(gt.images[i]);
      sample.images.back().id = id;
      for (const auto& d : image_dets[i]) {
        sample_dets.push_back(d);
        sample_dets.back().image_id = id;
      }
    }
    figures[r] = evaluate_figures(sample, sample_dets, voc, coco, required);
  });

  for (auto* f : {&result.map50, &result.coco_ap, &result.coco_ap50}) f->samples.reserve(result.replicates);
  for (const Figures& f : figures) {
    result.map50.samples.push_back(f.map50);
    result.coco_ap.samples.push_back(f.coco_ap);
    result.coco_ap50.samples.push_back(f.coco_ap50);
  }
  summarise(result.map50);
  summarise(result.coco_ap);
  summarise(result.coco_ap50);
  return result;
}

std::string describe(const BootstrapResult& r) {
  const BootstrapFigure& f = r.map50;
  std::ostringstream s;
  s << std::fixed << std::setprecision(3);
  if (f.value < 0) {
    s << "mAP@0.5 undefined on the " << r.images << " validation images (no ground truth)";
    return s.str();
  }
  s << "mAP@0.5 " << f.value;
  if (f.sd < 0) {
    s << " (no bootstrap s.d.: " << f.skipped << " of " << r.replicates << " resamples of the " << r.images
      << " validation images miss a class)";
    return s.str();
  }
  s << " +/- " << f.sd << " (s.d. over " << r.replicates - f.skipped << " bootstrap resamples of the " << r.images
    << " validation images; 95% " << f.lo << "-" << f.hi;
  if (f.skipped) s << "; " << f.skipped << " more missed a class and were left out";
  s << ")";
  return s.str();
}

}  // namespace cvtk::metrics
