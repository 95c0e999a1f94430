#include "vision/kernels/packed_gemm.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "vision/kernels/cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define CVTK_PACKED_GEMM_AVX2 1
#endif

namespace cvtk::vision {
namespace {

constexpr int64_t kP = PackedWeights::kPanel;
constexpr int kR = int(PackedWeights::kRows);

// Where one tile's results go: rows of y, and the panel's destinations.
struct TileOut {
  float* y;
  int64_t ldy;
  const int64_t* dst;  // kP destinations (the first `valid` are real)
  bool contiguous;     // dst[j] == dst[0] + j for j < valid
  int valid;           // real columns in the panel
};

inline float act(float v, bool relu) { return relu ? std::max(v, 0.f) : v; }  // std::max(NaN, 0) is NaN

// A finished row of kP values to its destinations.
inline void store_row(const float* v, const TileOut& o, int64_t r) {
  float* row = o.y + r * o.ldy;
  if (o.contiguous) {
    std::copy(v, v + o.valid, row + o.dst[0]);
  } else {
    for (int j = 0; j < o.valid; ++j) row[o.dst[j]] = v[j];
  }
}

void tile_portable(const float* x, int64_t ldx, int rows, const float* panel, int64_t k, const float* bias, bool relu,
                   const TileOut& o) {
  float acc[kR][kP];
  for (int r = 0; r < rows; ++r)
    for (int64_t j = 0; j < kP; ++j) acc[r][j] = bias[j];
  for (int64_t kk = 0; kk < k; ++kk) {
    const float* w = panel + kk * kP;
    for (int r = 0; r < rows; ++r) {
      const float a = x[r * ldx + kk];
      for (int64_t j = 0; j < kP; ++j) acc[r][j] += a * w[j];
    }
  }
  for (int r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < kP; ++j) acc[r][j] = act(acc[r][j], relu);
    store_row(acc[r], o, r);
  }
}

#ifdef CVTK_PACKED_GEMM_AVX2

// The accumulators of R rows, each 16 columns as two vectors, in named variables: held in an array, GCC
// kept them in memory and stored them back on every step of k.
template <int R>
struct Accumulators {
  __m256 l0, h0, l1, h1, l2, h2, l3, h3, l4, h4, l5, h5;
};

#define CVTK_ROWS(F) F(0) F(1) F(2) F(3) F(4) F(5)

// R rows of one panel: 2R accumulators of 8 columns; each step of k loads the panel's 16 weights once
// and broadcasts one value of each row.
template <int R>
__attribute__((target("avx2,fma"))) void tile_avx2(const float* x, int64_t ldx, const float* panel, int64_t k,
                                                   const float* bias, bool relu, const TileOut& o) {
  const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
  Accumulators<R> a{b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1};
  const float* x0 = x;
  const float* x1 = x + 1 * ldx;
  const float* x2 = x + 2 * ldx;
  const float* x3 = x + 3 * ldx;
  const float* x4 = x + 4 * ldx;
  const float* x5 = x + 5 * ldx;
  for (int64_t kk = 0; kk < k; ++kk) {
    const __m256 w0 = _mm256_loadu_ps(panel + kk * kP), w1 = _mm256_loadu_ps(panel + kk * kP + 8);
#define CVTK_STEP(r)                                 \
  if constexpr (R > r) {                             \
    const __m256 v = _mm256_broadcast_ss(x##r + kk); \
    a.l##r = _mm256_fmadd_ps(v, w0, a.l##r);         \
    a.h##r = _mm256_fmadd_ps(v, w1, a.h##r);         \
  }
    CVTK_ROWS(CVTK_STEP)
#undef CVTK_STEP
  }
  alignas(32) float v[kR][kP];
#define CVTK_SPILL(r)                  \
  if constexpr (R > r) {               \
    _mm256_store_ps(v[r], a.l##r);     \
    _mm256_store_ps(v[r] + 8, a.h##r); \
  }
  if (relu) {
    // max(0, v) with v second: vmaxps returns its second operand when either is NaN.
    const __m256 z = _mm256_setzero_ps();
#define CVTK_RELU(r)                   \
  if constexpr (R > r) {               \
    a.l##r = _mm256_max_ps(z, a.l##r); \
    a.h##r = _mm256_max_ps(z, a.h##r); \
  }
    CVTK_ROWS(CVTK_RELU)
#undef CVTK_RELU
  }
  if (o.contiguous && o.valid == kP) {
    float* base = o.y + o.dst[0];
#define CVTK_STORE(r)                               \
  if constexpr (R > r) {                            \
    _mm256_storeu_ps(base + r * o.ldy, a.l##r);     \
    _mm256_storeu_ps(base + r * o.ldy + 8, a.h##r); \
  }
    CVTK_ROWS(CVTK_STORE)
#undef CVTK_STORE
    return;
  }
  CVTK_ROWS(CVTK_SPILL)
#undef CVTK_SPILL
  for (int r = 0; r < R; ++r) store_row(v[r], o, r);
}

#undef CVTK_ROWS

void tile_avx2_rows(const float* x, int64_t ldx, int rows, const float* panel, int64_t k, const float* bias, bool relu,
                    const TileOut& o) {
  switch (rows) {
    case 6:
      return tile_avx2<6>(x, ldx, panel, k, bias, relu, o);
    case 5:
      return tile_avx2<5>(x, ldx, panel, k, bias, relu, o);
    case 4:
      return tile_avx2<4>(x, ldx, panel, k, bias, relu, o);
    case 3:
      return tile_avx2<3>(x, ldx, panel, k, bias, relu, o);
    case 2:
      return tile_avx2<2>(x, ldx, panel, k, bias, relu, o);
    default:
      return tile_avx2<1>(x, ldx, panel, k, bias, relu, o);
  }
}

#endif  // CVTK_PACKED_GEMM_AVX2

}  // namespace

PackedWeights::PackedWeights(const torch::Tensor& weight_in, const torch::Tensor& bias_in, std::vector<int64_t> dst) {
  TORCH_CHECK(weight_in.dim() == 2 || (weight_in.dim() == 4 && weight_in.size(2) == 1 && weight_in.size(3) == 1),
              "PackedWeights: expected a weight [N, K] or [N, K, 1, 1], got ", weight_in.sizes());
  const auto weight = weight_in.detach().to(torch::kCPU, torch::kFloat).reshape({weight_in.size(0), -1}).contiguous();
  n_ = weight.size(0), k_ = weight.size(1);
  TORCH_CHECK(n_ > 0 && k_ > 0, "PackedWeights: empty weight ", weight_in.sizes());
  TORCH_CHECK(!bias_in.defined() || bias_in.numel() == n_, "PackedWeights: expected a bias of ", n_, " values, got ",
              bias_in.numel());
  if (dst.empty()) {
    dst.resize(size_t(n_));
    std::iota(dst.begin(), dst.end(), 0);
  }
  TORCH_CHECK(int64_t(dst.size()) == n_, "PackedWeights: ", dst.size(), " destinations for ", n_, " columns");
  // Columns in the order of their destinations, so runs of consecutive destinations share a panel.
  std::vector<int64_t> order(static_cast<size_t>(n_));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return dst[a] < dst[b]; });
  for (size_t i = 0; i < order.size(); ++i) {
    TORCH_CHECK(dst[order[i]] >= 0, "PackedWeights: negative destination ", dst[order[i]]);
    TORCH_CHECK(i == 0 || dst[order[i]] != dst[order[i - 1]], "PackedWeights: destination ", dst[order[i]],
                " given twice");
  }
  width_ = dst[order.back()] + 1;
  const int64_t panels = (n_ + kP - 1) / kP;
  panels_.assign(size_t(panels * k_ * kP), 0.f);
  bias_.assign(size_t(panels * kP), 0.f);
  dst_.assign(size_t(panels * kP), -1);
  contiguous_.assign(size_t(panels), 1);
  const auto bias = bias_in.defined() ? bias_in.detach().to(torch::kCPU, torch::kFloat).contiguous() : torch::Tensor();
  const float* w = weight.data_ptr<float>();
  for (int64_t c = 0; c < n_; ++c) {
    const int64_t src = order[size_t(c)], p = c / kP, j = c % kP;
    for (int64_t kk = 0; kk < k_; ++kk) panels_[size_t((p * k_ + kk) * kP + j)] = w[src * k_ + kk];
    if (bias.defined()) bias_[size_t(c)] = bias.data_ptr<float>()[src];
    dst_[size_t(c)] = dst[size_t(src)];
    if (j > 0 && dst_[size_t(c)] != dst_[size_t(c - 1)] + 1) contiguous_[size_t(p)] = 0;
  }
}

void PackedWeights::run(const float* x, int64_t ldx, int64_t rows, bool relu, float* y, int64_t ldy) const {
  TORCH_CHECK(defined(), "PackedWeights::run: no weights");
  TORCH_CHECK(ldx >= k_ && ldy >= width_, "PackedWeights::run: row strides ", ldx, "/", ldy, " below ", k_, "/",
              width_);
  if (rows <= 0) return;
  const int64_t blocks = (rows + kR - 1) / kR, panels = int64_t(contiguous_.size()), units = blocks * panels;
  // Small products stay on one thread: a fork costs more than they do.
  const int64_t grain = rows * k_ * n_ < (1 << 17) ? units : 1;
  const bool avx2 = use_avx2_kernels();
  (void)avx2;  // read only where the AVX2 body is compiled
  at::parallel_for(0, units, grain, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      // Panel-major: a thread's units share panels, which stay in L1 while the rows stream by.
      const int64_t p = u / blocks, b = u % blocks;
      const int64_t r0 = b * kR;
      const int n_rows = int(std::min<int64_t>(kR, rows - r0));
      const int valid = int(std::min<int64_t>(kP, n_ - p * kP));
      const TileOut o{y + r0 * ldy, ldy, dst_.data() + p * kP, contiguous_[size_t(p)] != 0, valid};
      const float* panel = panels_.data() + p * k_ * kP;
      const float* bias = bias_.data() + p * kP;
#ifdef CVTK_PACKED_GEMM_AVX2
      if (avx2) {
        tile_avx2_rows(x + r0 * ldx, ldx, n_rows, panel, k_, bias, relu, o);
        continue;
      }
#endif
      tile_portable(x + r0 * ldx, ldx, n_rows, panel, k_, bias, relu, o);
    }
  });
}

}  // namespace cvtk::vision
