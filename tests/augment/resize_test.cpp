// Resizing against torch::nn::functional::interpolate, and the documented differences between torch
// and OpenCV (reference/models.md section 6) tested as such.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgproc.hpp>

#include "augment/resize.h"

using namespace cvtk::augment;
namespace F = torch::nn::functional;

namespace {

cv::Mat random_image(int h, int w, int type, uint64_t seed) {
  cv::Mat m(h, w, type);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

// HxWxC Mat (uint8 or float32) -> [1,C,H,W] float32 tensor.
torch::Tensor to_nchw(const cv::Mat& m) {
  cv::Mat f;
  m.convertTo(f, CV_32F);
  return torch::from_blob(f.data, {1, m.rows, m.cols, m.channels()}, torch::kFloat32).permute({0, 3, 1, 2}).clone();
}

cv::Mat from_nchw(const torch::Tensor& t) {
  torch::Tensor hwc = t[0].permute({1, 2, 0}).contiguous();
  cv::Mat m(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC(static_cast<int>(hwc.size(2))),
            hwc.data_ptr<float>());
  return m.clone();
}

torch::Tensor interpolate(const torch::Tensor& x, int h, int w,
                          torch::nn::functional::InterpolateFuncOptions::mode_t mode,
                          std::optional<bool> align = std::nullopt) {
  auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(mode);
  if (align) o.align_corners(*align);
  return F::interpolate(x, o);
}

double max_abs(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat fa, fb;
  a.convertTo(fa, CV_32F);
  b.convertTo(fb, CV_32F);
  return cv::norm(fa, fb, cv::NORM_INF);
}

const std::vector<std::pair<int, int>> kSizePairs = {{36, 56}, {22, 50}, {7, 12},  {13, 13}, {40, 80},
                                                     {50, 22}, {64, 32}, {31, 97}, {90, 61}};

TEST(Resize, NearestEqualsTorchBitForBit) {
  for (auto [n_in, n_out] : kSizePairs) {
    const cv::Mat img = random_image(n_in, n_in + 3, CV_8UC3, n_in * 31 + n_out);
    const cv::Mat ours = resize_image(img, cv::Size(n_out + 5, n_out), Interp::nearest);
    const cv::Mat ref = from_nchw(interpolate(to_nchw(img), n_out, n_out + 5, torch::kNearest));
    EXPECT_EQ(max_abs(ours, ref), 0.0) << n_in << " -> " << n_out;
  }
}

TEST(Resize, OpenCvNearestDiffersFromTorchAtExactIntegerSources) {
  // models.md 6.2: 36 -> 56 at d = 42, torch (float32 scale) picks 27, OpenCV (double) 26.
  cv::Mat ramp(1, 36, CV_8UC1);
  for (int x = 0; x < 36; ++x) ramp.at<uchar>(0, x) = static_cast<uchar>(x);
  const cv::Mat ours = resize_image(ramp, cv::Size(56, 1), Interp::nearest);
  cv::Mat cvn;
  cv::resize(ramp, cvn, cv::Size(56, 1), 0, 0, cv::INTER_NEAREST);
  EXPECT_EQ(ours.at<uchar>(0, 42), 27);
  EXPECT_EQ(cvn.at<uchar>(0, 42), 26);
  // Everywhere else they agree.
  int differ = 0;
  for (int x = 0; x < 56; ++x) differ += ours.at<uchar>(0, x) != cvn.at<uchar>(0, x);
  EXPECT_EQ(differ, 1);
}

TEST(Resize, BilinearMatchesTorchAlignCornersFalse) {
  for (auto [n_in, n_out] : kSizePairs) {
    const cv::Mat img = random_image(n_in, n_in + 2, CV_8UC3, n_in * 7 + n_out);
    const cv::Mat ref = from_nchw(interpolate(to_nchw(img), n_out, n_out + 4, torch::kBilinear, false));
    // OpenCV on float32: the same function to float rounding (2e-3 on values up to 255).
    cv::Mat f, cvf;
    img.convertTo(f, CV_32F);
    cv::resize(f, cvf, cv::Size(n_out + 4, n_out), 0, 0, cv::INTER_LINEAR);
    EXPECT_LE(max_abs(cvf, ref), 2e-3) << n_in << " -> " << n_out;
    // Ours (uint8, fixed-point weights): within one grey level of torch.
    const cv::Mat ours = resize_image(img, cv::Size(n_out + 4, n_out), Interp::bilinear);
    EXPECT_LE(max_abs(ours, ref), 1.0 + 1e-4) << n_in << " -> " << n_out;
  }
}

TEST(Resize, AlignCornersTrueIsADifferentFunction) {
  const cv::Mat img = random_image(20, 20, CV_8UC1, 3);
  const cv::Mat ours = resize_image(img, cv::Size(50, 50), Interp::bilinear);
  const cv::Mat ac = from_nchw(interpolate(to_nchw(img), 50, 50, torch::kBilinear, true));
  EXPECT_GT(max_abs(ours, ac), 5.0);
  // Corners map exactly with align_corners=True.
  EXPECT_NEAR(ac.at<float>(0, 0), img.at<uchar>(0, 0), 1e-4);
  EXPECT_NEAR(ac.at<float>(49, 49), img.at<uchar>(19, 19), 1e-4);
}

TEST(Resize, BicubicMatchesTorchOnFloat) {
  for (auto [n_in, n_out] : kSizePairs) {
    cv::Mat f;
    random_image(n_in, n_in, CV_8UC3, n_in + 11 * n_out).convertTo(f, CV_32F);
    const cv::Mat ref = from_nchw(interpolate(to_nchw(f), n_out, n_out, torch::kBicubic, false));
    const cv::Mat ours = resize_image(f, cv::Size(n_out, n_out), Interp::bicubic);
    EXPECT_LE(max_abs(ours, ref), 2e-3) << n_in << " -> " << n_out;
  }
}

TEST(Resize, AreaEqualsTorchOnlyForIntegerDownscaling) {
  cv::Mat f;
  random_image(48, 48, CV_8UC3, 5).convertTo(f, CV_32F);
  auto area = [&](int n) {
    return max_abs(resize_image(f, cv::Size(n, n), Interp::area),
                   from_nchw(interpolate(to_nchw(f), n, n, torch::kArea)));
  };
  EXPECT_LE(area(24), 1e-4);
  EXPECT_LE(area(12), 1e-4);
  EXPECT_GT(area(35), 1.0);  // fractional weights in OpenCV
  EXPECT_GT(area(70), 1.0);  // upscaling: OpenCV interpolates, torch replicates
}

TEST(Resize, ScaleFactorOutputSizeIsFloorLikeTorch) {
  const cv::Mat img = random_image(7, 9, CV_8UC3, 1);
  // torch: floor(7 * 1.7) = 11 rows; OpenCV fx/fy: round -> 12.
  auto o = F::InterpolateFuncOptions().scale_factor(std::vector<double>{1.7, 1.7}).mode(torch::kNearest);
  EXPECT_EQ(F::interpolate(to_nchw(img), o).size(2), 11);
  cv::Mat cvr;
  cv::resize(img, cvr, cv::Size(), 1.7, 1.7, cv::INTER_LINEAR);
  EXPECT_EQ(cvr.rows, 12);
  Sample s;
  s.image = img;
  s.original_width = 9;
  s.original_height = 7;
  Rng rng(0, 0, 0);
  ResizeOptions ro;
  ro.scale = 1.7;
  Resize(ro).apply(s, rng, {});
  EXPECT_EQ(s.image.rows, 11);
  EXPECT_EQ(s.image.cols, 15);
  // Coordinates scale by n_out / n_in (interpolate(size=) semantics).
  EXPECT_NEAR(s.to_original(0, 0), 9.0 / 15.0, 1e-12);
  EXPECT_NEAR(s.to_original(1, 1), 7.0 / 11.0, 1e-12);
}

TEST(Resize, LetterboxCentresAndMapsBack) {
  Sample s;
  s.image = cv::Mat(100, 200, CV_8UC3, cv::Scalar::all(255));
  s.original_width = 200;
  s.original_height = 100;
  s.objects.push_back(cvtk::data::Object{cvtk::data::Box{0, 0, 200, 100}});
  Rng rng(0, 0, 0);
  ResizeOptions ro;
  ro.letterbox = true;
  ro.pad = 0;
  Resize(ro).apply(s, rng, Context{64, 64});
  ASSERT_EQ(s.image.size(), cv::Size(64, 64));
  EXPECT_EQ(s.objects[0].box, (cvtk::data::Box{0, 16, 64, 48}));
  EXPECT_EQ(s.image.at<cv::Vec3b>(5, 30), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(s.image.at<cv::Vec3b>(30, 30), cv::Vec3b(255, 255, 255));
  const cvtk::data::Box back = to_original(s, s.objects[0].box);
  EXPECT_NEAR(back.x2, 200, 1e-9);
  EXPECT_NEAR(back.y2, 100, 1e-9);
}

}  // namespace
