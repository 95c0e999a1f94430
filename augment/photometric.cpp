#include "augment/photometric.h"

#include <cmath>

namespace cvtk::augment {
namespace {
// NTSC RGB -> YIQ.
const cv::Matx33d kRgbToYiq(0.299, 0.587, 0.114, 0.595716, -0.274453, -0.321263, 0.211456, -0.522591, 0.311135);
}  // namespace

cv::Matx34f colour_matrix(double brightness, double contrast, double saturation, double hue_degrees) {
  const double t = hue_degrees * CV_PI / 180.0, c = std::cos(t), s = std::sin(t);
  const cv::Matx33d chroma(1, 0, 0, 0, saturation * c, -saturation * s, 0, saturation * s, saturation * c);
  const cv::Matx33d m = contrast * (kRgbToYiq.inv() * chroma * kRgbToYiq);
  // rgb' = m (rgb + brightness)
  const cv::Vec3d b = m * cv::Vec3d(brightness, brightness, brightness);
  cv::Matx34f out;
  for (int r = 0; r < 3; ++r) {
    for (int k = 0; k < 3; ++k) out(r, k) = static_cast<float>(m(r, k));
    out(r, 3) = static_cast<float>(b[r]);
  }
  return out;
}

std::string Photometric::describe() const {
  return "photometric(p=" + format_number(o_.p) + ",brightness=" + format_number(o_.brightness) +
         ",contrast=" + format_number(o_.contrast) + ",saturation=" + format_number(o_.saturation) +
         ",hue=" + format_number(o_.hue) + ")";
}

void Photometric::apply(Sample& s, Rng& rng, const Context&) const {
  // Always draw the same number of values, so later transforms see the same stream.
  const bool fb = rng.bernoulli(o_.p), fc = rng.bernoulli(o_.p), fs = rng.bernoulli(o_.p), fh = rng.bernoulli(o_.p);
  const double delta = rng.uniform(-o_.brightness, o_.brightness);
  const double alpha = rng.uniform(1 - o_.contrast, 1 + o_.contrast);
  const double sat = rng.uniform(1 - o_.saturation, 1 + o_.saturation);
  const double hue = rng.uniform(-o_.hue, o_.hue);
  if (!(fb || fc || fs || fh)) return;
  const cv::Matx34f m = colour_matrix(fb ? delta : 0, fc ? alpha : 1, fs ? sat : 1, fh ? hue : 0);
  cv::transform(s.image, s.image, m);  // in place, like hflip and erase: no fresh image to fault in
}

std::shared_ptr<const Transform> make_photometric(const SpecArgs& a) {
  PhotometricOptions o;
  o.p = a.number("p", o.p, 0, 1);
  o.brightness = a.number("brightness", o.brightness, 0, 255);
  o.contrast = a.number("contrast", o.contrast, 0, 1);
  o.saturation = a.number("saturation", o.saturation, 0, 1);
  o.hue = a.number("hue", o.hue, 0, 180);
  a.finish();
  return std::make_shared<Photometric>(o);
}

}  // namespace cvtk::augment
