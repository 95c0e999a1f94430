// End-to-end COCO evaluation speed on a COCO-val-sized case: 5,000 images, 80 categories, ~36,000
// ground-truth boxes (some crowd, segmentation-like areas), 100 detections per image (jittered true
// positives, duplicates, false positives). Writes the two JSON files, then times read + evaluate +
// summarise as `cvtk eval` does them. pycocotools takes ~41 s and 2.2 GB for the same work here.
// Usage: eval_bench [--images N] [--dets-per-image N] [--threads N] [--repeat N]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "metrics/evaluate.h"
#include "metrics/report_writers.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "apps/allocator.h"

namespace fs = std::filesystem;
using namespace cvtk;

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  int images = 5000, per_image = 100, threads = 0, repeat = 3;
  std::string keep;  // --keep DIR: leave gt.json and dets.json there (to time `cvtk eval` on them)
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--images")
      images = std::atoi(argv[i + 1]);
    else if (a == "--dets-per-image")
      per_image = std::atoi(argv[i + 1]);
    else if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (a == "--repeat")
      repeat = std::atoi(argv[i + 1]);
    else if (a == "--keep")
      keep = argv[i + 1];
  }
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  data::Dataset gt;
  for (int k = 0; k < 80; ++k) {
    gt.classes.push_back("category" + std::to_string(k));
    gt.category_ids.push_back(k + 1 + k / 8);
  }
  std::vector<data::Detection> dets;
  int64_t ann_id = 1;
  for (int i = 0; i < images; ++i) {
    data::ImageRecord r;
    r.id = 139 + 37 * i;
    r.name = std::to_string(r.id);
    r.file = r.name + ".jpg";
    r.width = 640;
    r.height = 480;
    const int n = static_cast<int>(u(rng) * 14.7);  // ~7.3 per image
    for (int j = 0; j < n; ++j) {
      data::Object o;
      const double s = std::exp(u(rng) * std::log(300.0)) + 2;  // sizes from 3 to 300 px, all area ranges
      const double w = std::min(630.0, s * (0.5 + u(rng))), h = std::min(470.0, s * (0.5 + u(rng)));
      const double x = u(rng) * (640 - w), y = u(rng) * (480 - h);
      o.box = {x, y, x + w, y + h};
      o.label = static_cast<int>(u(rng) * 80);
      o.crowd = u(rng) < 0.01;
      o.area = w * h * (0.5 + 0.4 * u(rng));
      o.id = ann_id++;
      r.objects.push_back(o);
    }
    for (int j = 0; j < per_image; ++j) {
      data::Detection d;
      d.image_id = r.id;
      if (!r.objects.empty() && u(rng) < 0.3) {
        const auto& o = r.objects[static_cast<size_t>(u(rng) * r.objects.size())];
        const double jx = (u(rng) - 0.5) * 0.3 * o.box.width(), jy = (u(rng) - 0.5) * 0.3 * o.box.height();
        d.box = {o.box.x1 + jx, o.box.y1 + jy, o.box.x2 + jx, o.box.y2 + jy};
        d.label = u(rng) < 0.9 ? o.label : static_cast<int>(u(rng) * 80);
        d.score = 0.3 + 0.7 * u(rng);
      } else {
        const double w = 5 + u(rng) * 200, h = 5 + u(rng) * 200, x = u(rng) * 600, y = u(rng) * 440;
        d.box = {x, y, x + w, y + h};
        d.label = static_cast<int>(u(rng) * 80);
        d.score = 0.6 * u(rng);
      }
      d.score = std::round(d.score * 1000) / 1000;  // ties, as real score files have
      dets.push_back(d);
    }
    gt.images.push_back(std::move(r));
  }
  const fs::path dir =
      !keep.empty() ? fs::path(keep) : fs::temp_directory_path() / ("cvtk_eval_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  data::WriteOptions w;
  w.format = data::Format::kCoco;
  data::write_dataset(gt, dir / "gt.json", w);
  data::write_coco_results(dets, gt, dir / "dets.json");
  std::printf("case: %d images, %zu gt boxes, 80 categories, %zu detections\n", images, gt.object_count(), dets.size());

  std::vector<double> times;
  double headline = 0;
  for (int k = 0; k < repeat; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    const data::Dataset loaded = data::read_coco(dir / "gt.json");
    const auto t1 = std::chrono::steady_clock::now();
    const data::DetectionSet set = data::read_coco_results(dir / "dets.json", loaded);
    const auto t2 = std::chrono::steady_clock::now();
    metrics::Protocol p = metrics::coco_protocol();
    p.threads = threads;
    const metrics::Report report = metrics::evaluate(loaded, set.detections, p);
    std::ostringstream sink;
    metrics::print_report(report, sink);
    const auto t3 = std::chrono::steady_clock::now();
    auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::printf("run %d: read gt %.3f s, read dets %.3f s, evaluate + summarise %.3f s, total %.3f s\n", k + 1,
                s(t0, t1), s(t1, t2), s(t2, t3), s(t0, t3));
    times.push_back(s(t0, t3));
    headline = report.headline();
  }
  std::sort(times.begin(), times.end());
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("end to end: median %.3f s over %d runs (AP %.4f); peak RSS %.0f MB (includes generating the case)\n",
              times[times.size() / 2], repeat, headline, ru.ru_maxrss / 1024.0);
  if (keep.empty()) fs::remove_all(dir);
  return 0;
}
