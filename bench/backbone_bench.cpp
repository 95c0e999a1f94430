// Forward latency of backbones in eval mode (median of N runs after warm-up), batch 1 and 8.
// Usage: backbone_bench [--threads 2] [--n 10] [names...]   (default: shufflenet_v2_x1_0 swin_t inception_v3 googlenet)
// bench/run_backbones.sh prints these next to torchvision's on the same thread count.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "vision/backbones/registry.h"
#include "vision/nn/layers.h"

int main(int argc, char** argv) {
  int threads = 2, n = 10;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--n" && i + 1 < argc) n = std::atoi(argv[++i]);
    else names.push_back(a);
  }
  if (names.empty()) names = {"shufflenet_v2_x1_0", "swin_t", "inception_v3", "googlenet"};
  at::set_num_threads(threads);
  at::set_num_interop_threads(1);
  for (const auto& name : names) {
    cvtk::vision::BackboneOptions o;
    o.aux_logits = false;
    auto net = cvtk::vision::create_backbone(name, o);
    net->eval();
    cvtk::vision::fuse_for_inference(*net);
    const int64_t size = net->default_input_size();
    for (int64_t batch : {1, 8}) {
      const torch::Tensor x = torch::rand({batch, 3, size, size});
      c10::InferenceMode guard;
      for (int w = 0; w < 3; ++w) net->forward(x);
      std::vector<double> t;
      for (int r = 0; r < n; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        net->forward(x);
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(t.begin(), t.end());
      std::printf("{\"peer\": \"cvtk.%s\", \"work\": \"forward batch %lld %lldx%lld\", \"median_ms\": %.2f, \"threads\": %d}\n", name.c_str(),
                  static_cast<long long>(batch), static_cast<long long>(size), static_cast<long long>(size), t[t.size() / 2], threads);
      std::fflush(stdout);
    }
  }
  return 0;
}
