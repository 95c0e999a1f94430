// The loader: deterministic batches whatever the thread count, bad images skipped and counted per
// policy, bounded prefetch, epochs restarted mid-way; and image decoding/drawing it relies on.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "augment/loader.h"
#include "tests/common.h"
#include "vision/data/errors.h"
#include "vision/image/decode.h"
#include "vision/image/draw.h"

namespace fs = std::filesystem;
using namespace cvtk::augment;
using cvtk::data::Box;
using cvtk::data::Dataset;
using cvtk::data::ImageRecord;
using cvtk::data::Object;

namespace {

cv::Mat noise_bgr(int h, int w, uint64_t seed) {
  cv::Mat m(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(m, m, cv::Size(5, 5), 2);
  return m;
}

void write_bytes(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// n good JPEG/PNG images of varied sizes with boxes; some without objects.
Dataset good_dataset(const fs::path& dir, int n) {
  Dataset ds;
  ds.classes = {"a", "b", "c"};
  ds.image_root = dir;
  for (int i = 0; i < n; ++i) {
    const int w = 80 + 8 * (i % 5), h = 60 + 4 * (i % 3);
    ImageRecord r;
    r.id = 100 + i;
    r.name = "img" + std::to_string(i);
    r.file = r.name + (i % 2 ? ".png" : ".jpg");
    r.width = w;
    r.height = h;
    cv::imwrite((dir / r.file).string(), noise_bgr(h, w, static_cast<uint64_t>(i)));
    for (int k = 0; k < (i % 4); ++k)
      r.objects.push_back(Object{Box{5.0 + 10 * k, 6.0 + 5 * k, 40.0 + 10 * k, 50.0}, k % 3});
    ds.images.push_back(r);
  }
  return ds;
}

void expect_same(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.batch_index, b.batch_index);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.image_ids, b.image_ids);
  ASSERT_TRUE(a.images.sizes() == b.images.sizes());
  EXPECT_TRUE(torch::equal(a.images, b.images));
  ASSERT_EQ(a.targets.size(), b.targets.size());
  for (size_t i = 0; i < a.targets.size(); ++i) {
    EXPECT_TRUE(torch::equal(a.targets[i].boxes, b.targets[i].boxes));
    EXPECT_TRUE(torch::equal(a.targets[i].labels, b.targets[i].labels));
    EXPECT_EQ(cv::norm(cv::Mat(a.to_original[i] - b.to_original[i])), 0.0);
  }
}

std::vector<Batch> run_epoch(Loader& loader, int epoch) {
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

const char* kTrainSpec =
    "photometric(p=0.5) expand(p=0.5,max_ratio=2) iou_crop() resize(mode=stretch) hflip(p=0.5) erase(p=0.5,mode=both)";

TEST(Loader, SameSeedSameBatchesForAnyThreadCount) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_det");
  const Dataset ds = good_dataset(dir, 21);
  LoaderOptions o;
  o.batch_size = 4;
  o.sizes = {48, 64, 80};
  o.seed = 11;
  std::vector<std::vector<Batch>> runs;
  for (int threads : {1, 2}) {
    o.threads = threads;
    o.prefetch_batches = threads == 1 ? 1 : 4;
    Loader loader(ds, parse_pipeline(kTrainSpec), o);
    EXPECT_EQ(loader.batches_per_epoch(), 6u);
    runs.push_back(run_epoch(loader, 3));
    const LoaderStats st = loader.stats();
    EXPECT_EQ(st.images, 21u);
    EXPECT_EQ(st.skipped, 0u);
    EXPECT_EQ(st.empty_images, 6u);  // i % 4 == 0 has no objects (0, 4, ..., 20); crops never empty an image
  }
  ASSERT_EQ(runs[0].size(), 6u);
  ASSERT_EQ(runs[1].size(), 6u);
  std::set<int64_t> sizes;
  for (size_t b = 0; b < 6; ++b) {
    expect_same(runs[0][b], runs[1][b]);
    EXPECT_EQ(runs[0][b].epoch, 3);
    sizes.insert(runs[0][b].images.size(2));
    EXPECT_EQ(runs[0][b].images.size(2), runs[0][b].images.size(3));
  }
  EXPECT_GT(sizes.size(), 1u);  // multi-scale: batches pick different sizes
  // Every record appears exactly once, shuffled.
  std::vector<size_t> seen;
  for (const Batch& b : runs[0]) seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  std::vector<size_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(seen, sorted);

  // Another epoch or seed: another order.
  o.threads = 2;
  Loader other(ds, parse_pipeline(kTrainSpec), o);
  const std::vector<Batch> e4 = run_epoch(other, 4);
  EXPECT_NE(e4[0].indices, runs[0][0].indices);
}

TEST(Loader, TargetsAndMatricesDescribeTheBatchImages) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_targets");
  const Dataset ds = good_dataset(dir, 8);
  LoaderOptions o;
  o.batch_size = 3;
  o.shuffle = false;
  o.sizes = {40};
  o.decode_resized = false;  // the full decode, so the pixels below are exact (decode_test.cpp covers the other)
  Loader loader(ds, preset("eval"), o);
  const std::vector<Batch> batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].images.size(0), 2);
  const Batch& b = batches[0];
  EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{3, 3, 40, 40}));
  EXPECT_EQ(b.indices, (std::vector<size_t>{0, 1, 2}));
  for (size_t i = 0; i < 3; ++i) {
    const ImageRecord& rec = ds.images[b.indices[i]];
    EXPECT_EQ(b.image_ids[i], rec.id);
    EXPECT_EQ(b.original_sizes[i], std::make_pair(rec.width, rec.height));
    const cv::Vec3d corner = b.to_original[i] * cv::Vec3d(40, 40, 1);
    EXPECT_NEAR(corner[0], rec.width, 1e-9);
    EXPECT_NEAR(corner[1], rec.height, 1e-9);
    ASSERT_EQ(b.targets[i].boxes.size(0), static_cast<int64_t>(rec.objects.size()));
    EXPECT_EQ(b.targets[i].boxes.scalar_type(), torch::kFloat32);
    EXPECT_EQ(b.targets[i].labels.scalar_type(), torch::kInt64);
    for (size_t k = 0; k < rec.objects.size(); ++k) {
      EXPECT_NEAR(b.targets[i].boxes[k][2].item<float>(), rec.objects[k].box.x2 * 40 / rec.width, 1e-4);
      EXPECT_EQ(b.targets[i].labels[k].item<int64_t>(), rec.objects[k].label);
    }
  }
  // The pixels: normalised RGB of the resized image.
  cv::Mat bgr = cv::imread((dir / ds.images[0].file).string());
  cv::Mat rgb, small;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  cv::resize(rgb, small, cv::Size(40, 40), 0, 0, cv::INTER_LINEAR);
  const torch::Tensor ref = to_tensor(small, o.mean, o.std);
  EXPECT_TRUE(torch::allclose(b.images[0], ref));
}

