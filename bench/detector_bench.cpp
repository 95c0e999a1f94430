// ThunderNet speed: inference latency at 320x320 batch 1 and throughput at batch 8 (the inference
// executor; per_s is images/s), and training throughput at batch 8 (images/s of full training steps
// with synthetic boxes), with peak memory.
// Usage: detector_bench [--threads 2] [--n 20] [--infer-only] [--profile TRACE.json] [models...]
//        (default model: thundernet-snet49)
// --profile writes a Chrome trace (chrome://tracing) of ten inference runs of the first model.
// bench/run_detector.sh prints these next to torchvision's detectors on the same thread count.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>

#include "detection/progress.h"
#include "detection/inference/thundernet_executor.h"
#include "detection/thundernet.h"
#include "apps/allocator.h"

using namespace cvtk::detection;

namespace {

struct Timing {
  double median_ms, min_ms;  // min: the fastest call, the one least disturbed by other load
};

template <class F>
Timing time_ms(F f, int n, int warmup) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front()};
}

}  // namespace

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  int threads = 2, n = 20;
  std::string profile;
  bool infer_only = false;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--n" && i + 1 < argc)
      n = std::atoi(argv[++i]);
    else if (a == "--profile" && i + 1 < argc)
      profile = argv[++i];
    else if (a == "--infer-only")
      infer_only = true;
    else
      names.push_back(a);
  }
  if (names.empty()) names = {"thundernet-snet49"};
  at::set_num_threads(threads);
  at::set_num_interop_threads(1);
  for (const auto& name : names) {
    torch::manual_seed(0);
    {
      ThunderNet model(model_options(name, 20));
      model->eval();
      auto executor = optimize_for_inference(model);
      const auto x = torch::rand({1, 3, 320, 320});
      c10::InferenceMode guard;
      const Timing t = time_ms([&] { executor.detect(x); }, n, 3);
      std::printf(
          "{\"peer\": \"cvtk.%s\", \"work\": \"infer 320x320 batch 1\", \"median_ms\": %.2f, \"min_ms\": %.2f, "
          "\"per_s\": %.3f, \"threads\": %d}\n",
          name.c_str(), t.median_ms, t.min_ms, 1000 / t.median_ms, threads);
      std::fflush(stdout);
      const auto x8 = torch::rand({8, 3, 320, 320});
      const Timing t8 = time_ms([&] { executor.detect(x8); }, std::max(3, n / 8), 1);
      std::printf(
          "{\"peer\": \"cvtk.%s\", \"work\": \"infer 320x320 batch 8\", \"median_ms\": %.2f, \"min_ms\": %.2f, "
          "\"per_s\": %.3f, \"threads\": %d}\n",
          name.c_str(), t8.median_ms, t8.min_ms, 8000 / t8.median_ms, threads);
      std::fflush(stdout);
      if (!profile.empty()) {
        torch::autograd::profiler::RecordProfile record(profile);
        for (int i = 0; i < 10; ++i) executor.detect(x);
        profile.clear();
      }
    }
    if (!infer_only) {
      ThunderNet model(model_options(name, 3));
      model->train();
      torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
      const int64_t batch = 8;
      const auto images = torch::rand({batch, 3, 320, 320});
      std::vector<GroundTruth> targets;
      for (int64_t b = 0; b < batch; ++b) {
        auto xy = torch::rand({5, 2}) * 200, wh = torch::rand({5, 2}) * 100 + 10;
        targets.push_back({torch::cat({xy, xy + wh}, 1), torch::randint(0, 3, {5}, torch::kInt64)});
      }
      const double ms = time_ms(
                            [&] {
                              auto loss = model->forward_train(images, targets).total();
                              opt.zero_grad();
                              loss.backward();
                              opt.step();
                            },
                            std::max(3, n / 2), 2)
                            .median_ms;
      std::printf(
          "{\"peer\": \"cvtk.%s\", \"work\": \"train step 320x320 batch 8\", \"median_ms\": %.2f, \"per_s\": %.3f, "
          "\"threads\": %d, \"peak_mb\": %.0f}\n",
          name.c_str(), ms, batch * 1000 / ms, threads, peak_memory_mb());
      std::fflush(stdout);
    }
  }
}
