#pragma once
// Weights by parameter name. Names are the module tree's dotted paths, which for every model
// torchvision has are torchvision's state_dict keys, so files move between the two without mapping.
//
// File format: a torch.save()-compatible pickle of a flat {name: tensor} dict (torch::pickle_save),
// which Python reads with torch.load and writes with torch.save(model.state_dict(), path).
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

namespace cvtk::vision {

using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

// Parameters and buffers (BatchNorm running statistics and num_batches_tracked included), in module
// order, as torchvision's state_dict().
StateDict state_dict(const torch::nn::Module& module);

struct LoadReport {
  std::vector<std::string> missing;     // in the model, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the model
  std::vector<std::string> mismatched;  // "name: file [3, 3] vs model [3, 4]"
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string describe(size_t max_each = 20) const;
};

// Copies matching tensors into the module (no gradient, dtype converted). With strict, any missing,
// unexpected or mis-shaped key throws std::runtime_error listing them all and nothing is copied.
LoadReport load_state_dict(torch::nn::Module& module, const StateDict& weights, bool strict = true);

StateDict read_weights(const std::filesystem::path& file);                        // throws naming the file
void write_weights(const StateDict& weights, const std::filesystem::path& file);  // atomic
void save_weights(const torch::nn::Module& module, const std::filesystem::path& file);
LoadReport load_weights(torch::nn::Module& module, const std::filesystem::path& file, bool strict = true);

}  // namespace cvtk::vision
