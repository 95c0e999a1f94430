// Decoding JPEGs through libjpeg directly and straight to a resize's size, and the loader path that
// uses it: same pixels as OpenCV for full decodes; for resized decodes exact geometry and pixels close
// to decode + bilinear resize (PSNR bounds below); identical batches for any thread count.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "augment/loader.h"
#include "augment/resize.h"
#include "tests/common.h"
#include "vision/data/errors.h"
#include "vision/data/image_size.h"
#include "vision/image/decode.h"

namespace fs = std::filesystem;
using namespace cvtk::augment;
using cvtk::data::Box;
using cvtk::data::Dataset;
using cvtk::data::ImageRecord;
using cvtk::data::Object;

namespace {

// Smooth colour content with edges, like a photograph: blurred noise plus a few solid shapes.
cv::Mat scene_bgr(int h, int w, uint64_t seed) {
  cv::Mat m(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(m, m, cv::Size(0, 0), 3);
  for (int k = 0; k < 6; ++k) {
    const cv::Point c(rng.uniform(0, w), rng.uniform(0, h));
    cv::circle(m, c, rng.uniform(3, std::max(4, w / 6)),
               cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256)), cv::FILLED, cv::LINE_AA);
  }
  return m;
}

double psnr(const cv::Mat& a, const cv::Mat& b) { return cv::PSNR(a, b, 255.0); }

cv::Mat reference_resized(const fs::path& file, cv::Size size) {
  cv::Mat full = cvtk::image::decode_image(file).image, out;
  cv::resize(full, out, size, 0, 0, cv::INTER_LINEAR);
  return out;
}

}  // namespace

TEST(Decode, JpegThroughLibjpegEqualsOpenCV) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_jpeg");
  const std::vector<std::pair<cv::Mat, std::string>> images = {
      {scene_bgr(48, 64, 1), "a.jpg"}, {scene_bgr(37, 53, 2), "odd.jpg"}, {scene_bgr(480, 640, 3), "big.jpg"}};
  for (const auto& [bgr, name] : images) {
    cv::imwrite((dir / name).string(), bgr);
    const auto r = cvtk::image::decode_image(dir / name);
    cv::Mat ref;
    cv::cvtColor(cv::imread((dir / name).string(), cv::IMREAD_UNCHANGED), ref, cv::COLOR_BGR2RGB);
    EXPECT_EQ(r.converted, "");
    EXPECT_EQ(r.source_size, ref.size());
    EXPECT_EQ(cv::norm(r.image, ref, cv::NORM_INF), 0.0) << name;
  }
  cv::Mat gray;
  cv::cvtColor(scene_bgr(40, 56, 4), gray, cv::COLOR_BGR2GRAY);
  cv::imwrite((dir / "g.jpg").string(), gray);
  const auto r = cvtk::image::decode_image(dir / "g.jpg");
  cv::Mat ref;
  cv::cvtColor(cv::imread((dir / "g.jpg").string(), cv::IMREAD_UNCHANGED), ref, cv::COLOR_GRAY2RGB);
  EXPECT_EQ(r.converted, "grayscale -> RGB");
  EXPECT_EQ(cv::norm(r.image, ref, cv::NORM_INF), 0.0);
}

