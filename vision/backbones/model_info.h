#pragma once
// What `cvtk models` prints about a backbone: parameters, multiply-accumulates at its default input
// size, and its feature maps with their shapes at that size.
#include <cstdint>
#include <string>
#include <vector>

#include "vision/backbones/backbone.h"

namespace cvtk::vision {

struct FeatureShape {
  FeatureSpec spec;
  int64_t height = 0, width = 0;
};

struct ModelInfo {
  std::string name;
  int64_t parameters = 0;  // with the classifier head
  int64_t input_size = 0;  // square side
  int64_t macs = 0;        // one image, classifier included (conv, linear, attention products)
  std::vector<FeatureShape> features;
};

// Runs one forward pass of a batch-1 input of the given size (0: the model's default).
ModelInfo model_info(const std::string& name, int64_t input_size = 0);

int64_t parameter_count(const torch::nn::Module& module);

}  // namespace cvtk::vision
