// The device-generic (ATen-only) PSRoIAlign and NMS family against the CPU kernels, run on CPU by calling
// the generic versions directly; and the trainer's --device check.
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "detection/nms.h"
#include "detection/nms_generic.h"
#include "detection/ps_roi_align.h"
#include "detection/ps_roi_align_generic.h"
#include "detection/train_device.h"

using namespace cvtk::detection;

namespace {

// max |a - b| over max(1, max |b|): absolute for values of order 1, relative for larger ones.
double relative_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  EXPECT_EQ(a.scalar_type(), b.scalar_type());
  if (a.numel() == 0) return 0;
  const auto x = a.to(torch::kDouble), y = b.to(torch::kDouble);
  return (x - y).abs().max().item<double>() / std::max(1.0, y.abs().max().item<double>());
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// RoIs over an img_h x img_w image: inside, partly and wholly outside, large and tiny (20 %), and by hand an
// empty one, an inverted one, and ones wholly beyond each side.
torch::Tensor test_rois(int64_t n, int64_t images, double img_h, double img_w, torch::Generator& gen) {
  auto u = [&](int64_t k) { return torch::rand({k}, gen, torch::kFloat); };
  const auto b = torch::randint(0, images, {n}, gen, torch::kFloat);
  const auto x1 = u(n) * img_w * 1.8 - 0.5 * img_w, y1 = u(n) * img_h * 1.8 - 0.5 * img_h;
  const auto tiny = u(n) < 0.2;
  const auto w = torch::where(tiny, u(n) * 2 + 0.01, u(n) * img_w * 0.9 + 0.5);
  const auto h = torch::where(tiny, u(n) * 2 + 0.01, u(n) * img_h * 0.9 + 0.5);
  const float W = float(img_w), H = float(img_h), last = float(images - 1);
  const auto by_hand = torch::tensor({{0.f, 4.f, 4.f, 4.f, 4.f},
                                      {last, 6.f, 5.f, 3.f, 2.f},
                                      {0.f, -3 * W, 0.f, -2 * W, H},
                                      {last, 0.f, 2 * H, W, 3 * H},
                                      {0.f, 1.5f * W, -H, 2 * W, 2 * H},
                                      {last, -W, -H, 2 * W, 2 * H}});
  return torch::cat({torch::stack({b, x1, y1, x1 + w, y1 + h}, 1), by_hand});
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// PSRoIAlign: generic == CPU kernel, forward and backward, for every option combination.

using GenericParam = std::tuple<PsReduce, double /*offset*/, double /*min_roi_size*/, int /*sampling_ratio*/>;

class PsRoiAlignGeneric : public ::testing::TestWithParam<GenericParam> {};

TEST_P(PsRoiAlignGeneric, EqualsCpuKernel) {
  const auto [reduce, offset, min_size, sampling_ratio] = GetParam();
  auto gen = at::detail::createCPUGenerator(17);
  // (p, alpha, images, H, W, spatial_scale): odd map sizes, a 1 x 1 map, several images per batch.
  for (const auto& [p, alpha, images, H, W, scale] : std::vector<std::tuple<int, int, int, int, int, double>>{
           {7, 2, 3, 13, 11, 0.5}, {3, 3, 2, 9, 10, 0.25}, {2, 1, 2, 1, 1, 1.0}, {5, 1, 1, 7, 3, 1.0 / 16}}) {
    PsRoiAlignOptions o;
    o.pooled_size = p, o.output_channels = alpha, o.spatial_scale = scale;
    o.reduce = reduce, o.offset = offset, o.min_roi_size = min_size, o.sampling_ratio = sampling_ratio;
    const auto rois = test_rois(30, images, H / scale, W / scale, gen);
    const auto features = torch::randn({images, alpha * p * p, H, W}, gen, torch::kDouble);
    const auto upstream = torch::randn({rois.size(0), alpha, p, p}, gen, torch::kDouble);
    for (const auto dtype : {torch::kDouble, torch::kFloat}) {
      SCOPED_TRACE("p " + std::to_string(p) + " H " + std::to_string(H) + " W " + std::to_string(W) + " " +
                   std::string(c10::toString(dtype)));
      const double tolerance = dtype == torch::kDouble ? 1e-12 : 1e-5;
      const auto x = features.to(dtype).requires_grad_(true);
      const auto r = rois.to(dtype);
      const auto cpu = ps_roi_align(x, r, o);
      const auto generic = ps_roi_align_generic(x, r, o);
      // Same coordinates, weights and operation order: the max is bit for bit the kernel's.
      if (reduce == PsReduce::max) {
        EXPECT_TRUE(torch::equal(generic, cpu)) << relative_diff(generic, cpu);
      } else {
        EXPECT_LT(relative_diff(generic, cpu), tolerance);
      }
      const auto g = upstream.to(dtype);
      const auto grad_cpu = torch::autograd::grad({cpu}, {x}, {g})[0];
      const auto grad_generic = torch::autograd::grad({generic}, {x}, {g})[0];
      EXPECT_GT(grad_cpu.abs().sum().item<double>(), 0);
      EXPECT_LT(relative_diff(grad_generic, grad_cpu), tolerance);
      // rois given as float32 to float64 features are converted, as by the kernel.
      if (dtype == torch::kDouble) {
        EXPECT_TRUE(torch::equal(ps_roi_align_generic(x, rois, o), generic));
      }
    }
  }
}

std::string generic_param_name(const ::testing::TestParamInfo<GenericParam>& info) {
  const auto [reduce, offset, min_size, sr] = info.param;
  return std::string(reduce == PsReduce::max ? "max" : "mean") + (offset == 0 ? "_off0" : "_off05") +
         (min_size == 0 ? "_min0" : "_min01") +
         (sr > 0 ? "_sr" + std::to_string(sr) : "_adaptive" + std::to_string(-sr));
}

INSTANTIATE_TEST_SUITE_P(AllOptions, PsRoiAlignGeneric,
                         ::testing::Combine(::testing::Values(PsReduce::max, PsReduce::mean),
                                            ::testing::Values(0.0, 0.5), ::testing::Values(0.0, 0.1),
                                            ::testing::Values(2, 0, -1)),
                         generic_param_name);

TEST(PsRoiAlignGeneric, MaxTiesGoToTheFirstSampleInRowMajorOrder) {
  // One 1 x 1 bin, RoI [0, 2] x [0, 2] on a 3 x 3 map, 2 x 2 samples at (0.5, 0.5), (0.5, 1.5),
  // (1.5, 0.5), (1.5, 1.5): k = 0, 1, 2, 3. Each sample spreads 1/4 to its four neighbours.
  PsRoiAlignOptions o;
  o.pooled_size = 1, o.output_channels = 1, o.spatial_scale = 1.0, o.min_roi_size = 0;
  const auto rois = torch::tensor({{0.0, 0.0, 0.0, 2.0, 2.0}}, torch::kDouble);
  auto expected_grad = [](int y0, int x0) {
    auto g = torch::zeros({1, 1, 3, 3}, torch::kDouble);
    g.index_put_({0, 0, torch::indexing::Slice(y0, y0 + 2), torch::indexing::Slice(x0, x0 + 2)}, 0.25);
    return g;
  };
  // A constant map: all four samples tie, k = 0 wins. A map equal to its column: k = 1 and 3 tie, k = 1 wins.
  // A map equal to minus its row: k = 0 and 1 tie, k = 0 wins.
  const auto column = torch::arange(3, torch::kDouble).view({1, 1, 1, 3}).expand({1, 1, 3, 3});
  const auto row = torch::arange(3, torch::kDouble).view({1, 1, 3, 1}).expand({1, 1, 3, 3});
  for (const auto& [map, y0, x0] : std::vector<std::tuple<torch::Tensor, int, int>>{
           {torch::full({1, 1, 3, 3}, 2.0, torch::kDouble), 0, 0}, {column, 0, 1}, {-row, 0, 0}}) {
    for (const bool generic : {false, true}) {
      SCOPED_TRACE(std::string(generic ? "generic" : "cpu") + " expected corner " + std::to_string(y0) + "," +
                   std::to_string(x0));
      const auto x = map.contiguous().requires_grad_(true);
      const auto out = generic ? ps_roi_align_generic(x, rois, o) : ps_roi_align(x, rois, o);
      const auto grad = torch::autograd::grad({out.sum()}, {x})[0];
      EXPECT_TRUE(torch::equal(grad, expected_grad(y0, x0))) << grad;
    }
  }
  // Samples that read nothing (-inf everywhere) output 0 and pass no gradient, as the kernel does.
  const auto minus_inf = torch::full({1, 1, 3, 3}, -std::numeric_limits<double>::infinity(), torch::kDouble);
  for (const bool generic : {false, true}) {
    const auto x = minus_inf.clone().requires_grad_(true);
    const auto out = generic ? ps_roi_align_generic(x, rois, o) : ps_roi_align(x, rois, o);
    EXPECT_EQ(out.item<double>(), 0.0);
    EXPECT_EQ(torch::autograd::grad({out.sum()}, {x})[0].abs().sum().item<double>(), 0.0);
  }
}

TEST(PsRoiAlignGeneric, EmptyInputsAndBatchIndexCheck) {
  const PsRoiAlignOptions o;
  const auto features = torch::randn({2, 245, 5, 5}, torch::requires_grad());
  const auto out = ps_roi_align_generic(features, torch::zeros({0, 5}), o);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 5, 7, 7}));
  out.sum().backward();
  EXPECT_EQ(features.grad().abs().sum().item<float>(), 0.f);
  EXPECT_EQ(ps_roi_align_generic(torch::randn({1, 245, 0, 4}), torch::ones({3, 5}), o).abs().sum().item<float>(), 0);
  // The same message as the kernel's.
  const auto bad = torch::tensor({{0.f, 0.f, 0.f, 8.f, 8.f}, {2.f, 0.f, 0.f, 8.f, 8.f}});
  std::string cpu_message, generic_message;
  try {
    ps_roi_align(features, bad, o);
  } catch (const c10::Error& e) {
    cpu_message = e.what_without_backtrace();
  }
  try {
    ps_roi_align_generic(features, bad, o);
  } catch (const c10::Error& e) {
    generic_message = e.what_without_backtrace();
  }
  EXPECT_NE(cpu_message.find("roi 1 has batch index 2, outside [0, 2)"), std::string::npos) << cpu_message;
  EXPECT_EQ(generic_message, cpu_message);
}