// The bound against full decode + bilinear resize: 44 dB when the planes come at full size (only
// rounding and the chroma filter differ: 48-56 dB measured here, 52-57 dB on BCCD) or from the 1/2
// and 1/4 scaled IDCT (its block low-pass versus a bilinear that skips pixels: 48 dB here); 35 dB
// from the 1/8 IDCT (a block mean per output pixel, where bilinear samples 2 of 8: 39.6 dB here).
TEST(Decode, ResizedJpegIsCloseToDecodeThenResize) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_resized");
  cv::imwrite((dir / "s.jpg").string(), scene_bgr(480, 640, 5));
  struct Case {
    cv::Size size;
    double min_psnr;
  };
  // 320x320, 300x200, 640x480: planes at full size; 640x600: upsampling; 160x120: 1/2; 80x60: 1/8.
  // In this order, so the decoder's per-thread buffers are reused across sizes and scales.
  for (const Case& c : {Case{{320, 320}, 44}, Case{{300, 200}, 44}, Case{{640, 600}, 44}, Case{{160, 120}, 44},
                        Case{{80, 60}, 35}, Case{{640, 480}, 44}, Case{{320, 320}, 44}}) {
    const auto r = cvtk::image::decode_image_resized(dir / "s.jpg", c.size);
    ASSERT_EQ(r.image.size(), c.size);
    EXPECT_EQ(r.image.type(), CV_8UC3);
    EXPECT_EQ(r.source_size, cv::Size(640, 480));
    const double p = psnr(r.image, reference_resized(dir / "s.jpg", c.size));
    EXPECT_GE(p, c.min_psnr) << c.size;
  }
  // Grayscale: the full-size bound, and three equal channels.
  cv::Mat gray;
  cv::cvtColor(scene_bgr(96, 128, 6), gray, cv::COLOR_BGR2GRAY);
  cv::imwrite((dir / "g.jpg").string(), gray);
  const auto g = cvtk::image::decode_image_resized(dir / "g.jpg", {50, 70});
  EXPECT_EQ(g.converted, "grayscale -> RGB");
  EXPECT_GE(psnr(g.image, reference_resized(dir / "g.jpg", {50, 70})), 44);
  cv::Mat ch[3];
  cv::split(g.image, ch);
  EXPECT_EQ(cv::norm(ch[0], ch[2], cv::NORM_INF), 0.0);
}

TEST(Decode, ResizedFallsBackToExactDecodeThenResize) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_fallback");
  // An odd width leaves a half chroma sample at the right edge; a PNG has no planes to resize.
  cv::imwrite((dir / "odd.jpg").string(), scene_bgr(60, 81, 7));
  cv::imwrite((dir / "p.png").string(), scene_bgr(60, 80, 8));
  for (const char* f : {"odd.jpg", "p.png"}) {
    const auto r = cvtk::image::decode_image_resized(dir / f, {40, 32});
    EXPECT_EQ(cv::norm(r.image, reference_resized(dir / f, {40, 32}), cv::NORM_INF), 0.0) << f;
    EXPECT_EQ(r.source_size, cvtk::image::decode_image(dir / f).image.size());
  }
  EXPECT_THROW(cvtk::image::decode_image_resized(dir / "p.png", {0, 3}), std::invalid_argument);
  EXPECT_THROW(cvtk::image::decode_image_resized(dir / "none.jpg", {4, 3}), cvtk::data::IoError);
}

TEST(Decode, ResizedOnDatasetImages) {
  CVTK_REQUIRE_SHARED(shared);
  const fs::path images = shared / "data" / "bccd" / "JPEGImages";
  if (!fs::is_directory(images)) {
    GTEST_SKIP() << images << " not found";
  }
  int checked = 0;
  for (const auto& e : fs::directory_iterator(images)) {
    if (checked == 8) break;
    const auto r = cvtk::image::decode_image_resized(e.path(), {320, 320});
    EXPECT_GE(psnr(r.image, reference_resized(e.path(), {320, 320})), 48) << e.path();
    ++checked;
  }
}

TEST(Pipeline, LeadingStretchOnlyForAPlainBilinearResizeFirst) {
  const Context ctx{96, 64};
  EXPECT_EQ(parse_pipeline("resize() hflip(p=0.5)").leading_stretch(ctx), cv::Size(96, 64));
  EXPECT_EQ(parse_pipeline("resize(40,30) erase()").leading_stretch(ctx), cv::Size(40, 30));
  EXPECT_EQ(parse_pipeline("resize()").leading_stretch(Context{}), cv::Size());
  for (const char* spec :
       {"resize(scale=0.5)", "resize(mode=letterbox)", "resize(interp=nearest)", "resize(interp=area)",
        "hflip(p=0.5) resize()", "erase(p=0.5) resize()", "photometric() resize()"})
    EXPECT_EQ(parse_pipeline(spec).leading_stretch(ctx), cv::Size()) << spec;
}

