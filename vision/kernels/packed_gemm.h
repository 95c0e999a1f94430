#pragma once
// A matrix product with the weight packed once, for the 1x1 layers of inference on pixel-major maps:
//   y[r, dst[j]] = act(sum_k x[r, k] * weight[j, k] + bias[j])    r < rows, j < N, k < K,
// act = max(., 0) when relu (NaN stays NaN), else identity. x rows may be strided (a channel range of a
// ChannelsLast map), y rows likewise, and each output column j may land at any column dst[j] of y, so
// a layer can write straight into its part of a concatenation in the order the next layer reads.
//
// Why not the BLAS: at batch 1 these products are tall and thin (100-6400 pixels, 24-512 channels);
// OpenBLAS reached 13-25 GMAC/s on 2 threads there (about a quarter of its large-matrix rate), and the
// bias, ReLU and concatenation would be further passes. The weight is packed in panels of 16 output
// columns ([K][16] each, zero-padded), read 6 rows at a time by an AVX2/FMA body where the CPU has it
// (cpu_features.h), a portable loop over the same panels elsewhere.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace cvtk::vision {

class PackedWeights {
 public:
  PackedWeights() = default;
  // weight [N, K] (or [N, K, 1, 1]) float; bias [N] or undefined (zeros); dst: the output column of
  // each weight row, distinct (empty: 0..N-1). Copies what it needs.
  PackedWeights(const torch::Tensor& weight, const torch::Tensor& bias, std::vector<int64_t> dst = {});
  bool defined() const { return n_ > 0; }
  int64_t k() const { return k_; }          // input columns
  int64_t n() const { return n_; }          // output columns
  int64_t width() const { return width_; }  // 1 + the largest output column

  // Runs the product for `rows` rows: x[r * ldx + k], y[r * ldy + dst[j]]. Threads over row blocks and
  // panels (ATen's intra-op threads). x and y must not overlap.
  void run(const float* x, int64_t ldx, int64_t rows, bool relu, float* y, int64_t ldy) const;

  static constexpr int64_t kPanel = 16;  // output columns per panel
  static constexpr int64_t kRows = 6;    // rows per block

 private:
  int64_t k_ = 0, n_ = 0, width_ = 0;
  std::vector<float> panels_;     // [panels][K][16]; column order sorted by destination
  std::vector<float> bias_;       // [panels * 16]
  std::vector<int64_t> dst_;      // [panels * 16] destination of each packed column (-1: padding)
  std::vector<char> contiguous_;  // per panel: its valid columns land on consecutive output columns
};

}  // namespace cvtk::vision
