#include "metrics/gallery.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "metrics/base64.h"
#include "metrics/html_escape.h"
#include "metrics/report_assets.h"
#include "vision/data/file_util.h"
#include "vision/data/image_size.h"

namespace cvtk::metrics {
namespace {

using detail::fixed;

const cv::Scalar kGtColour(40, 170, 40), kPredColour(40, 40, 220), kMissColour(0, 200, 255);  // BGR

// One picture to cut: the boxes to draw on it and the region to show (whole image when crop is false).
struct Item {
  uint32_t image = 0;
  bool crop = true;
  std::vector<std::pair<data::Box, cv::Scalar>> boxes;
  std::string caption, title;
  std::string html;  // the rendered <figure>, filled in by render()
};

cv::Rect region(const Item& it, const cv::Mat& img, double context) {
  if (!it.crop) return {0, 0, img.cols, img.rows};
  data::Box u = it.boxes.front().first;
  for (const auto& [b, c] : it.boxes)
    u = {std::min(u.x1, b.x1), std::min(u.y1, b.y1), std::max(u.x2, b.x2), std::max(u.y2, b.y2)};
  const double margin = std::max(16.0, context * std::max(u.width(), u.height()));
  const int x1 = std::max(0, static_cast<int>(std::floor(u.x1 - margin)));
  const int y1 = std::max(0, static_cast<int>(std::floor(u.y1 - margin)));
  const int x2 = std::min(img.cols, static_cast<int>(std::ceil(u.x2 + margin)));
  const int y2 = std::min(img.rows, static_cast<int>(std::ceil(u.y2 + margin)));
  if (x2 <= x1 || y2 <= y1) return {0, 0, img.cols, img.rows};  // boxes entirely outside the image
  return {x1, y1, x2 - x1, y2 - y1};
}

// The item's picture as a JPEG: the region scaled so its longer side is `side`, boxes drawn after scaling
// so lines stay 2 px whatever the scale.
std::string jpeg(const Item& it, const cv::Mat& img, const GalleryOptions& o) {
  const cv::Rect r = region(it, img, o.context);
  const int side = it.crop ? o.crop_side : o.image_side;
  const double scale = static_cast<double>(side) / std::max(r.width, r.height);
  cv::Mat out;
  cv::resize(img(r), out,
             cv::Size(std::max(1, static_cast<int>(std::lround(r.width * scale))),
                      std::max(1, static_cast<int>(std::lround(r.height * scale)))),
             0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  for (const auto& [b, colour] : it.boxes) {
    const cv::Point p1(static_cast<int>(std::lround((b.x1 - r.x) * scale)),
                       static_cast<int>(std::lround((b.y1 - r.y) * scale)));
    const cv::Point p2(static_cast<int>(std::lround((b.x2 - r.x) * scale)) - 1,
                       static_cast<int>(std::lround((b.y2 - r.y) * scale)) - 1);
    cv::rectangle(out, p1, p2, colour, 2, cv::LINE_AA);
  }
  std::vector<uchar> bytes;
  cv::imencode(".jpg", out, bytes, {cv::IMWRITE_JPEG_QUALITY, o.jpeg_quality});
  return std::string(bytes.begin(), bytes.end());
}

void render(Item& it, const cv::Mat* img, const std::string& problem, const GalleryOptions& o) {
  std::ostringstream h;
  h << "<figure title=\"" << html_escape(it.title) << "\">";
  if (img)
    h << "<img alt=\"" << html_escape(it.caption) << "\" src=\"data:image/jpeg;base64," << base64(jpeg(it, *img, o))
      << "\">";
  else
    h << "<div class=\"noimg\">image not readable: " << html_escape(problem) << "</div>";
  h << "<figcaption>" << html_escape(it.caption) << "</figcaption></figure>";
  it.html = h.str();
}

// The image decoded from one read of its file (the size and structure checks run on those bytes), or
// empty with the reason in `problem`.
cv::Mat read_image(const std::filesystem::path& path, std::string& problem) {
  try {
    const std::string bytes = data::read_file(path);
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    const auto size = data::read_image_size(data, bytes.size());
    if (!size) {
      problem = path.string() + ": not an image cvtk can read";
      return {};
    }
    data::check_image_pixels(path.string(), *size);
    const std::string damage = data::image_bytes_problem(data, bytes.size());
    if (!damage.empty()) {
      problem = path.string() + ": " + damage;
      return {};
    }
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    cv::Mat img = cv::imdecode(buffer, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    if (img.empty()) problem = path.string() + ": cannot be decoded";
    return img;
  } catch (const std::exception& e) {
    problem = e.what();
    return {};
  }
}

// Reads each image once, in image order, and renders every item on it.
void render_all(std::vector<Item>& items, const data::Dataset& gt, const GalleryOptions& o) {
  std::map<uint32_t, std::vector<size_t>> by_image;
  for (size_t i = 0; i < items.size(); ++i) by_image[items[i].image].push_back(i);
  for (const auto& [image, which] : by_image) {
    std::string problem;
    const cv::Mat img = read_image(gt.image_root / gt.images[image].file, problem);
    for (size_t i : which) render(items[i], img.empty() ? nullptr : &img, problem, o);
  }
}

std::string iou_text(const data::Box& a, const data::Box& b) { return fixed(data::iou(a, b), 2); }

Item false_positive(const data::Dataset& gt, const data::Detection& d, const DetectionOutcome& out) {
  Item it;
  it.image = out.image;
  const auto& rec = gt.images[out.image];
  const std::string type = error_type_name(out.error);
  it.caption = type + " " + fixed(d.score, 2) + " " + rec.name;
  it.title = type + " error: " + gt.classes[d.label] + " scored " + fixed(d.score, 3) + " in " + rec.name;
  if (out.object >= 0) {
    const data::Object& g = rec.objects[out.object];
    it.boxes.emplace_back(g.box, kGtColour);
    it.title += "; ground truth " + gt.classes[g.label] + " at IoU " + iou_text(d.box, g.box);
  }
  it.boxes.emplace_back(d.box, kPredColour);
  return it;
}

Item missed(const data::Dataset& gt, uint32_t image, uint32_t object) {
  Item it;
  it.image = image;
  const auto& rec = gt.images[image];
  const data::Object& g = rec.objects[object];
  it.boxes.emplace_back(g.box, kMissColour);
  it.caption = fixed(std::sqrt(g.box.area()), 0) + " px " + rec.name;
  it.title = "missed " + gt.classes[g.label] + " (" + fixed(g.box.width(), 0) + " x " + fixed(g.box.height(), 0) +
             " px) in " + rec.name;
  return it;
}

// The images with the most errors, drawn whole: every counted ground truth (green, missed ones yellow)
// and every false positive (red).
std::vector<Item> worst_images(const data::Dataset& gt, const std::vector<data::Detection>& dets,
                               const ErrorBreakdown& b, size_t n) {
  std::vector<size_t> fp(gt.images.size(), 0), miss(gt.images.size(), 0);
  for (const auto& out : b.outcomes)
    if (out.outcome == Outcome::kError) ++fp[out.image];
  for (const auto& [image, object] : b.missed) ++miss[image];
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < gt.images.size(); ++i)
    if (fp[i] + miss[i] > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t c) { return fp[a] + miss[a] > fp[c] + miss[c]; });
  if (order.size() > n) order.resize(n);
  std::vector<Item> items;
  for (uint32_t image : order) {
    Item it;
    it.image = image;
    it.crop = false;
    const auto& rec = gt.images[image];
    for (const auto& o : rec.objects)
      if (!o.crowd && !o.difficult) it.boxes.emplace_back(o.box, kGtColour);
    for (const auto& [im, object] : b.missed)
      if (im == image) it.boxes.emplace_back(rec.objects[object].box, kMissColour);
    for (size_t i = 0; i < dets.size(); ++i)
      if (b.outcomes[i].outcome == Outcome::kError && b.outcomes[i].image == image)
        it.boxes.emplace_back(dets[i].box, kPredColour);
    it.caption =
        rec.name + ": " + std::to_string(fp[image]) + " false positives, " + std::to_string(miss[image]) + " missed";
    it.title = it.caption;
    items.push_back(std::move(it));
  }
  return items;
}

}  // namespace

std::string gallery_html(const data::Dataset& gt, const std::vector<data::Detection>& dets, const ErrorBreakdown& b,
                         const GalleryOptions& o) {
  const size_t K = gt.classes.size();
  std::vector<std::vector<size_t>> fps(K), misses(K);  // per class: indices into items
  std::vector<Item> items;
  std::vector<std::vector<uint32_t>> fp_order(K);
  for (uint32_t i = 0; i < dets.size(); ++i)
    if (b.outcomes[i].outcome == Outcome::kError) fp_order[dets[i].label].push_back(i);
  for (size_t k = 0; k < K; ++k) {
    auto& v = fp_order[k];
    std::stable_sort(v.begin(), v.end(), [&](uint32_t a, uint32_t c) { return dets[a].score > dets[c].score; });
    for (size_t j = 0; j < v.size() && j < o.per_class; ++j) {
      fps[k].push_back(items.size());
      items.push_back(false_positive(gt, dets[v[j]], b.outcomes[v[j]]));
    }
  }
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> miss_order(K);
  for (const auto& m : b.missed) miss_order[gt.images[m.first].objects[m.second].label].push_back(m);
  for (size_t k = 0; k < K; ++k) {
    auto& v = miss_order[k];
    auto area = [&](const std::pair<uint32_t, uint32_t>& m) { return gt.images[m.first].objects[m.second].box.area(); };
    std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& c) { return area(a) > area(c); });
    for (size_t j = 0; j < v.size() && j < o.per_class; ++j) {
      misses[k].push_back(items.size());
      items.push_back(missed(gt, v[j].first, v[j].second));
    }
  }
  const size_t first_worst = items.size();
  for (auto& it : worst_images(gt, dets, b, o.worst_images)) items.push_back(std::move(it));
  render_all(items, gt, o);

  std::ostringstream h;
  h << "<p class=\"note\">Crops: ground truth <span class=\"k-gt\">green</span>, prediction <span "
       "class=\"k-pred\">red</span>, missed object <span class=\"k-miss\">yellow</span>. False positives by "
       "descending score, with their TIDE type; missed objects largest first; at most "
    << o.per_class << " of each per class. Hover a picture for details.</p>\n";
  for (size_t k = 0; k < K; ++k) {
    h << "<h3>" << html_escape(gt.classes[k]) << "</h3>\n<div class=\"strip\"><span class=\"rowlabel\">false "
      << "positives (" << fp_order[k].size() << ")</span>";
    for (size_t i : fps[k]) h << items[i].html;
    if (fps[k].empty()) h << "<span class=\"none\">none</span>";
    h << "</div>\n<div class=\"strip\"><span class=\"rowlabel\">missed (" << miss_order[k].size() << ")</span>";
    for (size_t i : misses[k]) h << items[i].html;
    if (misses[k].empty()) h << "<span class=\"none\">none</span>";
    h << "</div>\n";
  }
  h << "<h3>Images with the most errors</h3>\n<div class=\"strip\">";
  for (size_t i = first_worst; i < items.size(); ++i) h << items[i].html;
  if (first_worst == items.size()) h << "<span class=\"none\">no image has an error</span>";
  h << "</div>\n";
  return h.str();
}

}  // namespace cvtk::metrics