TEST(PsRoiAlignGeneric, ThunderNetSizesAndChannelsLast) {
  // The official rules at ThunderNet's sizes, on a pixel-major map (the generic version reads a copy).
  auto gen = at::detail::createCPUGenerator(23);
  const PsRoiAlignOptions o;
  const auto features = torch::randn({2, 245, 20, 20}, gen).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto rois = test_rois(100, 2, 320, 320, gen);
  EXPECT_TRUE(torch::equal(ps_roi_align_generic(features, rois, o), ps_roi_align(features, rois, o)));
}

// ---------------------------------------------------------------------------------------------------
// NMS family: generic == CPU kernel.

namespace {

// Boxes with many near-duplicates (jittered copies of a few seeds, some exact copies, some empty) and
// scores on a coarse grid, so exact score ties are common.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> duplicate_heavy_boxes(int64_t n, torch::Generator& gen) {
  const int64_t seeds = std::max<int64_t>(1, n / 8);
  const auto xy = torch::rand({seeds, 2}, gen) * 200;
  const auto wh = torch::rand({seeds, 2}, gen) * 60 + 2;
  const auto seed_boxes = torch::cat({xy, xy + wh}, 1);
  const auto pick = torch::randint(0, seeds, {n}, gen, torch::kLong);
  const auto jitter = torch::randn({n, 4}, gen) * 3 * (torch::rand({n, 1}, gen) > 0.25);  // a quarter exact copies
  auto boxes = seed_boxes.index_select(0, pick) + jitter;
  const auto empty = torch::rand({n}, gen) < 0.03;
  boxes.select(1, 2).copy_(torch::where(empty, boxes.select(1, 0), boxes.select(1, 2)));
  const auto scores = torch::randint(0, 12, {n}, gen, torch::kFloat) / 12;
  const auto labels = torch::randint(0, 3, {n}, gen, torch::kLong);
  return {boxes, scores, labels};
}

}  // namespace

