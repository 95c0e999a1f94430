// Detection ops against slow scalar references written here, numerical gradients, hand-computed cases,
// and torchvision.ops (ps_roi_align forward and backward, nms, batched_nms) through fixtures made at test
// time by python/detection_fixtures.py.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "detection/nms.h"
#include "detection/ps_roi_align.h"
#include "tests/vision/torchvision_fixture.h"

using namespace cvtk::detection;

namespace cvtk::detection {
void PrintTo(PsReduce r, std::ostream* os) { *os << (r == PsReduce::max ? "max" : "mean"); }
}  // namespace cvtk::detection

namespace {

// ---------------------------------------------------------------------------------------------------
// Scalar references.

double sample_plane(const torch::TensorAccessor<double, 2>& plane, int64_t H, int64_t W, double y, double x) {
  if (y < -1 || y > H || x < -1 || x > W) return 0;
  y = std::clamp(y, 0.0, double(H - 1));
  x = std::clamp(x, 0.0, double(W - 1));
  const int64_t y0 = int64_t(std::floor(y)), x0 = int64_t(std::floor(x));
  const int64_t y1 = std::min(y0 + 1, H - 1), x1 = std::min(x0 + 1, W - 1);
  const double ly = y - y0, lx = x - x0;
  return (1 - ly) * (1 - lx) * plane[y0][x0] + (1 - ly) * lx * plane[y0][x1] + ly * (1 - lx) * plane[y1][x0] +
         ly * lx * plane[y1][x1];
}

torch::Tensor reference_ps_roi_align(const torch::Tensor& features, const torch::Tensor& rois_in,
                                     const PsRoiAlignOptions& o) {
  const auto f = features.to(torch::kDouble).contiguous();
  const auto rois = rois_in.to(torch::kDouble).contiguous();
  const auto fa = f.accessor<double, 4>();
  const auto ra = rois.accessor<double, 2>();
  const int64_t R = rois.size(0), H = f.size(2), W = f.size(3);
  const int p = o.pooled_size;
  auto out = torch::zeros({R, o.output_channels, p, p}, torch::kDouble);
  auto oa = out.accessor<double, 4>();
  for (int64_t r = 0; r < R; ++r) {
    const int64_t b = int64_t(ra[r][0]);
    const double x1 = ra[r][1] * o.spatial_scale - o.offset, y1 = ra[r][2] * o.spatial_scale - o.offset;
    const double w = std::max(ra[r][3] * o.spatial_scale - o.offset - x1, o.min_roi_size);
    const double h = std::max(ra[r][4] * o.spatial_scale - o.offset - y1, o.min_roi_size);
    const int gh = o.sampling_ratio > 0 ? o.sampling_ratio : std::max(1, int(std::ceil(h / p)));
    const int gw = o.sampling_ratio > 0 ? o.sampling_ratio : std::max(1, int(std::ceil(w / p)));
    for (int c = 0; c < o.output_channels; ++c)
      for (int i = 0; i < p; ++i)
        for (int j = 0; j < p; ++j) {
          const auto plane = fa[b][(c * p + i) * p + j];
          std::vector<double> v;
          for (int iy = 0; iy < gh; ++iy)
            for (int ix = 0; ix < gw; ++ix)
              v.push_back(
                  sample_plane(plane, H, W, y1 + h / p * (i + (iy + 0.5) / gh), x1 + w / p * (j + (ix + 0.5) / gw)));
          oa[r][c][i][j] = o.reduce == PsReduce::max ? *std::max_element(v.begin(), v.end())
                                                     : std::accumulate(v.begin(), v.end(), 0.0) / v.size();
        }
  }
  return out;
}

double reference_iou(const float* a, const float* b) {
  const double w = std::max(0.0, double(std::min(a[2], b[2])) - std::max(a[0], b[0]));
  const double h = std::max(0.0, double(std::min(a[3], b[3])) - std::max(a[1], b[1]));
  const double inter = w * h;
  return inter /
         ((double(a[2]) - a[0]) * (double(a[3]) - a[1]) + (double(b[2]) - b[0]) * (double(b[3]) - b[1]) - inter);
}

// Plain O(N^2) greedy NMS; boxes of different labels never compared when labels are given.
std::vector<int64_t> reference_nms(const torch::Tensor& boxes, const torch::Tensor& scores, double threshold,
                                   const torch::Tensor& labels = {}) {
  const int64_t n = boxes.size(0);
  const auto b = boxes.contiguous();
  const float* bp = b.data_ptr<float>();
  const auto s = scores.accessor<float, 1>();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
  const auto l = labels.defined() ? labels.to(torch::kLong).contiguous() : torch::zeros({n}, torch::kLong);
  const int64_t* lp = l.data_ptr<int64_t>();
  std::vector<bool> dead(n, false);
  std::vector<int64_t> keep;
  for (int64_t a = 0; a < n; ++a) {
    if (dead[order[a]]) continue;
    keep.push_back(order[a]);
    for (int64_t c = a + 1; c < n; ++c) {
      if (lp[order[a]] != lp[order[c]]) continue;
      if (reference_iou(bp + 4 * order[a], bp + 4 * order[c]) > threshold) dead[order[c]] = true;
    }
  }
  return keep;
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.numel() == 0) return 0;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// RoIs inside, partly outside and outside a img_h x img_w image, some large, some tiny.
torch::Tensor random_rois(int64_t n, int64_t images, double img_h, double img_w, torch::Generator& gen) {
  auto u = [&](int64_t k) { return torch::rand({k}, gen, torch::kFloat); };
  const auto b = torch::randint(0, images, {n}, gen, torch::kFloat);
  const auto x1 = u(n) * img_w * 1.4 - 0.3 * img_w, y1 = u(n) * img_h * 1.4 - 0.3 * img_h;
  const auto tiny = u(n) < 0.2;
  const auto w = torch::where(tiny, u(n) * 2 + 0.01, u(n) * img_w * 0.9 + 0.5);
  const auto h = torch::where(tiny, u(n) * 2 + 0.01, u(n) * img_h * 0.9 + 0.5);
  return torch::stack({b, x1, y1, x1 + w, y1 + h}, 1);
}

// ---------------------------------------------------------------------------------------------------
// torchvision fixtures, made once per build tree (atomically, so parallel test processes can share it).

std::filesystem::path fixture_script() { return cvtk::testing::source_dir() / "python" / "detection_fixtures.py"; }

const std::map<std::string, torch::Tensor>& torchvision_fixtures() {
  static const std::map<std::string, torch::Tensor> fixtures = [] {
    const auto dir = cvtk::testing::binary_dir() / "test_fixtures";
    std::filesystem::create_directories(dir);
    const auto file = dir / "detection_ops_seed0.pt";
    if (!std::filesystem::exists(file) ||
        std::filesystem::last_write_time(file) < std::filesystem::last_write_time(fixture_script())) {
      const auto tmp = dir / ("detection_ops_seed0.pt." + std::to_string(::getpid()));
      const std::string cmd = "/usr/bin/python3 " + fixture_script().string() + " " + tmp.string() + " > /dev/null";
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("fixture generation failed: " + cmd);
      std::filesystem::rename(tmp, file);
    }
    std::map<std::string, torch::Tensor> out;
    for (auto& [k, v] : cvtk::vision::read_weights(file)) out[k] = v;
    return out;
  }();
  return fixtures;
}

#define REQUIRE_TORCHVISION()             \
  if (!cvtk::testing::have_torchvision()) \
  GTEST_SKIP() << "/usr/bin/python3 with torchvision (python3-torchvision) not found: skipping torchvision parity"

}  // namespace

