// Loading speed of large annotation files: a COCO-sized instances file (5,000 images, ~36,000
// boxes) and a 500,000-detection results file, written to a temporary directory and read back.
// Usage: data_load_bench [--images N] [--dets-per-image N] [--repeat N]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "vision/data/dataset_io.h"
#include "vision/data/detections_io.h"
#include "apps/allocator.h"

namespace fs = std::filesystem;
using namespace cvtk::data;

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  int images = 5000, dets_per_image = 100, repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--images")
      images = std::atoi(argv[i + 1]);
    else if (a == "--dets-per-image")
      dets_per_image = std::atoi(argv[i + 1]);
    else if (a == "--repeat")
      repeat = std::atoi(argv[i + 1]);
  }
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  Dataset gt;
  for (int k = 0; k < 80; ++k) {
    gt.classes.push_back("class" + std::to_string(k));
    gt.category_ids.push_back(k + 1 + k / 10);  // gappy, like COCO's
  }
  std::vector<Detection> dets;
  for (int i = 0; i < images; ++i) {
    ImageRecord r;
    r.id = 100000 + 7 * i;
    r.name = "img_" + std::to_string(r.id);
    r.file = r.name + ".jpg";
    r.width = 640;
    r.height = 480;
    const int n = static_cast<int>(u(rng) * 15.7);  // ~7.4 per image, as COCO val2017
    for (int j = 0; j < n; ++j) {
      Object o;
      const double x = u(rng) * 600, y = u(rng) * 440;
      o.box = Box{x, y, std::min(640.0, x + 1 + u(rng) * 200), std::min(480.0, y + 1 + u(rng) * 200)};
      o.label = static_cast<int>(u(rng) * 80);
      o.area = o.box.area() * 0.7;
      r.objects.push_back(o);
    }
    for (int j = 0; j < dets_per_image; ++j) {
      const double x = u(rng) * 600, y = u(rng) * 440;
      dets.push_back(
          {r.id, static_cast<int>(u(rng) * 80), u(rng), Box{x, y, x + 1 + u(rng) * 200, y + 1 + u(rng) * 200}});
    }
    gt.images.push_back(std::move(r));
  }
  const fs::path dir = fs::temp_directory_path() / ("cvtk_data_load_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  WriteOptions w;
  w.format = Format::kCoco;
  write_dataset(gt, dir / "instances.json", w);
  write_coco_results(dets, gt, dir / "results.json");
  std::printf("instances: %d images, %zu boxes, %.1f MB; results: %zu detections, %.1f MB\n", images, gt.object_count(),
              fs::file_size(dir / "instances.json") / 1e6, dets.size(), fs::file_size(dir / "results.json") / 1e6);

  auto time_it = [&](const char* what, auto fn) {
    std::vector<double> t;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      fn();
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    std::printf("%-28s median %.3f s  (min %.3f, max %.3f, %d runs)\n", what, t[t.size() / 2], t.front(), t.back(),
                repeat);
  };
  Dataset loaded;
  time_it("read_coco (instances)", [&] { loaded = read_coco(dir / "instances.json"); });
  time_it("read_coco_results (dets)", [&] { read_coco_results(dir / "results.json", loaded); });
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS %.0f MB\n", ru.ru_maxrss / 1024.0);
  fs::remove_all(dir);
  return 0;
}
