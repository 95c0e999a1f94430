// Throughput of the augment Loader on BCCD (640x480 JPEGs) against the decode-only ceiling.
//   decode-only: decode_image over every image in a TBB parallel_for on the same thread count (the
//                ceiling); also OpenCV's imdecode + BGR->RGB, what decode_image did before it used
//                libjpeg directly, for comparison with older figures
//   loader:      decode + pipeline + normalised tensors + collation, batches taken by a consumer
//   loader with the decoded-image cache (--cache-mb N, default 1024; 0 skips these rows): one epoch
//                fills the cache, then the same epochs are timed (the rate of every epoch of a training
//                run but the first), and the rate over all of them, filling epoch included
// Usage: loader_bench [--micro 1] [--cv-threads N] [--data DIR] [--threads N] [--epochs N] [--batch N] [--size N]
//                     [--decode-resized 0|1] [--pipeline SPEC] [--cache-mb N]
// DIR defaults to $CVTK_SHARED/data/bccd or ../shared/data/bccd beside the source tree.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <sys/resource.h>

#include "augment/loader.h"
#include "vision/data/dataset_io.h"
#include "vision/image/decode.h"
#include "apps/allocator.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// CPU seconds used by the whole process (every thread). On a shared machine, images per CPU-second
// measure the work per image whatever share of the cores the other jobs leave to this one.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  fs::path data;
  if (const char* env = std::getenv("CVTK_SHARED"); env && *env)
    data = fs::path(env) / "data" / "bccd";
  else
    data = fs::path(CVTK_SHARED_DEFAULT) / "data" / "bccd";
  int threads = 2, epochs = 3, batch = 8, size = 320, cache_mb = 1024;
  std::vector<std::string> specs = {
      // Cheapest order: pixel-wise work after the downscale (the same transforms and probabilities).
      "resize() hflip(p=0.5) photometric(p=0.5) erase(p=0.5)",
      // The same transforms at full resolution before the resize.
      "erase(p=0.5) hflip(p=0.5) photometric(p=0.5) resize()",
  };
  bool custom = false, micro = false, decode_resized = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--data")
      data = v;
    else if (a == "--micro")
      micro = v == "1";
    else if (a == "--decode-resized")
      decode_resized = v == "1";
    else if (a == "--cv-threads")
      cv::setNumThreads(std::atoi(v.c_str()));
    else if (a == "--threads")
      threads = std::atoi(v.c_str());
    else if (a == "--epochs")
      epochs = std::atoi(v.c_str());
    else if (a == "--batch")
      batch = std::atoi(v.c_str());
    else if (a == "--size")
      size = std::atoi(v.c_str());
    else if (a == "--cache-mb")
      cache_mb = std::atoi(v.c_str());
    else if (a == "--pipeline") {
      if (!custom) specs.clear();
      custom = true;
      specs.push_back(v);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (!fs::is_directory(data)) {
    std::fprintf(stderr, "loader_bench: %s not found (set CVTK_SHARED or pass --data)\n", data.string().c_str());
    return 2;
  }
  const cvtk::data::Dataset ds = cvtk::data::read_dataset(data);
  {
    const std::string info = cv::getBuildInformation();
    const size_t at = info.find("Parallel framework:");
    std::printf("OpenCV %s, %s, cv::getNumThreads() = %d\n", CV_VERSION,
                at == std::string::npos ? "?" : info.substr(at, info.find('\n', at) - at).c_str(), cv::getNumThreads());
  }
  std::printf("dataset %s: %zu images; %d threads, batch %d, %dx%d, %d epochs per measurement\n", data.string().c_str(),
              ds.images.size(), threads, batch, size, size, epochs);

  if (micro) {
    // Single-threaded cost of each step on the first image, median-free mean over many runs.
    const cv::Mat rgb = cvtk::image::decode_image(ds.image_root / ds.images[0].file).image;
    const int reps = 200;
    auto time_ms = [&](const std::string& label, const std::function<void()>& f) {
      const auto t = Clock::now();
      for (int r = 0; r < reps; ++r) f();
      std::printf("  %-40s %7.3f ms\n", label.c_str(),
                  1e3 * std::chrono::duration<double>(Clock::now() - t).count() / reps);
    };
    std::printf("single-thread cost per image (640x480 -> %dx%d):\n", size, size);
    time_ms("decode_image", [&] { (void)cvtk::image::decode_image(ds.image_root / ds.images[0].file); });
    time_ms("decode_image_resized", [&] {
      (void)cvtk::image::decode_image_resized(ds.image_root / ds.images[0].file, {size, size});
    });
    for (const char* spec : {"hflip(p=1)", "photometric(p=1)", "erase(p=1)", "erase(p=1,fill=mean)", "resize()",
                             "resize() photometric(p=1)", "resize(interp=nearest)"}) {
      const auto pipe = cvtk::augment::parse_pipeline(spec);
      uint64_t k = 0;
      time_ms(spec, [&] {
        cvtk::augment::Sample s = cvtk::augment::make_sample(ds.images[0], 0, rgb.clone());
        cvtk::augment::Rng rng(0, 0, k++);
        pipe.apply(s, rng, {size, size});
      });
    }
    time_ms("clone (baseline of the rows above)", [&] { (void)rgb.clone(); });
    cv::Mat small(size, size, CV_8UC3, cv::Scalar::all(7));
    time_ms("to_tensor", [&] { (void)cvtk::augment::to_tensor(small, {0.5f, 0.5f, 0.5f}, {0.2f, 0.2f, 0.2f}); });
    return 0;
  }

  // Warm the page cache and the allocator.
  for (const auto& r : ds.images) (void)cvtk::image::decode_image(ds.image_root / r.file);

  tbb::task_arena arena(threads);
  const double c0 = cpu_seconds();
  const auto t0 = Clock::now();
  for (int e = 0; e < epochs; ++e)
    arena.execute([&] {
      tbb::parallel_for(size_t(0), ds.images.size(),
                        [&](size_t i) { (void)cvtk::image::decode_image(ds.image_root / ds.images[i].file); });
    });
  const double decode_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double decode_ips = epochs * ds.images.size() / decode_s;
  const double decode_ipc = epochs * ds.images.size() / (cpu_seconds() - c0);
  std::printf("%-64s %8.1f images/s  %8.1f images/CPU-s\n", "decode only (decode_image, RGB)", decode_ips, decode_ipc);
  {
    std::vector<std::vector<unsigned char>> bytes(ds.images.size());
    const double c2 = cpu_seconds();
    const auto t2 = Clock::now();
    for (int e = 0; e < epochs; ++e)
      arena.execute([&] {
        tbb::parallel_for(size_t(0), ds.images.size(), [&](size_t i) {
          std::FILE* f = std::fopen((ds.image_root / ds.images[i].file).string().c_str(), "rb");
          if (!f) return;
          std::fseek(f, 0, SEEK_END);
          bytes[i].resize(static_cast<size_t>(std::max(0L, std::ftell(f))));
          std::fseek(f, 0, SEEK_SET);
          const size_t got = std::fread(bytes[i].data(), 1, bytes[i].size(), f);
          std::fclose(f);
          bytes[i].resize(got);
          cv::Mat rgb;
          cv::cvtColor(cv::imdecode(bytes[i], cv::IMREAD_UNCHANGED), rgb, cv::COLOR_BGR2RGB);
        });
      });
    const double s = std::chrono::duration<double>(Clock::now() - t2).count();
    std::printf("%-64s %8.1f images/s  %8.1f images/CPU-s  (for comparison only)\n",
                "decode only (cv::imdecode + BGR->RGB, the decoder before)", epochs * ds.images.size() / s,
                epochs * ds.images.size() / (cpu_seconds() - c2));
  }

  for (const bool cached : {false, true}) {
    if (cached && cache_mb <= 0) break;
    for (const std::string& spec : specs) {
      cvtk::augment::LoaderOptions o;
      o.threads = threads;
      o.batch_size = batch;
      o.sizes = {size};
      o.decode_resized = decode_resized;
      o.cache_mb = cached ? size_t(cache_mb) : 0;
      cvtk::augment::Loader loader(ds, cvtk::augment::parse_pipeline(spec), o);
      double fill_s = 0;  // the epoch that fills the cache, timed on its own
      size_t fill_images = 0;
      if (cached) {
        const auto t0 = Clock::now();
        loader.start_epoch(epochs);
        while (auto b = loader.next()) fill_images += static_cast<size_t>(b->images.size(0));
        fill_s = std::chrono::duration<double>(Clock::now() - t0).count();
      }
      const auto before = loader.stats();
      size_t images = 0;
      const double c1 = cpu_seconds();
      const auto t1 = Clock::now();
      for (int e = 0; e < epochs; ++e) {
        loader.start_epoch(e);
        while (auto b = loader.next()) images += static_cast<size_t>(b->images.size(0));
      }
      const double s = std::chrono::duration<double>(Clock::now() - t1).count();
      const double ipc = images / (cpu_seconds() - c1);
      const auto st = loader.stats();
      const double n = double(st.images - before.images);
      const std::string label =
          (cached ? "loader, cache warm (" + std::to_string(int(st.cache_mb)) + " MiB): " : "loader: ") + spec;
      std::printf(
          "%-64s %8.1f images/s  %8.1f images/CPU-s  (%.0f%% of decode-only, %.0f%% per CPU-s; per image: decode %.2f "
          "ms, "
          "augment+tensor %.2f ms)\n",
          label.c_str(), images / s, ipc, 100.0 * images / s / decode_ips, 100.0 * ipc / decode_ipc,
          1e3 * (st.decode_seconds - before.decode_seconds) / n,
          1e3 * (st.augment_seconds - before.augment_seconds) / n);
      if (cached) {
        const double all = double(fill_images + images) / (fill_s + s);
        std::printf("%-64s %8.1f images/s  (%.0f%% of decode-only)\n",
                    ("  the same over " + std::to_string(epochs + 1) + " epochs from a cold cache").c_str(), all,
                    100.0 * all / decode_ips);
      }
    }
  }
  return 0;
}
