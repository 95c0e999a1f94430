// Forward latency of backbones in eval mode (median of N runs after warm-up), batch 1 and 8.
// Usage: backbone_bench [--threads 2] [--n 10] [--plain] [--profile TRACE.json] [names...]
//        (default: shufflenet_v2_x1_0 swin_t inception_v3 googlenet)
// Models run through their inference executor (vision/inference); --plain runs the modules in eval mode.
// cpu_ms is the median process CPU time of a run: at --threads 1 it barely moves with other load on
// the machine, unlike median_ms. --profile writes a Chrome trace (chrome://tracing) of ten batch-1
// runs of the first model.
// bench/run_backbones.sh prints these next to torchvision's on the same thread count.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>

#include "vision/backbones/registry.h"
#include "vision/inference/backbone_executor.h"
#include "apps/allocator.h"

int main(int argc, char** argv) {
  cvtk::keep_freed_memory();
  int threads = 2, n = 10;
  bool plain = false;
  std::string profile;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--n" && i + 1 < argc)
      n = std::atoi(argv[++i]);
    else if (a == "--plain")
      plain = true;
    else if (a == "--profile" && i + 1 < argc)
      profile = argv[++i];
    else
      names.push_back(a);
  }
  if (names.empty()) names = {"shufflenet_v2_x1_0", "swin_t", "inception_v3", "googlenet"};
  at::set_num_threads(threads);
  at::set_num_interop_threads(1);
  for (const auto& name : names) {
    cvtk::vision::BackboneOptions o;
    o.aux_logits = false;
    auto net = cvtk::vision::create_backbone(name, o);
    net->eval();
    std::unique_ptr<cvtk::vision::BackboneExecutor> executor;
    if (!plain) executor = cvtk::vision::optimize_for_inference(net);
    auto forward = [&](const torch::Tensor& x) { return executor ? executor->forward(x) : net->forward(x); };
    const int64_t size = net->default_input_size();
    for (int64_t batch : {1, 8}) {
      const torch::Tensor x = torch::rand({batch, 3, size, size});
      c10::InferenceMode guard;
      for (int w = 0; w < 3; ++w) forward(x);
      std::vector<double> t, cpu;
      for (int r = 0; r < n; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::clock_t c0 = std::clock();
        forward(x);
        cpu.push_back(1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      if (!profile.empty()) {
        torch::autograd::profiler::RecordProfile record(profile);
        for (int r = 0; r < 10; ++r) forward(x);
        profile.clear();
      }
      std::sort(t.begin(), t.end());
      std::sort(cpu.begin(), cpu.end());
      std::printf(
          "{\"peer\": \"cvtk%s.%s\", \"work\": \"forward batch %lld %lldx%lld\", \"median_ms\": %.2f, \"cpu_ms\": "
          "%.2f, "
          "\"threads\": %d}\n",
          plain ? "-plain" : "", name.c_str(), static_cast<long long>(batch), static_cast<long long>(size),
          static_cast<long long>(size), t[t.size() / 2], cpu[cpu.size() / 2], threads);
      std::fflush(stdout);
    }
  }
  return 0;
}
