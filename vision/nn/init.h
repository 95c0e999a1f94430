#pragma once
// Weight initialisation schemes (../shared/reference/models.md §8). Each walks a module tree and
// initialises the layers it knows; LibTorch's defaults (kaiming-uniform a = sqrt(5)) remain elsewhere.
#include <torch/torch.h>

namespace cvtk::vision {

// Megvii ShuffleNetV2 / SNet: the first conv N(0, 0.01); every other conv N(0, 1 / (in channels per
// group)) (std, not variance: depthwise convs get std 1); BN weight 1, bias 1e-4; Linear N(0, 0.01),
// bias 0. first_conv names the first convolution's parameter ("conv1.0.weight").
void init_megvii(torch::nn::Module& module, const std::string& first_conv);

// torchvision Inception v3 / GoogLeNet: Conv2d and Linear weights truncated normal (mean 0, std,
// cut at the absolute values -2, 2); BN weight 1, bias 0.
void init_truncated_normal(torch::nn::Module& module, double std);

// torchvision Swin: Linear weights truncated normal std 0.02, bias 0; LayerNorm 1 / 0.
void init_swin(torch::nn::Module& module);

// In place: truncated normal with absolute cut-offs a, b (resampled until inside).
void trunc_normal_(torch::Tensor t, double mean, double std, double a, double b);

}  // namespace cvtk::vision
