#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "vision/kernels/channel_concat.h"

namespace {

using cvtk::vision::ChannelOrder;
using cvtk::vision::concat_channels;
using cvtk::vision::pixel_rows;

// The permutation written out index by index, as the header states it.
torch::Tensor expected(const torch::Tensor& a, const torch::Tensor& bias_a, bool relu_a, const torch::Tensor& b,
                       bool relu_b, ChannelOrder order) {
  const auto a1 = a + bias_a.view({1, -1, 1, 1});
  const auto cat = torch::cat({relu_a ? a1.relu() : a1, relu_b ? b.relu() : b}, 1);
  const int64_t c = cat.size(1);
  auto out = torch::empty_like(cat);
  for (int64_t i = 0; i < c; ++i) {
    int64_t dst = i;
    if (order == ChannelOrder::kInterleave) dst = i < c / 2 ? 2 * i : 2 * (i - c / 2) + 1;
    if (order == ChannelOrder::kDeinterleave) dst = i % 2 == 0 ? i / 2 : c / 2 + i / 2;
    out.select(1, dst).copy_(cat.select(1, i));
  }
  return out;
}

TEST(ConcatChannels, EveryOrderMatchesTheStatedPermutation) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  const auto cl = torch::MemoryFormat::ChannelsLast;
  // (Ca, Cb): ShuffleNet halves, Megvii stride-2 widths (24 + 36), an odd split, one channel each.
  for (const auto& [ca, cb] : std::vector<std::pair<int64_t, int64_t>>{{30, 30}, {24, 36}, {7, 9}, {1, 1}})
    for (auto order : {ChannelOrder::kConcat, ChannelOrder::kInterleave, ChannelOrder::kDeinterleave})
      for (int relu = 0; relu < 4; ++relu) {
        SCOPED_TRACE(::testing::Message() << ca << "+" << cb << " order " << int(order) << " relu " << relu);
        auto a = torch::randn({2, ca, 5, 7});
        a.view(-1)[3] = std::numeric_limits<float>::quiet_NaN();
        const auto b = torch::randn({2, cb, 5, 7});
        const auto bias_a = torch::randn({ca});
        const auto ref = expected(a, bias_a, relu & 1, b, relu & 2, order);
        const auto ours =
            concat_channels(a.contiguous(cl), {bias_a, bool(relu & 1)}, b.contiguous(cl), {{}, bool(relu & 2)}, order);
        EXPECT_TRUE(ours.is_contiguous(cl));
        EXPECT_TRUE(torch::equal(ours.isnan(), ref.isnan()));
        EXPECT_TRUE(torch::equal(ours.nan_to_num(0), ref.nan_to_num(0)));
        // Channel ranges of a wider pixel-major map (a stride-1 unit's halves) are read in place...
        const auto wide = torch::cat({a, b}, 1).contiguous(cl);
        ASSERT_TRUE(pixel_rows(wide.narrow(1, ca, cb)));
        EXPECT_TRUE(torch::equal(concat_channels(wide.narrow(1, 0, ca), {bias_a, bool(relu & 1)},
                                                 wide.narrow(1, ca, cb), {{}, bool(relu & 2)}, order)
                                     .nan_to_num(0),
                                 ref.nan_to_num(0)));
        // ...and other layouts go through torch ops with the same result.
        EXPECT_TRUE(
            torch::equal(concat_channels(a, {bias_a, bool(relu & 1)}, b, {{}, bool(relu & 2)}, order).nan_to_num(0),
                         ref.nan_to_num(0)));
      }
}

TEST(ConcatChannels, KeepsGradientsOnTheFallback) {
  auto a = torch::randn({1, 4, 3, 3}, torch::requires_grad()), b = torch::randn({1, 4, 3, 3}, torch::requires_grad());
  concat_channels(a, {{}, true}, b, {}, ChannelOrder::kInterleave).sum().backward();
  EXPECT_TRUE(torch::equal(a.grad(), (a > 0).to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(b.grad(), torch::ones_like(b)));
  EXPECT_THROW(
      concat_channels(torch::zeros({1, 3, 2, 2}), {}, torch::zeros({1, 2, 2, 2}), {}, ChannelOrder::kDeinterleave),
      c10::Error);
}

TEST(PixelRows, RecognisesPixelMajorMapsAndChannelRanges) {
  const auto cl = torch::zeros({2, 8, 4, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  int64_t stride = 0;
  EXPECT_TRUE(pixel_rows(cl, &stride));
  EXPECT_EQ(stride, 8);
  EXPECT_TRUE(pixel_rows(cl.narrow(1, 3, 4), &stride));
  EXPECT_EQ(stride, 8);
  EXPECT_FALSE(pixel_rows(torch::zeros({2, 8, 4, 5})));  // NCHW
  EXPECT_FALSE(pixel_rows(cl.slice(1, 0, 8, 2)));        // every other channel
  EXPECT_FALSE(pixel_rows(cl.narrow(2, 0, 2)));          // a band of rows: pixels not evenly spaced
}

}  // namespace