TEST(Loader, BadImagesAreSkippedCountedAndListed) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_bad");
  Dataset ds = good_dataset(dir, 6);
  auto add = [&](const std::string& file) {
    ImageRecord r;
    r.id = 1000 + static_cast<int64_t>(ds.images.size());
    r.name = file;
    r.file = file;
    r.width = 50;
    r.height = 40;
    r.objects.push_back(Object{Box{2, 2, 20, 20}, 1});
    ds.images.push_back(r);
  };
  write_bytes(dir / "corrupt.jpg", std::string("\xFF\xD8\xFF\xE0 this is not a jpeg at all", 30));
  std::vector<uchar> jpg;
  cv::imencode(".jpg", noise_bgr(40, 50, 9), jpg);
  write_bytes(dir / "truncated.jpg", std::string(jpg.begin(), jpg.begin() + static_cast<long>(jpg.size() / 2)));
  cv::Mat deep(40, 50, CV_16UC3, cv::Scalar(1000, 30000, 65535));
  cv::imwrite((dir / "deep.png").string(), deep);
  cv::Mat gray(40, 50, CV_8UC1, cv::Scalar(77));
  cv::imwrite((dir / "gray.png").string(), gray);
  cv::Mat bgra(40, 50, CV_8UC4, cv::Scalar(10, 20, 30, 128));
  cv::imwrite((dir / "alpha.png").string(), bgra);
  for (const char* f : {"corrupt.jpg", "truncated.jpg", "deep.png", "gray.png", "alpha.png", "missing.jpg"}) add(f);

  LoaderOptions o;
  o.batch_size = 2;
  o.shuffle = false;
  o.sizes = {32};
  o.threads = 2;
  Loader loader(ds, parse_pipeline("hflip(p=0.5) resize()"), o);
  const std::vector<Batch> batches = run_epoch(loader, 0);
  // 12 records in 6 batches of 2: [corrupt, truncated] is skipped whole; [deep, gray] kept;
  // [alpha, missing] has one image.
  ASSERT_EQ(batches.size(), 5u);
  EXPECT_EQ(batches[3].images.size(0), 2);
  EXPECT_EQ(batches[4].images.size(0), 1);
  EXPECT_EQ(batches[4].batch_index, 5u);
  EXPECT_EQ(batches[4].image_ids[0], ds.images[10].id);
  const LoaderStats st = loader.stats();
  EXPECT_EQ(st.images, 9u);
  EXPECT_EQ(st.skipped, 3u);
  EXPECT_EQ(st.converted, 3u);
  ASSERT_EQ(st.skipped_files.size(), 3u);
  for (const char* f : {"corrupt.jpg", "truncated.jpg", "missing.jpg"}) {
    bool listed = false;
    for (const std::string& s : st.skipped_files) listed |= s.find(f) != std::string::npos;
    EXPECT_TRUE(listed) << f;
  }
  // The converted grayscale image: 77 everywhere after normalisation.
  const float expected = (77.0f / 255.0f - o.mean[1]) / o.std[1];
  EXPECT_NEAR(batches[3].images[1][1][5][5].item<float>(), expected, 1e-5);
}

