#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <numeric>
#include <vector>

#include "vision/kernels/channel_concat.h"
#include "vision/kernels/cpu_features.h"
#include "vision/kernels/packed_gemm.h"

namespace {

using cvtk::vision::PackedWeights;

struct Shape {
  int64_t rows, k, n;
};

// Row counts below, at and past the 6-row block; column counts below, at and past the 16-column panel;
// the SNet49 shapes at 320x320 (stage 2 halves, conv5, the R-CNN head's fc).
const Shape kShapes[] = {{1, 1, 1},      {5, 3, 7},       {6, 16, 16}, {7, 17, 17},     {13, 30, 30},
                         {1600, 30, 30}, {100, 240, 512}, {37, 5, 33}, {200, 245, 101}, {12, 64, 48}};

// y = act(x w^T + b) scattered to dst, the header's formula written with torch ops.
torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, bool relu,
                        const std::vector<int64_t>& dst, int64_t width) {
  auto y = torch::mm(x.to(torch::kDouble), w.to(torch::kDouble).t());
  if (b.defined()) y = y + b.to(torch::kDouble);
  if (relu) y = y.relu();
  auto out = torch::full({x.size(0), width}, -7.0, torch::kDouble);
  for (size_t j = 0; j < dst.size(); ++j) out.select(1, dst[j]).copy_(y.select(1, int64_t(j)));
  return out.to(torch::kFloat);
}

void expect_matches(bool portable) {
  torch::manual_seed(5);
  cvtk::vision::force_portable_kernels(portable);
  for (const Shape s : kShapes)
    for (int variant = 0; variant < 4; ++variant) {
      const bool relu = variant & 1, shuffled = variant & 2;
      SCOPED_TRACE(::testing::Message() << "rows " << s.rows << " k " << s.k << " n " << s.n << " relu " << relu
                                        << " shuffled " << shuffled << " portable " << portable);
      // Strided input rows (a channel range of a wider map) and, when shuffled, the Megvii order with
      // a gap: even columns to one run, odd ones to another, leaving columns unwritten.
      const auto wide = torch::randn({s.rows, s.k + 3});
      const auto x = wide.narrow(1, 2, s.k);
      const auto w = torch::randn({s.n, s.k});
      const auto b = variant == 2 ? torch::Tensor() : torch::randn({s.n});
      std::vector<int64_t> dst(static_cast<size_t>(s.n));
      std::iota(dst.begin(), dst.end(), 0);
      if (shuffled)
        for (int64_t j = 0; j < s.n; ++j) dst[size_t(j)] = j % 2 ? s.n + 5 + j / 2 : j / 2;
      const PackedWeights packed(w, b, dst);
      const int64_t width = packed.width() + 2;
      auto y = torch::full({s.rows, width}, -7.0f);
      packed.run(x.data_ptr<float>(), wide.size(1), s.rows, relu, y.data_ptr<float>(), width);
      const auto ref = reference(x, w, b, relu, dst, width);
      EXPECT_TRUE(torch::allclose(y, ref, 1e-4, 1e-4)) << (y - ref).abs().max().item<float>();
    }
  cvtk::vision::force_portable_kernels(false);
}

TEST(PackedGemm, MatchesMatrixProduct) { expect_matches(false); }

TEST(PackedGemm, PortableLoopMatchesMatrixProduct) { expect_matches(true); }

TEST(PackedGemm, NanStaysNanThroughTheRelu) {
  for (bool portable : {false, true}) {
    cvtk::vision::force_portable_kernels(portable);
    auto x = torch::ones({9, 4});
    x[3][1] = std::numeric_limits<float>::quiet_NaN();
    const PackedWeights packed(torch::ones({20, 4}), torch::full({20}, -100.f));
    auto y = torch::empty({9, 20});
    packed.run(x.data_ptr<float>(), 4, 9, true, y.data_ptr<float>(), 20);
    EXPECT_EQ(y.isnan().sum().item<int64_t>(), 20) << "portable " << portable;
    EXPECT_TRUE(y[3].isnan().all().item<bool>());
    EXPECT_EQ(y.nan_to_num().abs().sum().item<float>(), 0.f);  // the rest clamped to 0
  }
  cvtk::vision::force_portable_kernels(false);
}

TEST(PackedGemm, RejectsBadDestinationsAndStrides) {
  const auto w = torch::ones({3, 2});
  EXPECT_THROW(PackedWeights(w, {}, {0, 1}), c10::Error);            // count
  EXPECT_THROW(PackedWeights(w, {}, {0, 1, 1}), c10::Error);         // twice
  EXPECT_THROW(PackedWeights(w, {}, {0, -1, 2}), c10::Error);        // negative
  EXPECT_THROW(PackedWeights(w, torch::ones({2}), {}), c10::Error);  // bias size
  const PackedWeights packed(w, {}, {0, 4, 2});
  EXPECT_EQ(packed.width(), 5);
  std::vector<float> x(4, 1.f), y(10, 0.f);
  EXPECT_THROW(packed.run(x.data(), 2, 2, false, y.data(), 4), c10::Error);  // output row narrower than width
  EXPECT_THROW(packed.run(x.data(), 1, 2, false, y.data(), 5), c10::Error);  // input row narrower than k
}

TEST(ScatterChannels, WritesEachChannelAtItsColumn) {
  const auto src = torch::arange(5 * 9, torch::kFloat).view({5, 9});
  for (const std::vector<int64_t>& cols :
       {std::vector<int64_t>{0, 3, 1, 4, 2, 5}, std::vector<int64_t>{5, 0, 2, 1, 4, 3}}) {
    auto dst = torch::full({5, 7}, -1.f);
    cvtk::vision::scatter_channels(src.data_ptr<float>(), 9, 5, 6, cols.data(), dst.data_ptr<float>(), 7);
    for (int64_t r = 0; r < 5; ++r)
      for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(dst[r][cols[size_t(i)]].item<float>(), src[r][i].item<float>());
    EXPECT_TRUE((dst.select(1, 6) == -1).all().item<bool>());
  }
}

}  // namespace
