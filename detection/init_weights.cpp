#include "detection/init_weights.h"

#include <map>
#include <stdexcept>

#include "detection/checkpoint.h"
#include "vision/nn/weights.h"

namespace cvtk::detection {

void load_init_weights(ThunderNet& model, const std::filesystem::path& file, std::FILE* out) {
  vision::StateDict weights;
  try {
    auto c = read_checkpoint(file);
    weights = c.ema.empty() ? c.model : c.ema;
  } catch (const std::exception&) {
    weights = vision::read_weights(file);  // a plain state dict: a backbone's or a whole model's
  }
  bool has_prefix = false;
  for (auto& [n, t] : weights) has_prefix |= n.rfind("backbone.", 0) == 0;
  if (!has_prefix)
    for (auto& [n, t] : weights) n = "backbone." + n;
  auto own = vision::state_dict(*model);
  std::map<std::string, torch::Tensor> shapes(own.begin(), own.end());
  vision::StateDict fitting;
  size_t skipped = 0;
  for (auto& [n, t] : weights) {
    auto it = shapes.find(n);
    if (it != shapes.end() && it->second.sizes() == t.sizes())
      fitting.emplace_back(n, t);
    else
      ++skipped;
  }
  if (fitting.empty()) throw std::runtime_error(file.string() + ": no tensor matches the model by name and shape");
  auto report = vision::load_state_dict(*model, fitting, false);
  std::fprintf(
      out,
      "init-weights: loaded %zu tensors from %s; %zu skipped (name or shape), %zu model tensors left as initialised\n",
      fitting.size(), file.string().c_str(), skipped, report.missing.size());
}

}  // namespace cvtk::detection