// The decoded-image cache changes only where decodes come from: the same batches as without it, epoch
// after epoch, through multi-scale sizes (decoded to size or in full), a budget that holds only part of
// the dataset, and bad files, which are not kept and are reported every epoch.
TEST(Loader, DecodeCacheGivesTheSameBatches) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_cache");
  Dataset ds = good_dataset(dir, 13);
  write_bytes(dir / "corrupt.jpg", std::string("\xFF\xD8\xFF\xE0 not a jpeg"));
  ImageRecord bad;
  bad.id = 999;
  bad.name = bad.file = "corrupt.jpg";
  bad.width = 40;
  bad.height = 30;
  ds.images.push_back(bad);
  for (const char* spec : {"resize() hflip(p=0.5) photometric(p=0.5) erase(p=0.5)", kTrainSpec}) {
    SCOPED_TRACE(spec);
    LoaderOptions o;
    o.batch_size = 3;
    o.sizes = {40, 56};
    o.seed = 5;
    o.threads = 2;
    Loader plain(ds, parse_pipeline(spec), o);
    o.cache_mb = 1;
    Loader cached(ds, parse_pipeline(spec), o);
    for (int epoch = 0; epoch < 3; ++epoch) {
      const auto a = run_epoch(plain, epoch), b = run_epoch(cached, epoch);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) expect_same(a[i], b[i]);
    }
    const LoaderStats st = cached.stats();
    EXPECT_EQ(st.images, 3 * 13u);
    EXPECT_EQ(st.skipped, 3u);  // the corrupt file, once per epoch
    if (spec == kTrainSpec)
      EXPECT_EQ(st.cache_hits, 2 * 13u);  // full-size decodes: every good image after epoch 0
    else
      EXPECT_GT(st.cache_hits, 0u);  // decoded to the batch's size: a hit once a record meets a size again
    EXPECT_GT(st.cache_mb, 0.0);
    EXPECT_EQ(plain.stats().cache_hits, 0u);
  }
  // A budget smaller than the dataset: entries up to the budget, the rest decoded each time.
  LoaderOptions o;
  o.batch_size = 4;
  o.sizes = {40};
  o.threads = 2;
  o.cache_mb = 1;
  Dataset big = good_dataset(dir, 4);
  for (auto& r : big.images) {
    r.file = "big_" + r.file;
    cv::imwrite((dir / r.file).string(), noise_bgr(400, 500, uint64_t(r.id)));  // 600 kB decoded
    r.width = 500;
    r.height = 400;
    r.objects.clear();
  }
  Loader loader(big, parse_pipeline("hflip(p=0.5)"), o);
  for (int epoch = 0; epoch < 2; ++epoch) run_epoch(loader, epoch);
  const LoaderStats st = loader.stats();
  EXPECT_EQ(st.cache_hits, 1u);  // one 600 kB image fits in 1 MiB, two do not
  EXPECT_LE(st.cache_mb, 1.0);
}

