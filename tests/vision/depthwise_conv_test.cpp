#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "vision/kernels/cpu_features.h"
#include "vision/kernels/depthwise_conv.h"

namespace {

using cvtk::vision::depthwise_conv2d;
using cvtk::vision::depthwise_taps;

struct Case {
  int64_t n, c, h, w, k, s, p;
};

// ShuffleNet/SNet shapes plus ones that stress the edges: channel counts below, at and past a multiple
// of 8 (masked lanes), maps narrower than four interior pixels, maps smaller than the kernel, odd sizes,
// strides that skip the last column.
const Case kCases[] = {{1, 30, 40, 40, 5, 1, 2}, {1, 24, 80, 80, 5, 2, 2}, {2, 245, 20, 20, 5, 1, 2},
                       {1, 8, 9, 13, 3, 1, 1},   {1, 7, 6, 5, 3, 2, 1},    {3, 1, 4, 4, 5, 1, 2},
                       {1, 17, 2, 3, 5, 1, 2},   {1, 16, 11, 12, 5, 2, 2}, {1, 9, 7, 7, 3, 1, 0},
                       {2, 12, 5, 9, 1, 1, 0}};

void expect_matches_aten(bool portable) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  cvtk::vision::force_portable_kernels(portable);
  for (const Case t : kCases)
    for (int relu = 0; relu < 4; ++relu) {
      const bool relu_in = relu & 1, relu_out = relu & 2;
      SCOPED_TRACE(::testing::Message() << "n " << t.n << " c " << t.c << " h " << t.h << " w " << t.w << " k " << t.k
                                        << " s " << t.s << " p " << t.p << " relu_in " << relu_in << " relu_out "
                                        << relu_out);
      const auto x = torch::randn({t.n, t.c, t.h, t.w});
      const auto weight = torch::randn({t.c, 1, t.k, t.k});
      const auto bias = relu == 2 ? torch::Tensor() : torch::randn({t.c});
      const auto input_bias = relu == 1 ? torch::Tensor() : torch::randn({t.c});
      const auto ours = depthwise_conv2d(x.contiguous(torch::MemoryFormat::ChannelsLast), depthwise_taps(weight), bias,
                                         t.k, t.s, t.p, {input_bias, relu_in}, relu_out);
      const auto in = input_bias.defined() ? x + input_bias.view({1, -1, 1, 1}) : x;
      auto ref = torch::conv2d(relu_in ? in.relu() : in, weight, bias, t.s, t.p, 1, t.c);
      if (relu_out) ref = ref.relu();
      ASSERT_EQ(ours.sizes(), ref.sizes());
      EXPECT_TRUE(ours.is_contiguous(torch::MemoryFormat::ChannelsLast));
      EXPECT_TRUE(torch::allclose(ours, ref, 1e-4, 1e-5)) << (ours - ref).abs().max().item<float>();
    }
  cvtk::vision::force_portable_kernels(false);
}

TEST(DepthwiseConv, MatchesATen) { expect_matches_aten(false); }

TEST(DepthwiseConv, PortableLoopMatchesATen) { expect_matches_aten(true); }

// NaN in the input reaches exactly the outputs whose window covers it, through the fused input epilogue.
TEST(DepthwiseConv, NanPropagatesThroughFusedRelus) {
  torch::NoGradGuard no_grad;
  for (bool portable : {false, true}) {
    cvtk::vision::force_portable_kernels(portable);
    auto x = torch::rand({1, 10, 9, 9});
    x[0][3][4][4] = std::numeric_limits<float>::quiet_NaN();
    const auto weight = torch::rand({10, 1, 3, 3});
    const auto ours = depthwise_conv2d(x.contiguous(torch::MemoryFormat::ChannelsLast), depthwise_taps(weight),
                                       torch::Tensor(), 3, 1, 1, {torch::ones({10}), true}, true);
    const auto ref = torch::conv2d(x, weight, {}, 1, 1, 1, 10);
    EXPECT_TRUE(torch::equal(ours.isnan(), ref.isnan())) << "portable " << portable;
    EXPECT_EQ(ours.isnan().sum().item<int64_t>(), 9);
  }
  cvtk::vision::force_portable_kernels(false);
}

TEST(DepthwiseConv, RejectsWhatItCannotRun) {
  const auto taps = torch::zeros({9, 4});
  EXPECT_THROW(depthwise_conv2d(torch::zeros({1, 4, 8, 8}), taps, {}, 3, 1, 1, {}, false), c10::Error);  // NCHW
  EXPECT_THROW(depthwise_conv2d(torch::zeros({1, 5, 8, 8}).contiguous(torch::MemoryFormat::ChannelsLast), taps, {}, 3,
                                1, 1, {}, false),
               c10::Error);  // channel count
  EXPECT_THROW(depthwise_conv2d(torch::zeros({1, 4, 2, 2}).contiguous(torch::MemoryFormat::ChannelsLast), taps, {}, 3,
                                1, 0, {}, false),
               c10::Error);  // map smaller than the kernel
}

}  // namespace