// ---------------------------------------------------------------------------------------------------
// PSRoIAlign: every option combination against the scalar reference.

using PsParam = std::tuple<PsReduce, double /*offset*/, int /*sampling_ratio*/, double /*min_roi_size*/>;

std::string ps_param_name(const ::testing::TestParamInfo<PsParam>& info) {
  const auto [reduce, offset, sr, min_size] = info.param;
  std::string s = reduce == PsReduce::max ? "max" : "mean";
  s += offset == 0 ? "_off0" : "_off05";
  s += sr > 0 ? "_sr" + std::to_string(sr) : "_adaptive" + std::to_string(-sr);
  s += min_size == 0 ? "_min0" : min_size < 1 ? "_min01" : "_min15";
  return s;
}

// Parameterised by reduction and offset; each test sweeps sampling ratios (fixed 2 and 1, adaptive 0 and
// -1), minimum sizes (0, 0.1, 1.5) and three map / bin shapes.
class PsRoiAlignOptionsTest : public ::testing::TestWithParam<std::tuple<PsReduce, double>> {};

TEST_P(PsRoiAlignOptionsTest, MatchesScalarReference) {
  const auto [reduce, offset] = GetParam();
  auto gen = at::detail::createCPUGenerator(7);
  for (const int sampling_ratio : {2, 1, 0, -1})
    for (const double min_size : {0.0, 0.1, 1.5})
      for (const auto& [p, alpha, H, W, scale] : std::vector<std::tuple<int, int, int, int, double>>{
               {7, 2, 13, 11, 0.5}, {3, 3, 9, 10, 0.25}, {2, 1, 1, 1, 1.0}}) {
        SCOPED_TRACE("sampling_ratio " + std::to_string(sampling_ratio) + " min_roi_size " + std::to_string(min_size) +
                     " p " + std::to_string(p) + " alpha " + std::to_string(alpha));
        PsRoiAlignOptions o;
        o.pooled_size = p, o.output_channels = alpha, o.spatial_scale = scale;
        o.reduce = reduce, o.offset = offset, o.sampling_ratio = sampling_ratio, o.min_roi_size = min_size;
        const auto features = torch::randn({3, alpha * p * p, H, W}, gen);
        auto rois = random_rois(40, 3, H / scale, W / scale, gen);
        // An empty and an inverted RoI: floored at min_roi_size.
        rois = torch::cat({rois, torch::tensor({{1.f, 4.f, 4.f, 4.f, 4.f}, {2.f, 6.f, 5.f, 3.f, 2.f}})});
        const auto got = ps_roi_align(features, rois, o);
        ASSERT_EQ(got.sizes(), (std::vector<int64_t>{rois.size(0), alpha, p, p}));
        EXPECT_EQ(got.scalar_type(), torch::kFloat);
        const auto expected = reference_ps_roi_align(features, rois, o);
        EXPECT_LT(max_abs_diff(got, expected), 1e-5);
        // Double precision gives the same numbers.
        EXPECT_LT(max_abs_diff(ps_roi_align(features.to(torch::kDouble), rois.to(torch::kDouble), o), expected), 1e-12);
        // A pixel-major (ChannelsLast) map, read in place, gives exactly the same output.
        EXPECT_TRUE(torch::equal(ps_roi_align(features.contiguous(torch::MemoryFormat::ChannelsLast), rois, o), got));
      }
}

