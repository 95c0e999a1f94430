#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "vision/kernels/cpu_features.h"
#include "vision/kernels/direct_conv.h"

namespace {

using cvtk::vision::direct_conv2d;
using cvtk::vision::direct_taps;

struct Case {
  int64_t n, cin, cout, h, w, k, s, p;
};

// The stems (SNet49/ShuffleNet 3->24, SNet535 3->48, Inception 3->32 unpadded, GoogLeNet 3->64 7x7) and
// shapes that stress the edges: output channels below, at and past multiples of 8 and 24 (masked
// lanes, partial groups), maps narrower than four interior pixels, odd sizes, one input channel.
const Case kCases[] = {{1, 3, 24, 32, 32, 3, 2, 1}, {1, 3, 48, 17, 19, 3, 2, 1}, {2, 3, 32, 15, 15, 3, 2, 0},
                       {1, 3, 64, 23, 21, 7, 2, 3}, {1, 1, 5, 6, 5, 3, 1, 1},    {1, 2, 20, 4, 3, 3, 1, 1},
                       {1, 4, 27, 9, 13, 5, 3, 2},  {3, 3, 8, 7, 7, 1, 1, 0},    {1, 3, 16, 3, 3, 3, 2, 1}};

void expect_matches_aten(bool portable) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(12);
  cvtk::vision::force_portable_kernels(portable);
  for (const Case t : kCases)
    for (int variant = 0; variant < 4; ++variant) {
      const bool relu = variant & 1, channels_last = variant & 2;
      SCOPED_TRACE(::testing::Message() << "n " << t.n << " cin " << t.cin << " cout " << t.cout << " h " << t.h
                                        << " w " << t.w << " k " << t.k << " s " << t.s << " p " << t.p << " relu "
                                        << relu << " channels_last " << channels_last << " portable " << portable);
      auto x = torch::randn({t.n, t.cin, t.h, t.w});
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      const auto weight = torch::randn({t.cout, t.cin, t.k, t.k});
      const auto bias = variant == 1 ? torch::Tensor() : torch::randn({t.cout});
      const auto ours = direct_conv2d(x, direct_taps(weight), bias, t.k, t.s, t.p, relu);
      auto ref = torch::conv2d(x, weight, bias, t.s, t.p);
      if (relu) ref = ref.relu();
      ASSERT_EQ(ours.sizes(), ref.sizes());
      EXPECT_TRUE(ours.is_contiguous(torch::MemoryFormat::ChannelsLast));
      EXPECT_TRUE(torch::allclose(ours, ref, 1e-4, 1e-4)) << (ours - ref).abs().max().item<float>();
    }
  cvtk::vision::force_portable_kernels(false);
}

TEST(DirectConv, MatchesATen) { expect_matches_aten(false); }

TEST(DirectConv, PortableLoopMatchesATen) { expect_matches_aten(true); }

// A strided view (every other column of a wider image) is read in place.
TEST(DirectConv, ReadsStridedViews) {
  torch::NoGradGuard no_grad;
  const auto wide = torch::randn({1, 3, 12, 26});
  const auto x = wide.slice(3, 1, 26, 2);
  const auto weight = torch::randn({24, 3, 3, 3});
  const auto ours = direct_conv2d(x, direct_taps(weight), {}, 3, 2, 1, false);
  EXPECT_TRUE(torch::allclose(ours, torch::conv2d(x.contiguous(), weight, {}, 2, 1), 1e-4, 1e-4));
}

TEST(DirectConv, NanReachesExactlyTheWindowsThatCoverIt) {
  torch::NoGradGuard no_grad;
  for (bool portable : {false, true}) {
    cvtk::vision::force_portable_kernels(portable);
    auto x = torch::rand({1, 3, 16, 16});
    x[0][1][7][8] = std::numeric_limits<float>::quiet_NaN();
    const auto weight = torch::rand({24, 3, 3, 3});
    const auto ours = direct_conv2d(x, direct_taps(weight), {}, 3, 2, 1, true);
    const auto ref = torch::conv2d(x, weight, {}, 2, 1);
    EXPECT_TRUE(torch::equal(ours.isnan(), ref.isnan())) << "portable " << portable;
    EXPECT_GT(ours.isnan().sum().item<int64_t>(), 0);
  }
  cvtk::vision::force_portable_kernels(false);
}

TEST(DirectConv, RejectsWhatItCannotRun) {
  const auto taps = torch::zeros({27, 8});
  EXPECT_THROW(direct_conv2d(torch::zeros({1, 3, 8, 8}, torch::kDouble), taps, {}, 3, 1, 1, false), c10::Error);
  EXPECT_THROW(direct_conv2d(torch::zeros({1, 2, 8, 8}), taps, {}, 3, 1, 1, false), c10::Error);  // channels
  EXPECT_THROW(direct_conv2d(torch::zeros({1, 3, 2, 2}), taps, {}, 3, 1, 0, false), c10::Error);  // too small
  EXPECT_THROW(direct_conv2d(torch::zeros({1, 3, 8, 8}), taps, torch::zeros({7}), 3, 1, 1, false), c10::Error);
}

}  // namespace