TEST(Loader, PrefetchIsBoundedAndEpochsRestart) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_bound");
  const Dataset ds = good_dataset(dir, 40);
  LoaderOptions o;
  o.batch_size = 2;
  o.prefetch_batches = 2;
  o.sizes = {32};
  o.threads = 2;
  Loader loader(ds, preset("eval"), o);
  loader.start_epoch(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  // The producer stops once the queue holds prefetch_batches: at most that many plus the batch
  // waiting for room have been collated.
  EXPECT_LE(loader.stats().images, static_cast<size_t>((2 + 1) * 2));
  ASSERT_TRUE(loader.next().has_value());
  // Restart while batches remain: the new epoch is complete and the old batches are gone.
  const std::vector<Batch> e1 = run_epoch(loader, 1);
  ASSERT_EQ(e1.size(), 20u);
  for (size_t b = 0; b < e1.size(); ++b) {
    EXPECT_EQ(e1[b].epoch, 1);
    EXPECT_EQ(e1[b].batch_index, b);
  }
  EXPECT_FALSE(loader.next().has_value());
  // Destroying a loader with a full queue does not hang.
  {
    Loader busy(ds, preset("eval"), o);
    busy.start_epoch(0);
  }
}

TEST(Loader, PaddedCollateWithoutOutputResize) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_pad");
  const Dataset ds = good_dataset(dir, 4);
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = false;
  Loader loader(ds, parse_pipeline("hflip(p=1)"), o);
  const std::vector<Batch> batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].images.sizes(), (std::vector<int64_t>{4, 3, 68, 104}));
  // Image 0 is 80x60: zeros to its right.
  EXPECT_EQ(batches[0].images[0].narrow(2, 80, 24).abs().sum().item<float>(), 0.0f);
}

TEST(Loader, PipelineErrorsReachTheConsumer) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_err");
  const Dataset ds = good_dataset(dir, 4);
  LoaderOptions o;
  o.sizes = {0};
  EXPECT_THROW(Loader(ds, preset("eval"), o), std::invalid_argument);
}

TEST(ToTensor, NormalisesPerChannel) {
  cv::Mat rgb(2, 3, CV_8UC3, cv::Scalar(0, 128, 255));
  const torch::Tensor t = to_tensor(rgb, {0.5f, 0.5f, 0.5f}, {0.5f, 0.25f, 1.0f});
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 2, 3}));
  EXPECT_NEAR(t[0][1][2].item<float>(), -1.0f, 1e-6);
  EXPECT_NEAR(t[1][0][0].item<float>(), (128.0f / 255 - 0.5f) / 0.25f, 1e-6);
  EXPECT_NEAR(t[2][1][1].item<float>(), 0.5f, 1e-6);
}