INSTANTIATE_TEST_SUITE_P(AllOptions, PsRoiAlignOptionsTest,
                         ::testing::Combine(::testing::Values(PsReduce::max, PsReduce::mean),
                                            ::testing::Values(0.0, 0.5)),
                         [](const ::testing::TestParamInfo<std::tuple<PsReduce, double>>& info) {
                           return std::string(std::get<0>(info.param) == PsReduce::max ? "max" : "mean") +
                                  (std::get<1>(info.param) == 0 ? "_off0" : "_off05");
                         });

TEST(PsRoiAlign, DefaultsAreOfficialThunderNet) {
  const PsRoiAlignOptions o;
  EXPECT_EQ(o.pooled_size, 7);
  EXPECT_EQ(o.output_channels, 5);
  EXPECT_DOUBLE_EQ(o.spatial_scale, 1.0 / 16);
  EXPECT_EQ(o.sampling_ratio, 2);
  EXPECT_EQ(o.offset, 0.0);
  EXPECT_DOUBLE_EQ(o.min_roi_size, 0.1);
  EXPECT_EQ(o.reduce, PsReduce::max);
  const auto tv = PsRoiAlignOptions::torchvision(3, 4, 0.25, -1);
  EXPECT_EQ(tv.reduce, PsReduce::mean);
  EXPECT_EQ(tv.offset, 0.5);
  EXPECT_EQ(tv.min_roi_size, 0.0);
  EXPECT_EQ(tv.pooled_size, 3);
  EXPECT_EQ(tv.output_channels, 4);
  EXPECT_EQ(tv.sampling_ratio, -1);
}