TEST(NmsGeneric, EqualsCpuKernel) {
  auto gen = at::detail::createCPUGenerator(29);
  for (const int64_t n : {0, 1, 2, 40, 400}) {
    const auto [boxes, scores, labels] = duplicate_heavy_boxes(n, gen);
    for (const auto dtype : {torch::kFloat, torch::kDouble}) {
      const auto b = boxes.to(dtype), s = scores.to(dtype);
      for (const double t : {0.0, 0.3, 0.5, 0.7, 1.0}) {
        SCOPED_TRACE("n " + std::to_string(n) + " threshold " + std::to_string(t) + " " +
                     std::string(c10::toString(dtype)));
        for (const int64_t m : {-1, 0, 1, 7, 50})
          EXPECT_EQ(to_vector(nms_generic(b, s, t, m)), to_vector(nms(b, s, t, m))) << "max_keep " << m;
        EXPECT_EQ(to_vector(batched_nms_generic(b, s, labels, t)), to_vector(batched_nms(b, s, labels, t)));
        EXPECT_EQ(to_vector(batched_nms_generic(b, s, labels.to(torch::kInt), t)),
                  to_vector(batched_nms(b, s, labels, t)));
      }
    }
  }
  // The output is int64 on the input's device, empty or not.
  EXPECT_EQ(nms_generic(torch::zeros({0, 4}), torch::zeros({0}), 0.5).scalar_type(), torch::kLong);
  EXPECT_EQ(batched_nms_generic(torch::zeros({0, 4}), torch::zeros({0}), torch::zeros({0}, torch::kLong), 0.5).numel(),
            0);
}

