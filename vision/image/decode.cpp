#include "vision/image/decode.h"

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vision/data/errors.h"
#include "vision/image/jpeg.h"

namespace cvtk::image {
namespace {

// A JPEG stream ends with the EOI marker FF D9; encoders may append a few padding bytes after it.
bool jpeg_truncated(const std::vector<unsigned char>& b) {
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) return false;  // not a JPEG
  const size_t stop = b.size() > 1024 ? b.size() - 1024 : 1;
  for (size_t i = b.size() - 1; i >= stop; --i)
    if (b[i - 1] == 0xFF && b[i] == 0xD9) return false;
  return true;
}

bool is_jpeg(const std::vector<unsigned char>& b) { return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF; }

void check_bytes(const std::vector<unsigned char>& bytes, const std::string& name) {
  if (bytes.empty()) throw data::FormatError(name, "", "", "empty image file");
  if (jpeg_truncated(bytes)) throw data::FormatError(name, "", "", "truncated JPEG (no end-of-image marker)");
}

std::vector<unsigned char> read_bytes(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(name.c_str(), "rb"), &std::fclose);
  if (!f) throw data::IoError(name + ": cannot open image file");
  std::vector<unsigned char> bytes;
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    const long n = std::ftell(f.get());
    if (n > 0) bytes.resize(static_cast<size_t>(n));
    std::fseek(f.get(), 0, SEEK_SET);
  }
  if (!bytes.empty() && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
    throw data::IoError(name + ": cannot read image file");
  return bytes;
}

}  // namespace

DecodeResult decode_image_bytes(const std::vector<unsigned char>& bytes, const std::string& name) {
  check_bytes(bytes, name);
  DecodeResult r;
  if (is_jpeg(bytes) && jpeg::decode_rgb(bytes.data(), bytes.size(), r.image, r.converted)) {
    r.source_size = r.image.size();
    return r;
  }
  cv::Mat m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  if (m.empty()) throw data::FormatError(name, "", "", "cannot decode image (corrupt or unsupported format)");

  std::string what;
  switch (m.depth()) {
    case CV_8U:
      break;
    case CV_16U:
      m.convertTo(m, CV_8U, 1.0 / 257.0);
      what = "16-bit -> 8-bit";
      break;
    case CV_32F:
      m.convertTo(m, CV_8U, 255.0);  // float images are taken to hold values in [0, 1]
      what = "float -> 8-bit";
      break;
    default:
      throw data::FormatError(name, "", "", "unsupported pixel depth (OpenCV depth " + std::to_string(m.depth()) + ")");
  }
  auto add = [&](const std::string& s) { what += (what.empty() ? "" : ", ") + s; };
  switch (m.channels()) {
    case 1:
      cv::cvtColor(m, r.image, cv::COLOR_GRAY2RGB);
      add("grayscale -> RGB");
      break;
    case 3:
      cv::cvtColor(m, r.image, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(m, r.image, cv::COLOR_BGRA2RGB);
      add("4-channel -> RGB (alpha dropped)");
      break;
    default:
      throw data::FormatError(name, "", "", "unsupported channel count " + std::to_string(m.channels()));
  }
  r.converted = what;
  r.source_size = r.image.size();
  return r;
}

DecodeResult decode_image(const std::filesystem::path& file) { return decode_image_bytes(read_bytes(file), file.string()); }

DecodeResult decode_image_resized(const std::filesystem::path& file, cv::Size size) {
  if (size.width < 1 || size.height < 1)
    throw std::invalid_argument("decode_image_resized: bad size " + std::to_string(size.width) + "x" +
                                std::to_string(size.height));
  const std::vector<unsigned char> bytes = read_bytes(file);
  const std::string name = file.string();
  check_bytes(bytes, name);
  DecodeResult r;
  if (is_jpeg(bytes) && jpeg::decode_resized(bytes.data(), bytes.size(), size, r.image, r.source_size, r.converted))
    return r;
  r = decode_image_bytes(bytes, name);
  if (r.image.size() != size) cv::resize(r.image, r.image, size, 0, 0, cv::INTER_LINEAR);
  return r;
}

}  // namespace cvtk::image
