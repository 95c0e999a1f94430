#include "augment/expand.h"

#include <cmath>

namespace cvtk::augment {

std::string Expand::describe() const {
  return "expand(p=" + format_number(o_.p) + ",max_ratio=" + format_number(o_.max_ratio) +
         ",fill=" + (o_.mean_fill ? "mean" : "zero") + ")";
}

void Expand::apply(Sample& s, Rng& rng, const Context&) const {
  if (!rng.bernoulli(o_.p)) return;
  const double r = rng.uniform(1, o_.max_ratio);
  const int w = s.image.cols, h = s.image.rows;
  const int nw = static_cast<int>(w * r), nh = static_cast<int>(h * r);
  const int left = static_cast<int>(rng.uniform(0, nw - w)), top = static_cast<int>(rng.uniform(0, nh - h));
  const cv::Scalar fill = o_.mean_fill ? cv::Scalar(124, 116, 104) : cv::Scalar::all(0);
  cv::Mat canvas(nh, nw, s.image.type(), fill);
  s.image.copyTo(canvas(cv::Rect(left, top, w, h)));
  s.image = canvas;
  apply_geometry(s, cv::Matx33d(1, 0, left, 0, 1, top, 0, 0, 1));
}

std::shared_ptr<const Transform> make_expand(const SpecArgs& a) {
  ExpandOptions o;
  o.p = a.number("p", o.p, 0, 1);
  o.max_ratio = a.number("max_ratio", o.max_ratio, 1, 16);
  o.mean_fill = a.choice("fill", "mean", {"mean", "zero"}) == "mean";
  a.finish();
  return std::make_shared<Expand>(o);
}

}  // namespace cvtk::augment
