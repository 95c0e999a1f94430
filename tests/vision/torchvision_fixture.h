#pragma once
// Parity fixtures made at test time by python/torchvision_weights.py with Debian's torchvision.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "tests/common.h"
#include "vision/nn/weights.h"

namespace cvtk::testing {

inline bool have_torchvision() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torchvision' >/dev/null 2>&1") == 0;
  return ok;
}

inline std::string python_script() { return (source_dir() / "python" / "torchvision_weights.py").string(); }

// Runs the script with arguments; true on success.
inline bool run_python(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + python_script() + " " + args + " > /dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// The fixture's tensors by key ("weights.<name>", "input", "eval.logits", "eval.c4", "train.state.<name>").
inline std::map<std::string, torch::Tensor> torchvision_fixture(const std::string& model, int batch,
                                                                const std::string& extra = "") {
  const auto dir = binary_dir() / "test_fixtures";
  std::filesystem::create_directories(dir);
  const auto file = dir / (model + "_b" + std::to_string(batch) + (extra.empty() ? "" : "_t") + ".pt");
  if (!std::filesystem::exists(file)) {
    if (!run_python("fixture " + model + " " + file.string() + " --batch " + std::to_string(batch) + " " + extra))
      throw std::runtime_error("fixture generation failed for " + model);
  }
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : vision::read_weights(file)) out[k] = v;
  return out;
}

inline vision::StateDict with_prefix(const std::map<std::string, torch::Tensor>& fx, const std::string& prefix) {
  vision::StateDict out;
  for (const auto& [k, v] : fx)
    if (k.rfind(prefix, 0) == 0) out.emplace_back(k.substr(prefix.size()), v);
  return out;
}

// |a - b| <= rtol * max|b| elementwise (relative to the tensor's scale), with a message.
// Equal to rtol of the reference's largest magnitude, or of min_scale when that is smaller (quantities
// that are near zero by construction, like the running mean of a normalised map, carry the rounding
// of the values they were summed from, not of their own size).
inline ::testing::AssertionResult close(const torch::Tensor& a, const torch::Tensor& b, double rtol = 1e-4,
                                        double min_scale = 1e-6) {
  if (a.sizes() != b.sizes()) {
    std::ostringstream s;
    s << "shapes differ: " << a.sizes() << " vs " << b.sizes();
    return ::testing::AssertionFailure() << s.str();
  }
  const double scale = std::max(b.abs().max().item<double>(), min_scale);
  const double diff = (a - b).abs().max().item<double>();
  if (diff <= rtol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max abs difference " << diff << " > " << rtol << " * " << scale;
}

}  // namespace cvtk::testing