TEST(Resize, FinishStretchIsTheGeometryOfApply) {
  Sample a;
  a.image = cv::Mat(60, 80, CV_8UC3, cv::Scalar::all(9));
  a.original_width = 80;
  a.original_height = 60;
  a.objects = {Object{Box{10, 5, 70, 59.5}, 1}, Object{Box{79.5, 0, 80, 60}, 2}};
  Sample b = a;
  Rng rng(0, 0, 0);
  parse_pipeline("resize(33,21)").apply(a, rng, {});
  b.image = cv::Mat(21, 33, CV_8UC3);
  finish_stretch(b, cv::Size(80, 60));
  EXPECT_EQ(a.to_original, b.to_original);
  ASSERT_EQ(a.objects.size(), b.objects.size());
  for (size_t i = 0; i < a.objects.size(); ++i) {
    EXPECT_EQ(a.objects[i].box.x1, b.objects[i].box.x1);
    EXPECT_EQ(a.objects[i].box.y1, b.objects[i].box.y1);
    EXPECT_EQ(a.objects[i].box.x2, b.objects[i].box.x2);
    EXPECT_EQ(a.objects[i].box.y2, b.objects[i].box.y2);
  }
  EXPECT_EQ(a.dropped_objects, b.dropped_objects);
}

namespace {

Dataset jpeg_dataset(const fs::path& dir, int n) {
  Dataset ds;
  ds.classes = {"a", "b"};
  ds.image_root = dir;
  for (int i = 0; i < n; ++i) {
    ImageRecord r;
    r.id = i;
    r.name = "j" + std::to_string(i);
    r.file = r.name + (i == 3 ? ".png" : ".jpg");
    r.width = 96 + 16 * (i % 3);
    r.height = 64 + 8 * (i % 2);
    cv::imwrite((dir / r.file).string(), scene_bgr(r.height, r.width, static_cast<uint64_t>(40 + i)));
    for (int k = 0; k <= i % 3; ++k)
      r.objects.push_back(Object{Box{4.0 + 9 * k, 3.0 + 4 * k, 50.0 + 9 * k, 40.0 + 5 * k}, k % 2});
    ds.images.push_back(r);
  }
  return ds;
}

std::vector<Batch> epoch_of(const Dataset& ds, const std::string& spec, LoaderOptions o, int epoch) {
  Loader loader(ds, parse_pipeline(spec), o);
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

}  // namespace

// decode_resized changes pixels only: the same records, boxes, matrices (every later transform drew
// the same numbers) for any thread count, and images within the decoder's rounding of the full path.
TEST(Loader, DecodeResizedKeepsGeometryAndDeterminism) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_loader_resized");
  const Dataset ds = jpeg_dataset(dir, 10);
  const std::string spec = "resize() hflip(p=0.5) photometric(p=0.5) erase(p=0.5)";
  LoaderOptions o;
  o.batch_size = 3;
  o.sizes = {48, 64};
  o.seed = 5;
  o.threads = 1;
  o.prefetch_batches = 1;
  const std::vector<Batch> one = epoch_of(ds, spec, o, 2);
  o.threads = 2;
  o.prefetch_batches = 4;
  const std::vector<Batch> two = epoch_of(ds, spec, o, 2);
  o.decode_resized = false;
  const std::vector<Batch> full = epoch_of(ds, spec, o, 2);
  ASSERT_EQ(one.size(), 4u);
  ASSERT_EQ(two.size(), one.size());
  ASSERT_EQ(full.size(), one.size());
  for (size_t b = 0; b < one.size(); ++b) {
    EXPECT_TRUE(torch::equal(one[b].images, two[b].images)) << b;
    for (const Batch* other : {&two[b], &full[b]}) {
      EXPECT_EQ(one[b].indices, other->indices);
      ASSERT_EQ(one[b].images.sizes(), other->images.sizes());
      ASSERT_EQ(one[b].targets.size(), other->targets.size());
      for (size_t i = 0; i < one[b].targets.size(); ++i) {
        EXPECT_TRUE(torch::equal(one[b].targets[i].boxes, other->targets[i].boxes));
        EXPECT_TRUE(torch::equal(one[b].targets[i].labels, other->targets[i].labels));
        EXPECT_EQ(one[b].to_original[i], other->to_original[i]);
        EXPECT_EQ(one[b].original_sizes[i], other->original_sizes[i]);
      }
    }
    // Back to grey levels: the mean squared difference as a PSNR over whole batches, after the photometric
    // map, which may stretch differences.
    const torch::Tensor scale = torch::tensor({o.std[0], o.std[1], o.std[2]}).view({1, 3, 1, 1}) * 255.0;
    const double mse = ((one[b].images - full[b].images) * scale).pow(2).mean().item<double>();
    EXPECT_GE(10 * std::log10(255.0 * 255.0 / std::max(mse, 1e-12)), 42.0) << b;  // 48-50 dB measured
  }
}

