#include "vision/backbones/swin_blocks.h"

#include <cmath>

#include "vision/nn/init.h"
#include "vision/nn/macs.h"

namespace cvtk::vision {
namespace {

torch::Tensor stochastic_depth(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  const double survival = 1 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  auto keep = torch::empty(shape, x.options()).bernoulli_(survival);
  if (survival > 0) keep.div_(survival);
  return x * keep;
}

}  // namespace

WindowAttentionImpl::WindowAttentionImpl(int64_t dim, int64_t window, int64_t shift, int64_t heads)
    : dim_(dim), window_(window), shift_(shift), heads_(heads) {
  qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
  bias_table =
      register_parameter("relative_position_bias_table", torch::zeros({(2 * window - 1) * (2 * window - 1), heads}));
  trunc_normal_(bias_table, 0, 0.02, -2, 2);
  // index(i, j) = (hi - hj + M - 1) * (2M - 1) + (wi - wj + M - 1) for tokens i, j of a window.
  auto coords =
      torch::stack(torch::meshgrid({torch::arange(window), torch::arange(window)}, "ij")).flatten(1);  // [2, N]
  auto rel = (coords.unsqueeze(2) - coords.unsqueeze(1)).permute({1, 2, 0}).contiguous() + (window - 1);
  auto index = rel.select(2, 0) * (2 * window - 1) + rel.select(2, 1);
  position_index = register_buffer("relative_position_index", index.flatten());
}

torch::Tensor WindowAttentionImpl::position_bias() const {
  const int64_t N = window_ * window_;
  return bias_table.index_select(0, position_index).view({N, N, heads_}).permute({2, 0, 1});
}

torch::Tensor swin_shift_mask(int64_t window, int64_t Hp, int64_t Wp, int64_t sh, int64_t sw,
                              const torch::TensorOptions& options) {
  const int64_t M = window, N = M * M, nW = (Hp / M) * (Wp / M);
  auto mask = torch::zeros({Hp, Wp}, options);
  const int64_t hs[4] = {0, Hp - M, Hp - sh, Hp}, ws[4] = {0, Wp - M, Wp - sw, Wp};
  int64_t label = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      mask.slice(0, hs[i], hs[i + 1]).slice(1, ws[j], ws[j + 1]).fill_(static_cast<double>(label++));
  mask = mask.view({Hp / M, M, Wp / M, M}).permute({0, 2, 1, 3}).reshape({nW, N});
  mask = mask.unsqueeze(1) - mask.unsqueeze(2);
  return torch::where(mask != 0, torch::full({}, -100.0, mask.options()), torch::zeros({}, mask.options()));
}

torch::Tensor WindowAttentionImpl::forward(const torch::Tensor& input) {
  const int64_t B = input.size(0), H = input.size(1), W = input.size(2), C = input.size(3), M = window_;
  const int64_t pad_r = (M - W % M) % M, pad_b = (M - H % M) % M;
  torch::Tensor x = torch::constant_pad_nd(input, {0, 0, 0, pad_r, 0, pad_b});
  const int64_t Hp = x.size(1), Wp = x.size(2);
  const int64_t sh = shift_for(Hp), sw = shift_for(Wp);
  if (sh + sw > 0) x = torch::roll(x, {-sh, -sw}, {1, 2});
  const int64_t nW = (Hp / M) * (Wp / M), N = M * M;
  x = x.view({B, Hp / M, M, Wp / M, M, C}).permute({0, 1, 3, 2, 4, 5}).reshape({B * nW, N, C});
  auto q_k_v = counted(qkv, x).reshape({B * nW, N, 3, heads_, C / heads_}).permute({2, 0, 3, 1, 4});
  auto q = q_k_v[0] * std::pow(static_cast<double>(C / heads_), -0.5);
  auto k = q_k_v[1], v = q_k_v[2];
  auto attn = counted_matmul(q, k.transpose(-2, -1)) + position_bias().unsqueeze(0);
  if (sh + sw > 0) {
    const auto mask = swin_shift_mask(M, Hp, Wp, sh, sw, x.options());
    attn = attn.view({B, nW, heads_, N, N}) + mask.unsqueeze(1).unsqueeze(0);
    attn = attn.view({-1, heads_, N, N});
  }
  attn = torch::softmax(attn, -1);
  x = counted_matmul(attn, v).transpose(1, 2).reshape({B * nW, N, C});
  x = counted(proj, x);
  x = x.view({B, Hp / M, Wp / M, M, M, C}).permute({0, 1, 3, 2, 4, 5}).reshape({B, Hp, Wp, C});
  if (sh + sw > 0) x = torch::roll(x, {sh, sw}, {1, 2});
  return x.slice(1, 0, H).slice(2, 0, W).contiguous();
}

SwinBlockImpl::SwinBlockImpl(int64_t dim, int64_t heads, int64_t window, int64_t shift, double mlp_ratio,
                             double drop_path)
    : drop_path_(drop_path) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
  attn = register_module("attn", WindowAttention(dim, window, shift, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
  const int64_t hidden = static_cast<int64_t>(dim * mlp_ratio);
  mlp = register_module(
      "mlp", torch::nn::Sequential(torch::nn::Linear(dim, hidden), torch::nn::GELU(), torch::nn::Dropout(0.0),
                                   torch::nn::Linear(hidden, dim), torch::nn::Dropout(0.0)));
}

torch::Tensor SwinBlockImpl::forward(torch::Tensor x) {
  x = x + stochastic_depth(attn->forward(norm1->forward(x)), drop_path_, is_training());
  return x + stochastic_depth(counted(mlp, norm2->forward(x)), drop_path_, is_training());
}

PatchMergingImpl::PatchMergingImpl(int64_t dim) {
  reduction = register_module("reduction", torch::nn::Linear(torch::nn::LinearOptions(4 * dim, 2 * dim).bias(false)));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4 * dim})));
}

torch::Tensor PatchMergingImpl::forward(const torch::Tensor& input) {
  auto x = torch::constant_pad_nd(input, {0, 0, 0, input.size(2) % 2, 0, input.size(1) % 2});
  using torch::indexing::None;
  using torch::indexing::Slice;
  auto x0 = x.index({Slice(), Slice(0, None, 2), Slice(0, None, 2)});
  auto x1 = x.index({Slice(), Slice(1, None, 2), Slice(0, None, 2)});
  auto x2 = x.index({Slice(), Slice(0, None, 2), Slice(1, None, 2)});
  auto x3 = x.index({Slice(), Slice(1, None, 2), Slice(1, None, 2)});
  return counted(reduction, norm->forward(torch::cat({x0, x1, x2, x3}, -1)));
}

}  // namespace cvtk::vision
