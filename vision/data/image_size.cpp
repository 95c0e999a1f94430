#include "vision/data/image_size.h"

#include <cstdio>
#include <cstdint>
#include <opencv2/imgcodecs.hpp>

namespace cvtk::data {
namespace {

struct File {
  std::FILE* f;
  ~File() {
    if (f) std::fclose(f);
  }
};

int get_byte(std::FILE* f) { return std::fgetc(f); }

std::optional<ImageSize> jpeg_size(std::FILE* f) {
  // Walk the marker segments until a start-of-frame marker, which holds the dimensions.
  for (;;) {
    int c = get_byte(f);
    while (c != 0xFF && c != EOF) c = get_byte(f);
    while (c == 0xFF) c = get_byte(f);
    if (c == EOF) return std::nullopt;
    const int marker = c;
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;
    const int hi = get_byte(f), lo = get_byte(f);
    if (hi == EOF || lo == EOF) return std::nullopt;
    const int length = (hi << 8) | lo;
    if (length < 2) return std::nullopt;
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      unsigned char b[5];
      if (std::fread(b, 1, 5, f) != 5) return std::nullopt;
      ImageSize s{(b[3] << 8) | b[4], (b[1] << 8) | b[2]};
      if (s.width <= 0 || s.height <= 0) return std::nullopt;
      return s;
    }
    if (std::fseek(f, length - 2, SEEK_CUR) != 0) return std::nullopt;
  }
}

}  // namespace

std::optional<ImageSize> read_image_size(const std::filesystem::path& file) {
  File h{std::fopen(file.c_str(), "rb")};
  if (!h.f) return std::nullopt;
  unsigned char head[26] = {};
  const size_t n = std::fread(head, 1, sizeof head, h.f);
  if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8) {
    std::fseek(h.f, 2, SEEK_SET);
    return jpeg_size(h.f);
  }
  if (n >= 24 && head[0] == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G') {
    auto be32 = [&](int o) {
      return static_cast<int>((uint32_t(head[o]) << 24) | (uint32_t(head[o + 1]) << 16) |
                              (uint32_t(head[o + 2]) << 8) | uint32_t(head[o + 3]));
    };
    return ImageSize{be32(16), be32(20)};
  }
  if (n >= 26 && head[0] == 'B' && head[1] == 'M') {
    auto le32 = [&](int o) {
      return static_cast<int32_t>(uint32_t(head[o]) | (uint32_t(head[o + 1]) << 8) |
                                  (uint32_t(head[o + 2]) << 16) | (uint32_t(head[o + 3]) << 24));
    };
    const int w = le32(18), hgt = le32(22);
    return ImageSize{w, hgt < 0 ? -hgt : hgt};
  }
  cv::Mat m = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  if (m.empty()) return std::nullopt;
  return ImageSize{m.cols, m.rows};
}

}  // namespace cvtk::data