TEST(Decode, ConvertsAndNamesBadFiles) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode");
  cv::Mat bgr(10, 12, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::imwrite((dir / "c.png").string(), bgr);
  auto r = cvtk::image::decode_image(dir / "c.png");
  EXPECT_EQ(r.converted, "");
  EXPECT_EQ(r.image.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));  // RGB
  cv::imwrite((dir / "g.png").string(), cv::Mat(10, 12, CV_8UC1, cv::Scalar(5)));
  r = cvtk::image::decode_image(dir / "g.png");
  EXPECT_EQ(r.image.type(), CV_8UC3);
  EXPECT_NE(r.converted.find("grayscale"), std::string::npos);
  cv::imwrite((dir / "d.png").string(), cv::Mat(10, 12, CV_16UC1, cv::Scalar(65535)));
  r = cvtk::image::decode_image(dir / "d.png");
  EXPECT_EQ(r.image.at<cv::Vec3b>(3, 3), cv::Vec3b(255, 255, 255));
  EXPECT_NE(r.converted.find("16-bit"), std::string::npos);
  EXPECT_NE(r.converted.find("grayscale"), std::string::npos);
  cv::imwrite((dir / "a.png").string(), cv::Mat(10, 12, CV_8UC4, cv::Scalar(1, 2, 3, 4)));
  r = cvtk::image::decode_image(dir / "a.png");
  EXPECT_EQ(r.image.at<cv::Vec3b>(0, 0), cv::Vec3b(3, 2, 1));
  EXPECT_NE(r.converted.find("4-channel"), std::string::npos);

  try {
    cvtk::image::decode_image(dir / "none.jpg");
    ADD_FAILURE() << "no throw";
  } catch (const cvtk::data::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("none.jpg"), std::string::npos);
  }
  write_bytes(dir / "bad.png", "not an image");
  EXPECT_THROW(cvtk::image::decode_image(dir / "bad.png"), cvtk::data::FormatError);
  std::vector<uchar> jpg;
  cv::imencode(".jpg", noise_bgr(30, 30, 1), jpg);
  write_bytes(dir / "t.jpg", std::string(jpg.begin(), jpg.end() - 100));
  try {
    cvtk::image::decode_image(dir / "t.jpg");
    ADD_FAILURE() << "no throw";
  } catch (const cvtk::data::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("t.jpg"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
  write_bytes(dir / "ok.jpg", std::string(jpg.begin(), jpg.end()));
  EXPECT_EQ(cvtk::image::decode_image(dir / "ok.jpg").image.size(), cv::Size(30, 30));
}

TEST(Draw, BoxesLabelsAndMosaic) {
  cv::Mat img(60, 80, CV_8UC3, cv::Scalar::all(0));
  cvtk::image::draw_boxes(img, {{Box{10, 20, 40, 50}, "cell", 0.87, 1}, {Box{0, 0, 10, 10}, "", -1, 0}});
  const cv::Scalar c = cvtk::image::class_colour(1);
  EXPECT_EQ(img.at<cv::Vec3b>(35, 10), cv::Vec3b(uchar(c[0]), uchar(c[1]), uchar(c[2])));  // left edge
  EXPECT_EQ(img.at<cv::Vec3b>(35, 25), cv::Vec3b(0, 0, 0));                                // inside
  EXPECT_GT(cv::countNonZero(img(cv::Rect(10, 0, 40, 19)).reshape(1)), 20);                // label above
  const cv::Mat m = cvtk::image::mosaic({img, img, cv::Mat(30, 30, CV_8UC3, cv::Scalar::all(9))}, 2);
  EXPECT_EQ(m.size(), cv::Size(160, 120));
  EXPECT_EQ(m.at<cv::Vec3b>(65, 5), cv::Vec3b(9, 9, 9));
  EXPECT_EQ(m.at<cv::Vec3b>(100, 5), cv::Vec3b(0, 0, 0));
}

}  // namespace
