// End-to-end COCO evaluation speed on a COCO-val-sized case: 5,000 images, 80 categories, 36,950
// ground-truth boxes (some crowd, segmentation-like areas), 120 detections per image (~600,000:
// jittered true positives, duplicates, false positives). Writes the two JSON files (streamed, so the
// generator's memory stays small), then times read + evaluate + summarise as `cvtk eval` does them.
// Prints one JSON line per stage and for the whole ({"peer", "work", "median_ms"}, as bench/paired.py
// reads), and the peak resident size, which includes writing the case.
// Usage: eval_bench [--images N] [--dets-per-image N] [--threads N] [--repeat N] [--keep DIR | --read DIR]
//   --keep DIR: write gt.json and dets.json there and leave them (to time `cvtk eval` or a peer on them)
//   --read DIR: evaluate DIR/gt.json and DIR/dets.json as they are (no case is written)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "apps/allocator.h"
#include "metrics/evaluate.h"
#include "metrics/report_writers.h"
#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "vision/data/file_util.h"

namespace fs = std::filesystem;
using namespace cvtk;

namespace {

// One detection as data::coco_results_text writes it.
void append_detection(std::string& text, const data::Detection& d, const data::Dataset& gt, bool first) {
  text += first ? "\n" : ",\n";
  text += "{\"image_id\": " + std::to_string(d.image_id) +
          ", \"category_id\": " + std::to_string(gt.category_id(d.label)) + ", \"bbox\": [" +
          data::format_number(d.box.x1) + ", " + data::format_number(d.box.y1) + ", " +
          data::format_number(d.box.width()) + ", " + data::format_number(d.box.height()) +
          "], \"score\": " + data::format_number(d.score) + "}";
}

// The case: ground truth in memory (written at the end), detections streamed to dets.json image by image.
data::Dataset write_case(const fs::path& dir, int images, int per_image) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  data::Dataset gt;
  for (int k = 0; k < 80; ++k) {
    gt.classes.push_back("category" + std::to_string(k));
    gt.category_ids.push_back(k + 1 + k / 8);
  }
  std::ofstream dets_file(dir / "dets.json", std::ios::binary);
  std::string text = "[";
  bool first = true;
  int64_t ann_id = 1;
  for (int i = 0; i < images; ++i) {
    data::ImageRecord r;
    r.id = 139 + 37 * i;
    r.name = std::to_string(r.id);
    r.file = r.name + ".jpg";
    r.width = 640;
    r.height = 480;
    const int n = static_cast<int>(u(rng) * 15.7);  // ~7.35 per image, as COCO val2017
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
      append_detection(text, d, gt, first);
      first = false;
    }
    if (text.size() > (size_t(1) << 20)) {
      dets_file << text;
      text.clear();
    }
    gt.images.push_back(std::move(r));
  }
  text += "\n]\n";
  dets_file << text;
  data::WriteOptions w;
  w.format = data::Format::kCoco;
  data::write_dataset(gt, dir / "gt.json", w);
  return gt;
}

void emit(const char* work, double seconds) {
  std::printf("{\"peer\": \"cvtk\", \"work\": \"%s\", \"median_ms\": %.1f}\n", work, seconds * 1000);
}

}  // namespace

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  int images = 5000, per_image = 120, threads = 0, repeat = 3;
  std::string keep, read;
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
    else if (a == "--read")
      read = argv[i + 1];
  }
  const fs::path dir = !read.empty()   ? fs::path(read)
                       : !keep.empty() ? fs::path(keep)
                                       : fs::temp_directory_path() / ("cvtk_eval_bench_" + std::to_string(::getpid()));
  if (read.empty()) {
    fs::create_directories(dir);
    write_case(dir, images, per_image);
  }

  std::vector<double> total, gt_times, det_times, eval_times;
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
    if (k == 0)
      std::printf("case: %zu images, %zu gt boxes, %zu categories, %zu detections\n", loaded.images.size(),
                  loaded.object_count(), loaded.classes.size(), set.detections.size());
    std::printf("run %d: read gt %.3f s, read dets %.3f s, evaluate + summarise %.3f s, total %.3f s\n", k + 1,
                s(t0, t1), s(t1, t2), s(t2, t3), s(t0, t3));
    gt_times.push_back(s(t0, t1));
    det_times.push_back(s(t1, t2));
    eval_times.push_back(s(t2, t3));
    total.push_back(s(t0, t3));
    headline = report.headline();
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("end to end: median %.3f s over %d runs (AP %.4f); peak RSS %.0f MB%s\n", median(total), repeat, headline,
              ru.ru_maxrss / 1024.0, read.empty() ? " (includes writing the case)" : "");
  emit("coco eval: read gt", median(gt_times));
  emit("coco eval: read dets", median(det_times));
  emit("coco eval: evaluate + summarise", median(eval_times));
  emit("coco eval: end to end", median(total));
  if (keep.empty() && read.empty()) fs::remove_all(dir);
  return 0;
}
