#include "vision/data/synth.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "vision/data/annotation.h"
#include "vision/data/errors.h"
#include "vision/data/file_util.h"
#include "vision/data/voc_xml.h"
#include "vision/data/output_dir.h"

namespace fs = std::filesystem;

namespace cvtk::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kSubpixelBits = 4;  // fillPoly fixed-point precision

// splitmix64: a tiny generator whose sequence is the same with every compiler and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo + 1)); }  // [lo, hi]
  double normal() {
    const double u1 = std::max(uniform(), 1e-12), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * kPi * u2);
  }

 private:
  uint64_t state_;
};

enum Shape { kCircle, kSquare, kTriangle, kStar, kCross, kShapeCount };

// The shape's outline: unit shape stretched by `stretch` along x (and 1/stretch along y), rotated by
// angle, scaled to radius, centred on c.
std::vector<cv::Point2d> shape_polygon(Shape shape, cv::Point2d c, double radius, double angle, double stretch) {
  std::vector<cv::Point2d> local;
  auto ring = [&](int n, double r0, double r1) {
    for (int i = 0; i < n; ++i) {
      const double a = 2 * kPi * i / n;
      const double r = (i % 2 == 0) ? r0 : r1;
      local.emplace_back(r * std::cos(a), r * std::sin(a));
    }
  };
  switch (shape) {
    case kCircle:
      ring(48, 1.0, 1.0);
      break;
    case kSquare:
      ring(4, 1.0, 1.0);
      break;
    case kTriangle:
      ring(3, 1.0, 1.0);
      break;
    case kStar:
      ring(10, 1.0, 0.45);
      break;
    case kCross: {
      const double t = 0.33;  // half arm width
      const double pts[12][2] = {{-t, -1}, {t, -1}, {t, -t}, {1, -t}, {1, t},   {t, t},
                                 {t, 1},   {-t, 1}, {-t, t}, {-1, t}, {-1, -t}, {-t, -t}};
      for (auto& p : pts) local.emplace_back(p[0] / std::sqrt(1 + t * t), p[1] / std::sqrt(1 + t * t));
      break;
    }
    default:
      break;
  }
  std::vector<cv::Point2d> out;
  const double ca = std::cos(angle), sa = std::sin(angle);
  const double sx = std::sqrt(stretch), sy = 1 / sx;
  for (const auto& q : local) {
    const cv::Point2d p(q.x * sx, q.y * sy);
    out.emplace_back(c.x + radius * (p.x * ca - p.y * sa), c.y + radius * (p.x * sa + p.y * ca));
  }
  return out;
}

cv::Vec3b random_colour(Rng& rng) {
  // Saturated colours in HSV, converted to BGR.
  cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(rng.integer(0, 179), rng.integer(120, 255), rng.integer(130, 255)));
  cv::Mat bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  return bgr.at<cv::Vec3b>(0, 0);
}

cv::Mat background(Rng& rng, int w, int h) {
  cv::Mat img(h, w, CV_8UC3);
  const int kind = rng.integer(0, 2);
  const cv::Vec3d a(rng.uniform(20, 200), rng.uniform(20, 200), rng.uniform(20, 200));
  const cv::Vec3d b(rng.uniform(20, 200), rng.uniform(20, 200), rng.uniform(20, 200));
  const double angle = rng.uniform(0, 2 * kPi);
  const double dx = std::cos(angle), dy = std::sin(angle);
  const double noise = rng.uniform(4, 18);
  const double norm = std::abs(dx) * w + std::abs(dy) * h;
  for (int y = 0; y < h; ++y) {
    cv::Vec3b* row = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      const double t = kind == 0 ? 0.0 : std::clamp(((x - w / 2.0) * dx + (y - h / 2.0) * dy) / norm + 0.5, 0.0, 1.0);
      for (int c = 0; c < 3; ++c)
        row[x][c] = cv::saturate_cast<uchar>(a[c] * (1 - t) + b[c] * t + noise * rng.normal());
    }
  }
  if (kind == 2) {
    // Texture: thin low-contrast strokes that are not shapes of any class.
    const int strokes = rng.integer(6, 20);
    for (int i = 0; i < strokes; ++i) {
      cv::Point p0(rng.integer(0, w - 1), rng.integer(0, h - 1)), p1(rng.integer(0, w - 1), rng.integer(0, h - 1));
      const double shade = rng.uniform(-40, 40);
      cv::Scalar colour(a[0] + shade, a[1] + shade, a[2] + shade);
      cv::line(img, p0, p1, colour, rng.integer(1, 3), cv::LINE_AA);
    }
  }
  return img;
}

