#include "vision/image/decode.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vision/data/errors.h"
#include "vision/data/image_size.h"
#include "vision/image/jpeg.h"

namespace cvtk::image {
namespace {

bool is_jpeg(const std::vector<unsigned char>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

data::FormatError bad_image(const std::string& name, const std::string& problem) {
  return data::FormatError(name, "", "", problem, "unreadable_image");
}

// What every path checks before decoding: the container is whole (a truncated JPEG would be padded
// with grey, a damaged PNG makes libpng print on stderr) and the declared size is within the limit
// (the decoders allocate from it before reading a pixel).
void check_bytes(const std::vector<unsigned char>& bytes, const std::string& name) {
  const std::string problem = data::image_bytes_problem(bytes.data(), bytes.size());
  if (!problem.empty()) throw bad_image(name, problem);
  if (const auto size = data::read_image_size(bytes.data(), bytes.size())) data::check_image_pixels(name, *size);
}

std::vector<unsigned char> read_bytes(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw data::IoError(name + ": is a directory, expected an image file");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(name.c_str(), "rb"), &std::fclose);
  if (!f) throw data::IoError(name + ": cannot open image file: " + std::strerror(errno));
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

// The full decode of bytes that passed check_bytes.
DecodeResult decode_checked(const std::vector<unsigned char>& bytes, const std::string& name) {
  DecodeResult r;
  std::string problem;
  if (is_jpeg(bytes)) {
    jpeg::Status s = jpeg::decode_rgb(bytes.data(), bytes.size(), r.image, r.converted, problem);
    if (s == jpeg::Status::kDecoded) {
      r.source_size = r.image.size();
      return r;
    }
    // OpenCV would print libjpeg's warnings and return a papered-over image: it only gets clean data.
    if (s == jpeg::Status::kUnsupported) s = jpeg::validate(bytes.data(), bytes.size(), problem);
    if (s == jpeg::Status::kCorrupt) throw bad_image(name, "corrupt JPEG (libjpeg: " + problem + ")");
  }
  cv::Mat m;
  try {
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {  // its size guard, among others; e.what() spans lines
    throw bad_image(name, "cannot decode image (OpenCV: " + e.err + ")");
  }
  if (m.empty()) throw bad_image(name, "cannot decode image (corrupt or unsupported format)");
  data::check_image_pixels(name, data::ImageSize{m.cols, m.rows});  // formats whose header is not read

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
      throw bad_image(name, "unsupported pixel depth (OpenCV depth " + std::to_string(m.depth()) + ")");
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
      throw bad_image(name, "unsupported channel count " + std::to_string(m.channels()));
  }
  r.converted = what;
  r.source_size = r.image.size();
  return r;
}

}  // namespace

DecodeResult decode_image_bytes(const std::vector<unsigned char>& bytes, const std::string& name) {
  check_bytes(bytes, name);
  return decode_checked(bytes, name);
}

DecodeResult decode_image(const std::filesystem::path& file) {
  return decode_image_bytes(read_bytes(file), file.string());
}

DecodeResult decode_image_resized(const std::filesystem::path& file, cv::Size size) {
  if (size.width < 1 || size.height < 1)
    throw std::invalid_argument("decode_image_resized: bad size " + std::to_string(size.width) + "x" +
                                std::to_string(size.height));
  const std::vector<unsigned char> bytes = read_bytes(file);
  const std::string name = file.string();
  check_bytes(bytes, name);
  DecodeResult r;
  std::string problem;
  if (is_jpeg(bytes)) {
    const jpeg::Status s =
        jpeg::decode_resized(bytes.data(), bytes.size(), size, r.image, r.source_size, r.converted, problem);
    if (s == jpeg::Status::kDecoded) return r;
    if (s == jpeg::Status::kCorrupt) throw bad_image(name, "corrupt JPEG (libjpeg: " + problem + ")");
  }
  r = decode_checked(bytes, name);
  if (r.image.size() != size) cv::resize(r.image, r.image, size, 0, 0, cv::INTER_LINEAR);
  return r;
}

}  // namespace cvtk::image
