#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "vision/kernels/cpu_features.h"
#include "vision/kernels/max_pool.h"

namespace {

using cvtk::vision::max_pool2d;

// The pixel-major kernel against ATen's on shapes that exercise padding at every border, strides that
// skip columns, odd sizes and NaN propagation.
void expect_matches_aten() {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  struct Case {
    int64_t n, c, h, w, k, s, p;
  };
  for (const Case t : {Case{1, 24, 160, 160, 3, 2, 1}, Case{2, 5, 17, 9, 3, 2, 1}, Case{1, 64, 35, 35, 3, 2, 0},
                       Case{3, 3, 8, 11, 2, 2, 0}, Case{1, 7, 6, 6, 3, 1, 1}, Case{1, 1, 5, 4, 5, 3, 2}}) {
    SCOPED_TRACE(::testing::Message() << "c " << t.c << " h " << t.h << " w " << t.w << " k " << t.k << " s " << t.s
                                      << " p " << t.p);
    auto x = torch::randn({t.n, t.c, t.h, t.w}) - 3;  // mostly negative: padding must not win
    x.view(-1)[7] = std::numeric_limits<float>::quiet_NaN();
    const auto cl = x.contiguous(torch::MemoryFormat::ChannelsLast);
    const auto ours = max_pool2d(cl, t.k, t.s, t.p);
    const auto ref = torch::max_pool2d(x, t.k, t.s, t.p);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_TRUE(ours.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(torch::equal(ours.isnan(), ref.isnan()));
    EXPECT_TRUE(torch::equal(ours.nan_to_num(0), ref.nan_to_num(0)));
  }
}

TEST(MaxPool, MatchesATenOnChannelsLastMaps) { expect_matches_aten(); }

TEST(MaxPool, PortableLoopMatchesATen) {
  cvtk::vision::force_portable_kernels(true);
  expect_matches_aten();
  cvtk::vision::force_portable_kernels(false);
}

TEST(MaxPool, OtherInputsGoToATenWithGradients) {
  auto x = torch::randn({1, 4, 9, 9}, torch::requires_grad());
  auto y = max_pool2d(x.contiguous(torch::MemoryFormat::ChannelsLast), 3, 2, 1);
  y.sum().backward();
  EXPECT_EQ(x.grad().sum().item<float>(), float(y.numel()));  // one winner per output
  auto nchw = torch::randn({1, 4, 9, 9});
  EXPECT_TRUE(torch::equal(max_pool2d(nchw, 3, 2, 1), torch::max_pool2d(nchw, 3, 2, 1)));
}

}  // namespace