TEST(PsRoiAlign, ChannelMappingByHand) {
  // Channel k is filled with the value k: bin (i, j) of output channel c must read (c * p + i) * p + j.
  const int p = 3, alpha = 2;
  const auto features =
      torch::arange(alpha * p * p, torch::kFloat).view({1, alpha * p * p, 1, 1}).expand({1, -1, 4, 4});
  PsRoiAlignOptions o;
  o.pooled_size = p, o.output_channels = alpha, o.spatial_scale = 1.0;
  const auto out = ps_roi_align(features.contiguous(), torch::tensor({{0.f, 0.f, 0.f, 3.f, 3.f}}), o);
  EXPECT_TRUE(torch::equal(out[0], torch::arange(alpha * p * p, torch::kFloat).view({alpha, p, p})));
}

TEST(PsRoiAlign, EmptyRoisAndBadInputs) {
  const PsRoiAlignOptions o;
  const auto features = torch::randn({2, 245, 5, 5}, torch::requires_grad());
  const auto out = ps_roi_align(features, torch::zeros({0, 5}), o);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 5, 7, 7}));
  out.sum().backward();
  EXPECT_EQ(features.grad().abs().sum().item<float>(), 0.f);
  EXPECT_THROW(ps_roi_align(torch::randn({2, 244, 5, 5}), torch::zeros({1, 5}), o), c10::Error);
  EXPECT_THROW(ps_roi_align(torch::randn({245, 5, 5}), torch::zeros({1, 5}), o), c10::Error);
  EXPECT_THROW(ps_roi_align(features, torch::zeros({1, 4}), o), c10::Error);
  EXPECT_THROW(ps_roi_align(features, torch::tensor({{2.f, 0.f, 0.f, 8.f, 8.f}}), o), c10::Error);  // batch 2 of 2
}

// ---------------------------------------------------------------------------------------------------
// Gradients: finite differences in double precision (all reductions), and torchvision's backward.

class PsRoiAlignGradient : public ::testing::TestWithParam<PsParam> {};