double covered_fraction(const Box& target, const Box& cover) {
  const double iw = std::min(target.x2, cover.x2) - std::max(target.x1, cover.x1);
  const double ih = std::min(target.y2, cover.y2) - std::max(target.y1, cover.y1);
  if (iw <= 0 || ih <= 0) return 0;
  return iw * ih / target.area();
}

ImageRecord draw_image(Rng& rng, const SynthOptions& o, cv::Mat& img) {
  img = background(rng, o.width, o.height);
  ImageRecord rec;
  rec.width = o.width;
  rec.height = o.height;
  if (rng.uniform() < o.empty_fraction) return rec;
  const int wanted = rng.integer(1, std::max(1, o.max_objects));
  for (int attempt = 0; attempt < wanted * 20 && static_cast<int>(rec.objects.size()) < wanted; ++attempt) {
    const Shape shape = static_cast<Shape>(rng.integer(0, kShapeCount - 1));
    const double size = rng.uniform(o.min_size, o.max_size);
    const double radius = size / 2;
    const double angle = rng.uniform(0, 2 * kPi);
    const double stretch = std::exp(rng.uniform(std::log(0.6), std::log(1.6)));
    const double reach = radius * std::sqrt(std::max(stretch, 1 / stretch));
    if (2 * reach >= std::min(o.width, o.height)) continue;
    const cv::Point2d centre(rng.uniform(reach, o.width - reach), rng.uniform(reach, o.height - reach));
    const auto poly = shape_polygon(shape, centre, radius, angle, stretch);
    double minx = 1e9, miny = 1e9, maxx = -1e9, maxy = -1e9;
    for (const auto& p : poly) {
      minx = std::min(minx, p.x), maxx = std::max(maxx, p.x);
      miny = std::min(miny, p.y), maxy = std::max(maxy, p.y);
    }
    // Pixel i covers [i, i + 1) in continuous coordinates; OpenCV fills pixels whose centres are inside.
    Box box{std::max(0.0, std::floor(minx)), std::max(0.0, std::floor(miny)),
            std::min<double>(o.width, std::ceil(maxx) + 1), std::min<double>(o.height, std::ceil(maxy) + 1)};
    bool ok = true;
    for (const Object& prev : rec.objects)
      if (covered_fraction(prev.box, box) > o.max_occlusion || covered_fraction(box, prev.box) > 0.9 ||
          iou(prev.box, box) > 0.4)
        ok = false;
    if (!ok) continue;
    std::vector<cv::Point> pts;
    for (const auto& p : poly)
      pts.emplace_back(cvRound(p.x * (1 << kSubpixelBits)), cvRound(p.y * (1 << kSubpixelBits)));
    // Colour must stand out from the local background.
    cv::Vec3b colour = random_colour(rng);
    const cv::Rect roi(int(box.x1), int(box.y1), int(box.width()), int(box.height()));
    const cv::Scalar mean = cv::mean(img(roi));
    for (int tries = 0; tries < 8; ++tries) {
      const double d = std::abs(colour[0] - mean[0]) + std::abs(colour[1] - mean[1]) + std::abs(colour[2] - mean[2]);
      if (d > 120) break;
      colour = random_colour(rng);
    }
    cv::fillPoly(img, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(colour[0], colour[1], colour[2]),
                 cv::LINE_AA, kSubpixelBits);
    Object obj;
    obj.box = box;
    obj.label = static_cast<int>(shape);
    obj.id = static_cast<int64_t>(rec.objects.size()) + 1;
    rec.objects.push_back(obj);
  }
  // Light sensor noise over everything so shapes are not perfectly flat.
  cv::Mat noise(img.size(), CV_16SC3);
  cv::Mat noisy;
  img.convertTo(noisy, CV_16SC3);
  for (int y = 0; y < noise.rows; ++y) {
    auto* row = noise.ptr<cv::Vec3s>(y);
    for (int x = 0; x < noise.cols; ++x)
      for (int c = 0; c < 3; ++c) row[x][c] = static_cast<short>(std::lround(3 * rng.normal()));
  }
  noisy += noise;
  noisy.convertTo(img, CV_8UC3);
  return rec;
}