// Damaged and oversized images: an error naming the file on every decode path, and nothing on stderr
// (libjpeg and libpng print their warnings there and return papered-over pixels).
namespace {

std::vector<unsigned char> jpeg_bytes(int h, int w, uint64_t seed) {
  std::vector<unsigned char> b;
  cv::imencode(".jpg", scene_bgr(h, w, seed), b, {cv::IMWRITE_JPEG_QUALITY, 90});
  return b;
}

void write_bytes(const fs::path& p, const std::vector<unsigned char>& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// What the process writes on stderr while fn runs.
template <typename Fn>
std::string stderr_of(Fn fn) {
  const fs::path file = cvtk::testing::scratch_dir("augment_decode_stderr") / "stderr.txt";
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(fd, 2);
  ::close(fd);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Expects every decode path to throw FormatError naming the file and `part`.
void expect_decode_error(const fs::path& file, const std::string& part) {
  const std::string printed = stderr_of([&] {
    for (int path = 0; path < 2; ++path) {
      try {
        if (path == 0)
          cvtk::image::decode_image(file);
        else
          cvtk::image::decode_image_resized(file, {32, 24});
        ADD_FAILURE() << file << " decoded (path " << path << ")";
      } catch (const cvtk::data::FormatError& e) {
        EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      }
    }
  });
  EXPECT_EQ(printed, "") << file;
}

}  // namespace

// The defect: a truncated JPEG decoded with libjpeg's warning on stderr and grey where data was missing.
TEST(DecodeDamage, TruncatedAndDamagedJpegsAreErrors) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_damage");
  const std::vector<unsigned char> good = jpeg_bytes(96, 128, 11);
  // Cut in half: no end marker at all.
  write_bytes(dir / "half.jpg", std::vector<unsigned char>(good.begin(), good.begin() + good.size() / 2));
  expect_decode_error(dir / "half.jpg", "truncated JPEG");
  // Cut in half with the end marker put back: libjpeg meets it inside the scan ("premature end").
  std::vector<unsigned char> ended(good.begin(), good.begin() + good.size() / 2);
  ended.push_back(0xFF);
  ended.push_back(0xD9);
  write_bytes(dir / "ended.jpg", ended);
  expect_decode_error(dir / "ended.jpg", "corrupt JPEG (libjpeg: ");
  // Bytes between the scan and the end marker ("extraneous bytes before marker 0xd9"). (Bytes
  // overwritten inside the scan often decode as valid codes: libjpeg cannot see that damage.)
  std::vector<unsigned char> extraneous = good;
  extraneous.insert(extraneous.end() - 2, 20, 0x13);
  write_bytes(dir / "extraneous.jpg", extraneous);
  expect_decode_error(dir / "extraneous.jpg", "extraneous bytes");
  // Not an image, and empty.
  write_bytes(dir / "text.jpg", {'n', 'o', 'p', 'e'});
  expect_decode_error(dir / "text.jpg", "cannot decode image");
  write_bytes(dir / "empty.jpg", {});
  expect_decode_error(dir / "empty.jpg", "empty image file");
}

TEST(DecodeDamage, DamagedPngsAreErrorsWithNothingOnStderr) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_png");
  std::vector<unsigned char> png;
  cv::imencode(".png", scene_bgr(60, 80, 12), png);
  write_bytes(dir / "half.png", std::vector<unsigned char>(png.begin(), png.begin() + png.size() / 2));
  expect_decode_error(dir / "half.png", "truncated PNG");
  std::vector<unsigned char> flipped = png;
  flipped[png.size() / 2] ^= 0x5A;
  write_bytes(dir / "flipped.png", flipped);
  expect_decode_error(dir / "flipped.png", "checksum mismatch");
}

