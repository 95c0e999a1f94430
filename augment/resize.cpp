#include "augment/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace cvtk::augment {
namespace {

const char* const kInterpNames[] = {"nearest", "bilinear", "bicubic", "area", "lanczos"};

// torch 1.13 nearest: identity for equal sizes, else min(floor(d * (float)in/out), in - 1) in float32.
std::vector<int> nearest_indices(int n_in, int n_out) {
  std::vector<int> idx(static_cast<size_t>(n_out));
  const float scale = static_cast<float>(n_in) / static_cast<float>(n_out);
  for (int d = 0; d < n_out; ++d) {
    if (n_in == n_out)
      idx[d] = d;
    else if (n_out == 2 * n_in)
      idx[d] = d >> 1;
    else
      idx[d] = std::min(static_cast<int>(std::floor(static_cast<float>(d) * scale)), n_in - 1);
  }
  return idx;
}

cv::Mat resize_nearest_torch(const cv::Mat& src, cv::Size dsize) {
  const std::vector<int> xs = nearest_indices(src.cols, dsize.width), ys = nearest_indices(src.rows, dsize.height);
  cv::Mat dst(dsize, src.type());
  const size_t px = src.elemSize();
  for (int y = 0; y < dsize.height; ++y) {
    const uchar* s = src.ptr<uchar>(ys[y]);
    uchar* d = dst.ptr<uchar>(y);
    if (px == 3) {
      for (int x = 0; x < dsize.width; ++x) {
        const uchar* p = s + 3 * xs[x];
        d[3 * x] = p[0];
        d[3 * x + 1] = p[1];
        d[3 * x + 2] = p[2];
      }
    } else {
      for (int x = 0; x < dsize.width; ++x) std::memcpy(d + px * x, s + px * xs[x], px);
    }
  }
  return dst;
}

}  // namespace

Interp parse_interp(const std::string& name) {
  for (int k = 0; k < 5; ++k)
    if (name == kInterpNames[k]) return static_cast<Interp>(k);
  throw std::invalid_argument("unknown interpolation '" + name + "' (nearest|bilinear|bicubic|area|lanczos)");
}

std::string interp_name(Interp interp) { return kInterpNames[static_cast<int>(interp)]; }

cv::Mat resize_image(const cv::Mat& src, cv::Size dsize, Interp interp) {
  if (dsize.width < 1 || dsize.height < 1)
    throw std::invalid_argument("resize_image: bad output size " + std::to_string(dsize.width) + "x" +
                                std::to_string(dsize.height));
  if (src.size() == dsize) return src;
  if (interp == Interp::nearest) return resize_nearest_torch(src, dsize);
  static const int flags[] = {cv::INTER_NEAREST, cv::INTER_LINEAR, cv::INTER_CUBIC, cv::INTER_AREA, cv::INTER_LANCZOS4};
  cv::Mat dst;
  cv::resize(src, dst, dsize, 0, 0, flags[static_cast<int>(interp)]);
  return dst;
}

void finish_stretch(Sample& s, cv::Size from) {
  apply_geometry(
      s, cv::Matx33d(double(s.image.cols) / from.width, 0, 0, 0, double(s.image.rows) / from.height, 0, 0, 0, 1));
}

cv::Size Resize::fixed_stretch(const Context& ctx) const {
  if (o_.letterbox || o_.interp != Interp::bilinear || o_.scale > 0) return {};
  if (o_.width > 0) return {o_.width, o_.height};
  if (ctx.width > 0 && ctx.height > 0) return {ctx.width, ctx.height};
  return {};
}

std::string Resize::describe() const {
  std::string s = "resize(";
  if (o_.width > 0)
    s += std::to_string(o_.width) + "," + std::to_string(o_.height) + ",";
  else if (o_.scale > 0)
    s += "scale=" + format_number(o_.scale) + ",";
  else
    s += "size=context,";
  s += "interp=" + interp_name(o_.interp) + ",mode=" + (o_.letterbox ? "letterbox" : "stretch");
  if (o_.letterbox) s += ",pad=" + std::to_string(o_.pad);
  return s + ")";
}

void Resize::apply(Sample& s, Rng&, const Context& ctx) const {
  const int w = s.image.cols, h = s.image.rows;
  int tw = o_.width, th = o_.height;
  if (tw <= 0 && o_.scale > 0) {
    tw = std::max(1, static_cast<int>(std::floor(w * o_.scale)));
    th = std::max(1, static_cast<int>(std::floor(h * o_.scale)));
  } else if (tw <= 0) {
    tw = ctx.width;
    th = ctx.height;
    if (tw <= 0 || th <= 0) throw std::invalid_argument("resize: no size given and the batch context has none");
  }
  if (!o_.letterbox) {
    s.image = resize_image(s.image, cv::Size(tw, th), o_.interp);
    finish_stretch(s, cv::Size(w, h));
    return;
  }
  const double k = std::min(double(tw) / w, double(th) / h);
  const int nw = std::clamp(static_cast<int>(std::lround(w * k)), 1, tw);
  const int nh = std::clamp(static_cast<int>(std::lround(h * k)), 1, th);
  const int left = (tw - nw) / 2, top = (th - nh) / 2;
  cv::Mat canvas(th, tw, s.image.type(), cv::Scalar::all(o_.pad));
  resize_image(s.image, cv::Size(nw, nh), o_.interp).copyTo(canvas(cv::Rect(left, top, nw, nh)));
  s.image = canvas;
  apply_geometry(s, cv::Matx33d(double(nw) / w, 0, left, 0, double(nh) / h, top, 0, 0, 1));
}

std::shared_ptr<const Transform> make_resize(const SpecArgs& a) {
  ResizeOptions o;
  if (a.positional.size() == 1 || a.positional.size() == 2) {
    o.width = static_cast<int>(a.positional_number(0, 1, 65536));
    o.height = a.positional.size() == 2 ? static_cast<int>(a.positional_number(1, 1, 65536)) : o.width;
    if (o.width != a.positional_number(0, 1, 65536)) a.fail("size must be an integer");
  }
  const bool context = !a.choice("size", "", {"context"}).empty();  // explicit form of the default
  o.scale = a.number("scale", 0, 1e-3, 64);
  if (context && (o.width > 0 || o.scale > 0)) a.fail("size=context excludes a size or scale=");
  if (o.width > 0 && o.scale > 0) a.fail("give a size or scale=, not both");
  o.interp = parse_interp(a.choice("interp", "bilinear", {"nearest", "bilinear", "bicubic", "area", "lanczos"}));
  o.letterbox = a.choice("mode", "stretch", {"stretch", "letterbox"}) == "letterbox";
  o.pad = static_cast<int>(a.number("pad", 114, 0, 255));
  a.finish(2);
  return std::make_shared<Resize>(o);
}

}  // namespace cvtk::augment