TEST_P(PsRoiAlignGradient, MatchesFiniteDifferences) {
  const auto [reduce, offset, sampling_ratio, min_size] = GetParam();
  PsRoiAlignOptions o;
  o.pooled_size = 2, o.output_channels = 2, o.spatial_scale = 0.5;
  o.reduce = reduce, o.offset = offset, o.sampling_ratio = sampling_ratio, o.min_roi_size = min_size;
  auto gen = at::detail::createCPUGenerator(11);
  // Distinct values everywhere (a random permutation, scaled) so the max has no ties.
  const auto features = ((torch::randperm(2 * 8 * 6 * 5, gen, torch::kLong).to(torch::kDouble) + 1) / 37.0)
                            .view({2, 8, 6, 5})
                            .requires_grad_(true);
  const auto rois = random_rois(12, 2, 12, 10, gen).to(torch::kDouble);
  const auto weights = torch::randn({12, 2, 2, 2}, gen, torch::kDouble);
  const auto loss = (ps_roi_align(features, rois, o) * weights).sum();
  const auto grad = torch::autograd::grad({loss}, {features})[0];

  torch::NoGradGuard no_grad;
  auto x = features.detach().clone();
  auto numeric = torch::zeros_like(x);
  auto xf = x.view(-1);
  auto nf = numeric.view(-1);
  const double eps = 1e-6;
  for (int64_t k = 0; k < xf.numel(); ++k) {
    const double v = xf[k].item<double>();
    xf[k] = v + eps;
    const double up = (ps_roi_align(x, rois, o) * weights).sum().item<double>();
    xf[k] = v - eps;
    const double down = (ps_roi_align(x, rois, o) * weights).sum().item<double>();
    xf[k] = v;
    nf[k] = (up - down) / (2 * eps);
  }
  EXPECT_GT(grad.abs().sum().item<double>(), 0);
  EXPECT_LT(max_abs_diff(grad, numeric), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Options, PsRoiAlignGradient,
                         ::testing::Values(PsParam{PsReduce::max, 0.0, 2, 0.1}, PsParam{PsReduce::max, 0.5, -1, 0.0},
                                           PsParam{PsReduce::max, 0.0, 3, 1.5}, PsParam{PsReduce::mean, 0.5, 2, 0.0},
                                           PsParam{PsReduce::mean, 0.0, -1, 0.1}, PsParam{PsReduce::mean, 0.5, 1, 1.5}),
                         ps_param_name);

TEST(PsRoiAlign, MaxGradientGoesToTheArgmaxSample) {
  // One 1 x 1 bin over a 2 x 2 map with one sample at the centre of each quarter: 2 x 2 samples at
  // (0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75) of a RoI [0, 1] x [0, 1]; the largest is the one
  // nearest the largest corner.
  PsRoiAlignOptions o;
  o.pooled_size = 1, o.output_channels = 1, o.spatial_scale = 1.0;
  const auto features = torch::tensor({1.f, 2.f, 3.f, 10.f}).view({1, 1, 2, 2}).requires_grad_(true);
  const auto out = ps_roi_align(features, torch::tensor({{0.f, 0.f, 0.f, 1.f, 1.f}}), o);
  // Sample (0.75, 0.75): 1/16 * 1 + 3/16 * 2 + 3/16 * 3 + 9/16 * 10 = 106 / 16.
  EXPECT_FLOAT_EQ(out.item<float>(), 106.f / 16);
  out.sum().backward();
  EXPECT_TRUE(torch::allclose(features.grad().view(-1), torch::tensor({1.f, 3.f, 3.f, 9.f}) / 16));
}

// ---------------------------------------------------------------------------------------------------
// PSRoIAlign against torchvision.ops.ps_roi_align (mean, offset 0.5, no minimum size).

TEST(PsRoiAlignTorchvision, ForwardAndBackward) {
  REQUIRE_TORCHVISION();
  const auto& fx = torchvision_fixtures();
  for (const std::string c : {"a", "b"}) {
    const std::string key = "psroi." + c;
    const auto sizes = fx.at(key + ".pooled_size");
    const int p = int(sizes[0].item<int64_t>()), alpha = int(sizes[1].item<int64_t>());
    const double scale = fx.at(key + ".spatial_scale").item<double>();
    for (const int sr : {2, -1}) {
      SCOPED_TRACE(key + " sampling_ratio " + std::to_string(sr));
      const auto features = fx.at(key + ".features").clone().requires_grad_(true);
      const auto out =
          ps_roi_align(features, fx.at(key + ".rois"), PsRoiAlignOptions::torchvision(p, alpha, scale, sr));
      const std::string k = key + ".sr" + std::to_string(sr);
      EXPECT_LT(max_abs_diff(out, fx.at(k + ".out")), 1e-5);
      out.backward(fx.at(key + ".grad_out"));
      EXPECT_LT(max_abs_diff(features.grad(), fx.at(k + ".grad")), 1e-5);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// IoU and NMS.

TEST(BoxIou, HandCase) {
  const auto a = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {5.f, 5.f, 15.f, 15.f}});
  const auto b =
      torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 5.f, 5.f}, {20.f, 20.f, 30.f, 30.f}, {0.f, 5.f, 10.f, 10.f}});
  const auto expected = torch::tensor({{1.f, 0.25f, 0.f, 0.5f}, {25.f / 175, 0.f, 0.f, 25.f / 125}});
  EXPECT_TRUE(torch::allclose(box_iou(a, b), expected));
  EXPECT_EQ(box_iou(a, torch::zeros({0, 4})).sizes(), (std::vector<int64_t>{2, 0}));
}

TEST(Nms, EmptyAndChecks) {
  EXPECT_EQ(nms(torch::zeros({0, 4}), torch::zeros({0}), 0.5).numel(), 0);
  EXPECT_EQ(nms(torch::zeros({0, 4}), torch::zeros({0}), 0.5).scalar_type(), torch::kLong);
  EXPECT_EQ(batched_nms(torch::zeros({0, 4}), torch::zeros({0}), torch::zeros({0}, torch::kLong), 0.5).numel(), 0);
  EXPECT_EQ(soft_nms(torch::zeros({0, 4}), torch::zeros({0}), 0.5).keep.numel(), 0);
  EXPECT_THROW(nms(torch::zeros({3, 5}), torch::zeros({3}), 0.5), c10::Error);
  EXPECT_THROW(nms(torch::zeros({3, 4}), torch::zeros({2}), 0.5), c10::Error);
  EXPECT_THROW(batched_nms(torch::zeros({3, 4}), torch::zeros({3}), torch::zeros({3}), 0.5), c10::Error);
}