TEST(NmsGeneric, HandCaseWithTies) {
  // As Nms.HandCaseWithTies: boxes 0 and 1 (IoU 0.5) tie on score, the lower index wins.
  const auto boxes = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 10.f, 5.f}, {20.f, 20.f, 30.f, 30.f}});
  const auto scores = torch::tensor({0.5f, 0.5f, 0.9f});
  EXPECT_EQ(to_vector(nms_generic(boxes, scores, 0.4)), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(to_vector(nms_generic(boxes, scores, 0.5)), (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(to_vector(batched_nms_generic(boxes, scores, torch::tensor({0, 1, 0}), 0.4)),
            (std::vector<int64_t>{2, 0, 1}));
}

TEST(SoftNmsGeneric, EqualsCpuKernel) {
  auto gen = at::detail::createCPUGenerator(31);
  for (const int64_t n : {0, 1, 30, 200}) {
    const auto [boxes, scores, labels] = duplicate_heavy_boxes(n, gen);
    for (const auto dtype : {torch::kFloat, torch::kDouble})
      for (const auto method : {SoftNmsMethod::linear, SoftNmsMethod::gaussian})
        for (const double t : {0.3, 0.5})
          for (const double min_score : {1e-3, 0.2}) {
            SCOPED_TRACE("n " + std::to_string(n) + " threshold " + std::to_string(t) + " min_score " +
                         std::to_string(min_score) + (method == SoftNmsMethod::linear ? " linear " : " gaussian ") +
                         std::string(c10::toString(dtype)));
            // Two empty boxes have IoU NaN, which gaussian decay turns into NaN scores (outside the contract).
            const auto usable = method == SoftNmsMethod::linear
                                    ? torch::arange(n)
                                    : torch::nonzero((boxes.select(1, 2) > boxes.select(1, 0)) &
                                                     (boxes.select(1, 3) > boxes.select(1, 1)))
                                          .view(-1);
            const auto b = boxes.index_select(0, usable).to(dtype), s = scores.index_select(0, usable).to(dtype);
            const auto l = labels.index_select(0, usable);
            // Linear decays are the kernel's operations exactly; gaussian ones go through exp, whose last
            // bit may differ between ATen's vectorised exp and std::exp.
            const double tolerance = method == SoftNmsMethod::linear ? 0 : dtype == torch::kFloat ? 1e-6 : 1e-14;
            const auto cpu = soft_nms(b, s, t, 0.5, min_score, method);
            const auto generic = soft_nms_generic(b, s, t, 0.5, min_score, method);
            EXPECT_EQ(to_vector(generic.keep), to_vector(cpu.keep));
            EXPECT_LE(relative_diff(generic.scores, cpu.scores), tolerance);
            const auto batched_cpu = batched_soft_nms(b, s, l, t, 0.5, min_score, method);
            const auto batched = batched_soft_nms_generic(b, s, l, t, 0.5, min_score, method);
            EXPECT_EQ(to_vector(batched.keep), to_vector(batched_cpu.keep));
            EXPECT_LE(relative_diff(batched.scores, batched_cpu.scores), tolerance);
          }
  }
}

// ---------------------------------------------------------------------------------------------------
// The trainer's --device value.

namespace {
std::string device_error(const std::string& value) {
  try {
    parse_train_device(value);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(TrainDevice, NamesTheFlagAndTheReason) {
  EXPECT_EQ(parse_train_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_EQ(device_error("tpu"), "--device tpu: not a device; use cpu, or cuda / cuda:N where LibTorch has CUDA");
  EXPECT_EQ(device_error("cuda:x").rfind("--device cuda:x: not a device", 0), 0u) << device_error("cuda:x");
  EXPECT_EQ(device_error("meta").rfind("--device meta: meta tensors hold no data", 0), 0u) << device_error("meta");
  if (c10::impl::hasDeviceGuardImpl(torch::kCUDA)) GTEST_SKIP() << "this LibTorch has CUDA";
  EXPECT_EQ(device_error("cuda"), "--device cuda: this LibTorch was built without CUDA; use --device cpu");
  EXPECT_EQ(device_error("cuda:1"), "--device cuda:1: this LibTorch was built without CUDA; use --device cpu");
}