uint64_t image_seed(uint64_t seed, int split, int index) {
  Rng mix(seed * 0x2545F4914F6CDD1Dull + static_cast<uint64_t>(split) * 1000003ull + static_cast<uint64_t>(index));
  mix.next();
  return mix.next();
}

}  // namespace

const std::vector<std::string>& synth_class_names() {
  static const std::vector<std::string> kNames = {"circle", "square", "triangle", "star", "cross"};
  return kNames;
}

SynthSummary write_synthetic_dataset(const fs::path& out, const SynthOptions& o) {
  if (o.train_images < 0 || o.val_images < 0 || o.train_images + o.val_images == 0)
    throw std::invalid_argument("synth: --train and --val must be >= 0 and not both 0");
  if (o.width < 64 || o.height < 64) throw std::invalid_argument("synth: width and height must be at least 64 pixels");
  if (o.min_size < 8 || o.max_size < o.min_size || o.max_size > std::min(o.width, o.height))
    throw std::invalid_argument("synth: need 8 <= min size <= max size <= the image's shorter side");
  StagedOutput staged(out, /*replace=*/false);
  const fs::path root = staged.staging();
  fs::create_directories(root / "JPEGImages");
  fs::create_directories(root / "Annotations");
  fs::create_directories(root / "ImageSets" / "Main");

  Dataset ds;
  ds.classes = synth_class_names();
  struct Item {
    int split;
    int index;
    std::string name;
  };
  std::vector<Item> items;
  for (int i = 0; i < o.train_images; ++i) items.push_back({0, i, "train_" + std::to_string(100000 + i).substr(1)});
  for (int i = 0; i < o.val_images; ++i) items.push_back({1, i, "val_" + std::to_string(100000 + i).substr(1)});
  std::vector<ImageRecord> records(items.size());
  tbb::parallel_for(size_t(0), items.size(), [&](size_t k) {
    Rng rng(image_seed(o.seed, items[k].split, items[k].index));
    cv::Mat img;
    ImageRecord rec = draw_image(rng, o, img);
    rec.name = items[k].name;
    rec.file = "JPEGImages/" + rec.name + ".jpg";
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", img, jpeg, {cv::IMWRITE_JPEG_QUALITY, o.jpeg_quality});
    write_file_atomic(root / rec.file, std::string(jpeg.begin(), jpeg.end()));
    write_file_atomic(root / "Annotations" / (rec.name + ".xml"), voc_annotation_xml(ds, rec, rec.name + ".jpg"));
    records[k] = std::move(rec);
  });
  std::string train_list, val_list;
  SynthSummary summary;
  summary.objects_per_class.assign(ds.classes.size(), 0);
  for (size_t k = 0; k < items.size(); ++k) {
    (items[k].split == 0 ? train_list : val_list) += items[k].name + "\n";
    ++summary.images;
    for (const auto& obj : records[k].objects) {
      ++summary.objects;
      ++summary.objects_per_class[obj.label];
    }
  }
  write_file_atomic(root / "ImageSets" / "Main" / "train.txt", train_list);
  write_file_atomic(root / "ImageSets" / "Main" / "val.txt", val_list);
  std::string classes;
  for (const auto& c : ds.classes) classes += c + "\n";
  write_file_atomic(root / "classes.txt", classes);
  staged.commit();
  return summary;
}

}  // namespace cvtk::data