TEST(Nms, HandCaseWithTies) {
  // Boxes 0 and 1 have IoU 0.5 and equal scores: the lower index wins at threshold 0.4; at 0.5 (not > 0.5) both stay.
  const auto boxes = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 10.f, 5.f}, {20.f, 20.f, 30.f, 30.f}});
  const auto scores = torch::tensor({0.5f, 0.5f, 0.9f});
  EXPECT_EQ(to_vector(nms(boxes, scores, 0.4)), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(to_vector(nms(boxes, scores, 0.5)), (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(to_vector(batched_nms(boxes, scores, torch::tensor({0, 1, 0}), 0.4)), (std::vector<int64_t>{2, 0, 1}));
}

TEST(Nms, MatchesScalarReference) {
  auto gen = at::detail::createCPUGenerator(3);
  for (const int n : {1, 2, 50, 700}) {
    const auto xy = torch::rand({n, 2}, gen) * 100;
    const auto wh = torch::rand({n, 2}, gen) * 40 * (torch::rand({n, 1}, gen) > 0.05);  // some empty boxes
    const auto boxes = torch::cat({xy, xy + wh}, 1);
    const auto scores = torch::randint(0, 10, {n}, gen, torch::kFloat) / 10;
    const auto labels = torch::randint(0, 4, {n}, gen, torch::kLong);
    for (const double t : {0.0, 0.2, 0.5, 0.8, 1.0}) {
      SCOPED_TRACE("n " + std::to_string(n) + " threshold " + std::to_string(t));
      const auto full = reference_nms(boxes, scores, t);
      EXPECT_EQ(to_vector(nms(boxes, scores, t)), full);
      // Stopping early gives the first max_keep of the full result.
      for (const int64_t m : {0, 1, 7, 200}) {
        const std::vector<int64_t> prefix(full.begin(), full.begin() + std::min<int64_t>(m, int64_t(full.size())));
        EXPECT_EQ(to_vector(nms(boxes, scores, t, m)), prefix) << "max_keep " << m;
      }
      // batched_nms: the reference's per-label keep, then sorted by score, lower index first.
      auto expected = reference_nms(boxes, scores, t, labels);
      const auto s = scores.accessor<float, 1>();
      std::sort(expected.begin(), expected.end(),
                [&](int64_t a, int64_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
      EXPECT_EQ(to_vector(batched_nms(boxes, scores, labels, t)), expected);
      EXPECT_EQ(to_vector(nms(boxes.to(torch::kDouble), scores.to(torch::kDouble), t)),
                reference_nms(boxes, scores, t));
    }
  }
}

TEST(NmsTorchvision, NmsAndBatchedNms) {
  REQUIRE_TORCHVISION();
  const auto& fx = torchvision_fixtures();
  for (const std::string t : {"0.0", "0.3", "0.5", "0.7", "1.0"}) {
    SCOPED_TRACE("threshold " + t);
    EXPECT_EQ(to_vector(nms(fx.at("nms.boxes"), fx.at("nms.scores"), std::stod(t))), to_vector(fx.at("nms.keep." + t)));
  }
  EXPECT_EQ(to_vector(nms(fx.at("nms_large.boxes"), fx.at("nms_large.scores"), 0.5)),
            to_vector(fx.at("nms_large.keep")));
  for (const std::string n : {"800", "2000"}) {
    SCOPED_TRACE("batched " + n);
    const std::string k = "batched" + n;
    EXPECT_EQ(to_vector(batched_nms(fx.at(k + ".boxes"), fx.at(k + ".scores"), fx.at(k + ".labels"), 0.5)),
              to_vector(fx.at(k + ".keep")));
  }
}

// ---------------------------------------------------------------------------------------------------
// Soft-NMS by hand. A = [0,0,10,10] 0.9, B = [0,0,10,5] 0.8 (IoU(A,B) = 1/2), C = [20,20,30,30] 0.7 (apart),
// D = [1,0,11,10] 0.85 (IoU(A,D) = 90/110 = 9/11, IoU(B,D) = 45/105 = 3/7).

namespace {
const torch::Tensor& soft_boxes() {
  static const auto b =
      torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 10.f, 5.f}, {20.f, 20.f, 30.f, 30.f}, {1.f, 0.f, 11.f, 10.f}});
  return b;
}
const torch::Tensor& soft_scores() {
  static const auto s = torch::tensor({0.9f, 0.8f, 0.7f, 0.85f});
  return s;
}
}  // namespace

TEST(SoftNms, LinearByHand) {
  // A first: D decays to 0.85 (1 - 9/11), B to 0.8 * 1/2 = 0.4. Then C (0.7), then B, which decays D by (1 - 3/7).
  auto r = soft_nms(soft_boxes(), soft_scores(), 0.3);
  EXPECT_EQ(to_vector(r.keep), (std::vector<int64_t>{0, 2, 1, 3}));
  EXPECT_TRUE(torch::allclose(r.scores, torch::tensor({0.9f, 0.7f, 0.4f, 0.85f * (2.f / 11) * (4.f / 7)})));
  // Threshold 0.6: B is not decayed by A (1/2 < 0.6), D by B neither (3/7 < 0.6).
  r = soft_nms(soft_boxes(), soft_scores(), 0.6);
  EXPECT_EQ(to_vector(r.keep), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_TRUE(torch::allclose(r.scores, torch::tensor({0.9f, 0.8f, 0.7f, 0.85f * 2.f / 11})));
  // Threshold exactly 1/2 decays B (mmcv compares with >=).
  r = soft_nms(soft_boxes(), soft_scores(), 0.5);
  EXPECT_EQ(to_vector(r.keep), (std::vector<int64_t>{0, 2, 1, 3}));
  // min_score 0.1 drops D (0.0883).
  r = soft_nms(soft_boxes(), soft_scores(), 0.3, 0.5, 0.1);
  EXPECT_EQ(to_vector(r.keep), (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(r.scores.scalar_type(), torch::kFloat);
}

TEST(SoftNms, GaussianByHand) {
  const double sigma = 0.5;
  auto decay = [&](double iou) { return std::exp(-iou * iou / sigma); };
  const auto r = soft_nms(soft_boxes(), soft_scores(), 0.3, sigma, 1e-3, SoftNmsMethod::gaussian);
  // A; then C 0.7 > B 0.8 * decay(1/2) = 0.485 > D 0.85 * decay(9/11) = 0.223; B then decays D by decay(3/7).
  EXPECT_EQ(to_vector(r.keep), (std::vector<int64_t>{0, 2, 1, 3}));
  const auto expected =
      torch::tensor({0.9, 0.7, 0.8 * decay(0.5), 0.85 * decay(9.0 / 11) * decay(3.0 / 7)}, torch::kFloat);
  EXPECT_TRUE(torch::allclose(r.scores, expected)) << r.scores << expected;
}

TEST(SoftNms, BatchedKeepsLabelsApart) {
  // D has another label: nothing decays it.
  const auto r = batched_soft_nms(soft_boxes(), soft_scores(), torch::tensor({0, 0, 0, 1}), 0.3);
  EXPECT_EQ(to_vector(r.keep), (std::vector<int64_t>{0, 3, 2, 1}));
  EXPECT_TRUE(torch::allclose(r.scores, torch::tensor({0.9f, 0.85f, 0.7f, 0.4f})));
  // Gaussian soft-NMS with a huge threshold on one label equals plain sorting when nothing overlaps.
  const auto apart = torch::tensor({{0.f, 0.f, 1.f, 1.f}, {2.f, 2.f, 3.f, 3.f}, {4.f, 4.f, 5.f, 5.f}});
  const auto s = soft_nms(apart, torch::tensor({0.2f, 0.2f, 0.5f}), 0.3, 0.5, 1e-3, SoftNmsMethod::gaussian);
  EXPECT_EQ(to_vector(s.keep), (std::vector<int64_t>{2, 0, 1}));  // ties: lower index first
}

TEST(SoftNms, LinearWithHugeThresholdIsSortAndMinScoreFilter) {
  auto gen = at::detail::createCPUGenerator(5);
  const auto xy = torch::rand({200, 2}, gen) * 50;
  const auto boxes = torch::cat({xy, xy + 10}, 1);
  const auto scores = torch::rand({200}, gen);
  const auto r = soft_nms(boxes, scores, 1.01, 0.5, 0.3);
  const auto expected = torch::nonzero(scores >= 0.3).view(-1);
  const auto order = std::get<1>(scores.index_select(0, expected).sort(0, true));
  EXPECT_EQ(to_vector(r.keep), to_vector(expected.index_select(0, order)));
}
