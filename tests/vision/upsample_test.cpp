// Every upsampling kind at every factor 1-5, on odd sizes and batch 2: the promised shape, and the
// values against torch's own operators (interpolate, conv2d + pixel_shuffle index arithmetic, and
// for the bilinear-initialised transposed convolution, bilinear interpolation away from the border).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "vision/nn/upsample.h"

namespace F = torch::nn::functional;
using cvtk::vision::make_upsampler;

namespace {

const std::vector<int64_t> kFactors = {1, 2, 3, 4, 5};

torch::Tensor input() {
  torch::manual_seed(3);
  return torch::randn({2, 3, 5, 7});
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST(Upsample, EveryKindAndFactorMultipliesTheSize) {
  const auto x = input();
  for (const auto& kind : cvtk::vision::upsampler_kinds())
    for (int64_t f : kFactors) {
      auto up = make_upsampler(kind, 3, f);
      const auto y = up.forward(x);
      EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 5 * f, 7 * f})) << kind << " x" << f;
    }
}

TEST(Upsample, InterpolationsAreTorchsInterpolate) {
  const auto x = input();
  const std::vector<std::pair<std::string, F::InterpolateFuncOptions::mode_t>> modes = {
      {"nearest", torch::kNearest}, {"bilinear", torch::kBilinear}, {"bicubic", torch::kBicubic}};
  for (const auto& [kind, mode] : modes)
    for (int64_t f : kFactors) {
      auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{5 * f, 7 * f}).mode(mode);
      if (kind != "nearest") o.align_corners(false);
      const auto ref = F::interpolate(x, o);
      EXPECT_LT(max_diff(make_upsampler(kind, 3, f).forward(x), ref), 1e-5) << kind << " x" << f;
    }
}

// Output (c, y*f + i, x*f + j) is the 1x1 convolution's channel c*f*f + i*f + j at (y, x).
TEST(Upsample, PixelShuffleOrdersSubpixelsAsDocumented) {
  const auto x = input();
  for (int64_t f : kFactors) {
    auto up = make_upsampler("pixelshuffle", 3, f);
    const auto y = up.forward(x);
    torch::Tensor w, b;
    for (const auto& p : up.ptr()->named_parameters()) {
      if (p.key() == "conv.weight") w = p.value();
      if (p.key() == "conv.bias") b = p.value();
    }
    ASSERT_TRUE(w.defined() && b.defined());
    const auto conv = F::conv2d(x, w, F::Conv2dFuncOptions().bias(b));  // [2, 3 f^2, 5, 7]
    for (int64_t c : {0, 2})
      for (int64_t i = 0; i < f; ++i)
        for (int64_t j = 0; j < f; ++j) {
          const auto expected = conv.select(1, c * f * f + i * f + j);                  // [2, 5, 7]
          const auto got = y.select(1, c).slice(1, i, 5 * f, f).slice(2, j, 7 * f, f);  // [2, 5, 7]
          EXPECT_LT(max_diff(got, expected), 1e-5) << "x" << f << " c " << c << " sub-pixel " << i << "," << j;
        }
  }
}

TEST(Upsample, TransposedStartsAsBilinearAwayFromTheBorder) {
  torch::manual_seed(5);
  const auto x = torch::randn({2, 3, 9, 11});
  for (int64_t f : kFactors) {
    const auto y = make_upsampler("transposed", 3, f).forward(x);
    const auto ref = F::interpolate(x, F::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{9 * f, 11 * f})
                                           .mode(torch::kBilinear)
                                           .align_corners(false));
    const int64_t m = f > 1 ? f : 0;
    const auto inner = [&](const torch::Tensor& t) { return t.slice(2, m, 9 * f - m).slice(3, m, 11 * f - m); };
    EXPECT_LT(max_diff(inner(y), inner(ref)), 1e-5) << "x" << f;
  }
}

TEST(Upsample, BadArgumentsAreNamed) {
  EXPECT_THROW(make_upsampler("lanczos", 3, 2), std::invalid_argument);
  EXPECT_THROW(make_upsampler("bilinear", 3, 0), std::invalid_argument);
  EXPECT_THROW(make_upsampler("pixelshuffle", 0, 2), std::invalid_argument);
  try {
    make_upsampler("lanczos", 3, 2);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("transposed"), std::string::npos) << e.what();
  }
}

// Gradients reach the learned kinds' parameters.
TEST(Upsample, LearnedKindsTrain) {
  const auto x = input();
  for (const std::string kind : {"pixelshuffle", "transposed"}) {
    auto up = make_upsampler(kind, 3, 2);
    up.forward(x).pow(2).sum().backward();
    for (const auto& p : up.ptr()->parameters()) {
      ASSERT_TRUE(p.grad().defined()) << kind;
      EXPECT_GT(p.grad().abs().sum().item<double>(), 0) << kind;
    }
  }
}
