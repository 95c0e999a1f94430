#pragma once
// Swin Transformer's layers (swin.h), plain and trainable, on channels-last tokens [B, H, W, C]. Shared
// by the model (swin.cpp) and its inference executor (vision/inference/swin_executor.cpp), which reads
// their parameters.
#include <torch/torch.h>

namespace cvtk::vision {

// Window multi-head self-attention with a learnt relative position bias; shift > 0 rolls the map by
// -shift first and masks attention between tokens from different regions of the rolled map.
class WindowAttentionImpl : public torch::nn::Module {
 public:
  WindowAttentionImpl(int64_t dim, int64_t window, int64_t shift, int64_t heads);
  torch::Tensor forward(const torch::Tensor& x);  // [B, H, W, C] -> [B, H, W, C]

  // The shift this map size uses: none when one window covers the padded side.
  int64_t shift_for(int64_t padded_side) const { return window_ >= padded_side ? 0 : shift_; }
  // [heads, N, N] position bias of one window, N = window^2.
  torch::Tensor position_bias() const;
  int64_t window() const { return window_; }
  int64_t heads() const { return heads_; }

  torch::nn::Linear qkv{nullptr}, proj{nullptr};
  torch::Tensor bias_table, position_index;

 private:
  int64_t dim_, window_, shift_, heads_;
};
TORCH_MODULE(WindowAttention);

// [nW, N, N] for a Hp x Wp padded map rolled by (sh, sw): 0 where two tokens of a window come from the
// same region of the rolled map, else -100.
torch::Tensor swin_shift_mask(int64_t window, int64_t Hp, int64_t Wp, int64_t sh, int64_t sw,
                              const torch::TensorOptions& options);

// x + drop_path(attn(norm1(x))), then + drop_path(mlp(norm2(.))); the MLP is fc -> GELU -> fc.
class SwinBlockImpl : public torch::nn::Module {
 public:
  SwinBlockImpl(int64_t dim, int64_t heads, int64_t window, int64_t shift, double mlp_ratio, double drop_path);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  WindowAttention attn{nullptr};
  torch::nn::Sequential mlp{nullptr};  // Linear, GELU, Dropout(0), Linear, Dropout(0) (torchvision's indices)

 private:
  double drop_path_;
};
TORCH_MODULE(SwinBlock);

// [B, H, W, C] -> [B, ceil(H/2), ceil(W/2), 2C]: the 2x2 sub-grids (row, col offsets (0,0), (1,0),
// (0,1), (1,1), the order torchvision's weights expect) concatenated, LayerNorm, linear reduction.
class PatchMergingImpl : public torch::nn::Module {
 public:
  explicit PatchMergingImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& input);
  torch::nn::Linear reduction{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(PatchMerging);

}  // namespace cvtk::vision