// Data after the end marker (previews, motion-photo videos) is not truncation.
TEST(DecodeDamage, DataAfterTheEndMarkerIsFine) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_appended");
  std::vector<unsigned char> b = jpeg_bytes(48, 64, 13);
  const cv::Mat ref = cvtk::image::decode_image_bytes(b, "ref").image;
  b.insert(b.end(), 4096, 0x00);
  write_bytes(dir / "appended.jpg", b);
  EXPECT_EQ(cv::norm(cvtk::image::decode_image(dir / "appended.jpg").image, ref, cv::NORM_INF), 0.0);
}

// The defect: a header declaring 65000x65000 made the libjpeg path allocate 12.7 GB before reading a
// pixel. The declared size is checked first, on every path.
TEST(DecodeDamage, DeclaredSizeAboveTheLimitFailsBeforeDecoding) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_huge");
  std::vector<unsigned char> b = jpeg_bytes(48, 64, 14);
  for (size_t i = 2; i + 8 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xC0) {
      b[i + 5] = b[i + 7] = 0xFD;  // 65000 = 0xFDE8
      b[i + 6] = b[i + 8] = 0xE8;
      break;
    }
  write_bytes(dir / "huge.jpg", b);
  expect_decode_error(dir / "huge.jpg", "65000x65000");
  // The limit is a setting: a PNG just above a lowered one fails the same way, just below decodes.
  std::vector<unsigned char> png;
  cv::imencode(".png", scene_bgr(60, 80, 15), png);
  write_bytes(dir / "p.png", png);
  cvtk::data::set_max_image_pixels(80 * 60 - 1);
  expect_decode_error(dir / "p.png", "80x60");
  cvtk::data::set_max_image_pixels(80 * 60);
  EXPECT_EQ(cvtk::image::decode_image(dir / "p.png").image.cols, 80);
  cvtk::data::set_max_image_pixels(cvtk::data::kDefaultMaxImagePixels);
}

// The loader skips damaged images and lists each as "path: reason" on one line.
TEST(DecodeDamage, LoaderSkipsAndNamesDamagedImages) {
  const fs::path dir = cvtk::testing::scratch_dir("augment_decode_loader");
  Dataset ds = jpeg_dataset(dir, 4);
  std::vector<unsigned char> b;
  cv::imencode(".jpg", scene_bgr(ds.images[1].height, ds.images[1].width, 16), b);
  b.resize(b.size() / 2);
  b.push_back(0xFF);
  b.push_back(0xD9);
  write_bytes(dir / ds.images[1].file, b);
  LoaderOptions o;
  o.batch_size = 2;
  o.sizes = {32};
  o.threads = 2;
  const std::string printed = stderr_of([&] { (void)epoch_of(ds, "resize() hflip(p=0.5)", o, 0); });
  EXPECT_EQ(printed, "");
  Loader loader(ds, parse_pipeline("resize() hflip(p=0.5)"), o);
  loader.start_epoch(0);
  while (loader.next()) {
  }
  const LoaderStats st = loader.stats();
  EXPECT_EQ(st.skipped, 1u);
  ASSERT_EQ(st.skipped_files.size(), 1u);
  EXPECT_EQ(st.skipped_files[0].rfind((dir / ds.images[1].file).string() + ": ", 0), 0u) << st.skipped_files[0];
  EXPECT_NE(st.skipped_files[0].find("corrupt JPEG"), std::string::npos) << st.skipped_files[0];
}
