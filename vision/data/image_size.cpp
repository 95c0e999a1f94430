#include "vision/data/image_size.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <opencv2/imgcodecs.hpp>

#include "vision/data/errors.h"

namespace cvtk::data {
namespace {

std::atomic<uint64_t> g_max_pixels{kDefaultMaxImagePixels};

// Random access to the bytes of a file or of a buffer; reads past the end fail.
class Source {
 public:
  virtual ~Source() = default;
  virtual bool read(uint64_t offset, unsigned char* dst, size_t n) = 0;
};

class MemorySource : public Source {
 public:
  MemorySource(const unsigned char* data, size_t size) : data_(data), size_(size) {}
  bool read(uint64_t offset, unsigned char* dst, size_t n) override {
    if (offset > size_ || n > size_ - offset) return false;
    std::memcpy(dst, data_ + offset, n);
    return true;
  }

 private:
  const unsigned char* data_;
  size_t size_;
};

class FileSource : public Source {
 public:
  explicit FileSource(std::FILE* f) : f_(f) {}
  bool read(uint64_t offset, unsigned char* dst, size_t n) override {
    if (offset > static_cast<uint64_t>(LONG_MAX) || std::fseek(f_, static_cast<long>(offset), SEEK_SET) != 0)
      return false;
    return std::fread(dst, 1, n, f_) == n;
  }

 private:
  std::FILE* f_;
};

struct File {
  std::FILE* f;
  ~File() {
    if (f) std::fclose(f);
  }
};

uint32_t be16(const unsigned char* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t be32(const unsigned char* p) { return (be16(p) << 16) | be16(p + 2); }
uint32_t le16(const unsigned char* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
uint32_t le24(const unsigned char* p) { return le16(p) | (uint32_t(p[2]) << 16); }
uint32_t le32(const unsigned char* p) { return le16(p) | (le16(p + 2) << 16); }

std::optional<ImageSize> make_size(int64_t w, int64_t h) {
  if (w <= 0 || h <= 0 || w > INT_MAX || h > INT_MAX) return std::nullopt;
  return ImageSize{static_cast<int>(w), static_cast<int>(h)};
}

bool is_sof(int marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks the marker segments after SOI until the start-of-frame segment, which holds the dimensions.
std::optional<ImageSize> jpeg_size(Source& src) {
  uint64_t pos = 2;
  unsigned char b[8];
  for (int segments = 0; segments < 100000; ++segments) {
    if (!src.read(pos, b, 1)) return std::nullopt;
    if (b[0] != 0xFF) {  // stray bytes between segments: libjpeg skips them too
      ++pos;
      continue;
    }
    do {
      if (!src.read(++pos, b, 1)) return std::nullopt;
    } while (b[0] == 0xFF);
    const int marker = b[0];
    ++pos;
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9 || marker == 0xDA || marker == 0x00) return std::nullopt;  // no frame header before the data
    if (!src.read(pos, b, 2)) return std::nullopt;
    const uint32_t length = be16(b);
    if (length < 2) return std::nullopt;
    if (is_sof(marker)) {
      if (!src.read(pos + 2, b, 5)) return std::nullopt;
      return make_size(be16(b + 3), be16(b + 1));
    }
    pos += length;
  }
  return std::nullopt;
}

std::optional<ImageSize> tiff_size(Source& src, bool little) {
  unsigned char b[12];
  auto u16 = [&](const unsigned char* p) { return little ? le16(p) : be16(p); };
  auto u32 = [&](const unsigned char* p) { return little ? le32(p) : be32(p); };
  if (!src.read(4, b, 4)) return std::nullopt;
  const uint64_t ifd = u32(b);
  if (!src.read(ifd, b, 2)) return std::nullopt;
  const uint32_t count = u16(b);
  int64_t w = 0, h = 0;
  for (uint32_t k = 0; k < count && (w == 0 || h == 0); ++k) {
    if (!src.read(ifd + 2 + 12 * uint64_t(k), b, 12)) return std::nullopt;
    const uint32_t tag = u16(b), type = u16(b + 2);
    if (tag != 256 && tag != 257) continue;
    const int64_t v = type == 3 ? u16(b + 8) : type == 4 ? u32(b + 8) : 0;  // SHORT or LONG, left-justified
    (tag == 256 ? w : h) = v;
  }
  return make_size(w, h);
}

std::optional<ImageSize> size_from(Source& src) {
  unsigned char h[32] = {};
  if (!src.read(0, h, 4)) return std::nullopt;
  if (h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return jpeg_size(src);
  if (h[0] == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G') {
    if (!src.read(0, h, 24) || std::memcmp(h + 12, "IHDR", 4) != 0) return std::nullopt;
    return make_size(be32(h + 16), be32(h + 20));
  }
  if (h[0] == 'B' && h[1] == 'M') {
    if (!src.read(0, h, 26)) return std::nullopt;
    if (le32(h + 14) == 12) return make_size(le16(h + 18), le16(h + 20));  // OS/2 BITMAPCOREHEADER
    const int64_t height = static_cast<int32_t>(le32(h + 22));             // negative: stored top-down
    return make_size(static_cast<int32_t>(le32(h + 18)), height < 0 ? -height : height);
  }
  if ((h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0) ||
      (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42))
    return tiff_size(src, h[0] == 'I');
  if (std::memcmp(h, "RIFF", 4) == 0) {
    if (!src.read(0, h, 30) || std::memcmp(h + 8, "WEBP", 4) != 0) return std::nullopt;
    if (std::memcmp(h + 12, "VP8X", 4) == 0) return make_size(le24(h + 24) + 1, le24(h + 27) + 1);
    if (std::memcmp(h + 12, "VP8L", 4) == 0) {
      if (h[20] != 0x2F) return std::nullopt;
      const uint32_t bits = le32(h + 21);
      return make_size((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    }
    if (std::memcmp(h + 12, "VP8 ", 4) == 0) {
      if (h[23] != 0x9D || h[24] != 0x01 || h[25] != 0x2A) return std::nullopt;
      return make_size(le16(h + 26) & 0x3FFF, le16(h + 28) & 0x3FFF);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

bool known_magic(const unsigned char* h, size_t n) {
  if (n < 4) return false;
  return (h[0] == 0xFF && h[1] == 0xD8) || (h[0] == 0x89 && h[1] == 'P') || (h[0] == 'B' && h[1] == 'M') ||
         (h[0] == 'I' && h[1] == 'I' && h[2] == 42) || (h[0] == 'M' && h[1] == 'M' && h[3] == 42) ||
         std::memcmp(h, "RIFF", 4) == 0;
}

// CRC-32 (ISO-HDLC, as PNG uses), eight bytes per step.
class Crc32 {
 public:
  Crc32() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t_[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t_[s][i] = (t_[s - 1][i] >> 8) ^ t_[0][t_[s - 1][i] & 0xFF];
  }
  uint32_t operator()(const unsigned char* p, size_t n) const {
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; n -= 8, p += 8) {
      const uint32_t a = c ^ le32(p), b = le32(p + 4);
      c = t_[7][a & 0xFF] ^ t_[6][(a >> 8) & 0xFF] ^ t_[5][(a >> 16) & 0xFF] ^ t_[4][a >> 24] ^ t_[3][b & 0xFF] ^
          t_[2][(b >> 8) & 0xFF] ^ t_[1][(b >> 16) & 0xFF] ^ t_[0][b >> 24];
    }
    for (; n > 0; --n, ++p) c = t_[0][(c ^ *p) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
  }

 private:
  uint32_t t_[8][256];
};

// Whether the marker walk reaches EOI: segments by their lengths, entropy-coded data up to the first
// byte pair that is a marker (FF followed by neither 00, a fill FF, nor a restart marker).
bool jpeg_reaches_eoi(const unsigned char* b, size_t n) {
  size_t i = 2;
  for (;;) {
    const void* ff = i < n ? std::memchr(b + i, 0xFF, n - i) : nullptr;  // stray bytes are skipped
    if (!ff) return false;
    i = static_cast<size_t>(static_cast<const unsigned char*>(ff) - b);
    while (i < n && b[i] == 0xFF) ++i;
    if (i >= n) return false;
    const int marker = b[i++];
    if (marker == 0xD9) return true;
    if (marker == 0xD8 || marker == 0x01 || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (i + 2 > n) return false;
    const size_t length = be16(b + i);
    if (length < 2 || i + length > n) return false;
    i += length;
    if (marker != 0xDA) continue;
    for (;;) {  // entropy-coded data after SOS
      const void* next = i < n ? std::memchr(b + i, 0xFF, n - i) : nullptr;
      if (!next) return false;
      i = static_cast<size_t>(static_cast<const unsigned char*>(next) - b);
      if (i + 1 >= n) return false;
      const int m = b[i + 1];
      if (m == 0x00 || (m >= 0xD0 && m <= 0xD7)) {
        i += 2;
      } else if (m == 0xFF) {
        ++i;
      } else {
        break;
      }
    }
  }
}

std::string png_problem(const unsigned char* b, size_t n) {
  static const Crc32 crc;
  size_t i = 8;
  for (;;) {
    if (i + 12 > n) return "truncated PNG: the data ends before the IEND chunk";
    const uint64_t length = be32(b + i);
    if (length > 0x7FFFFFFFu) return "corrupt PNG: bad chunk length at byte " + std::to_string(i);
    if (i + 12 + length > n) return "truncated PNG: the data ends inside a chunk, before the IEND chunk";
    const std::string type(reinterpret_cast<const char*>(b + i + 4), 4);
    if (crc(b + i + 4, 4 + length) != be32(b + i + 8 + length))
      return "corrupt PNG: checksum mismatch in chunk " + quote(type) + " at byte " + std::to_string(i);
    if (type == "IEND") return "";
    i += 12 + length;
  }
}

}  // namespace

std::optional<ImageSize> read_image_size(const unsigned char* data, size_t size) {
  MemorySource src(data, size);
  return size_from(src);
}

std::optional<ImageSize> read_image_size(const std::filesystem::path& file) {
  File h{std::fopen(file.c_str(), "rb")};
  if (!h.f) return std::nullopt;
  unsigned char head[4] = {};
  const size_t n = std::fread(head, 1, sizeof head, h.f);
  FileSource src(h.f);
  if (known_magic(head, n)) return size_from(src);
  if (n == 0) return std::nullopt;
  // Formats whose headers are not parsed here (PNM, EXR, JPEG 2000...): OpenCV decodes the whole
  // image, after its own size guard (2^30 pixels).
  try {
    cv::Mat m = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
    if (m.empty()) return std::nullopt;
    return ImageSize{m.cols, m.rows};
  } catch (const cv::Exception&) {
    return std::nullopt;
  }
}

void set_max_image_pixels(uint64_t pixels) { g_max_pixels.store(pixels, std::memory_order_relaxed); }

uint64_t max_image_pixels() { return g_max_pixels.load(std::memory_order_relaxed); }

void check_image_pixels(const std::string& file, ImageSize size) {
  const uint64_t limit = max_image_pixels();
  const uint64_t pixels = uint64_t(size.width) * uint64_t(size.height);
  if (limit == 0 || pixels <= limit) return;
  throw FormatError(file, "", "",
                    "image is " + std::to_string(size.width) + "x" + std::to_string(size.height) + " (" +
                        std::to_string(pixels) + " pixels), above the limit of " + std::to_string(limit) +
                        " pixels (--max-pixels)",
                    "image_too_large");
}

ImageSize checked_image_size(const std::filesystem::path& file) {
  const std::string name = file.string();
  {
    File h{std::fopen(file.c_str(), "rb")};
    if (!h.f) throw IoError(name + ": cannot open the image file: " + std::strerror(errno));
    unsigned char byte;
    if (std::fread(&byte, 1, 1, h.f) != 1)
      throw FormatError(name, "", "", "empty image file (0 bytes)", "unreadable_image");
  }
  const auto size = read_image_size(file);
  if (!size)
    throw FormatError(name, "", "", "not an image cvtk can read (unknown format, or a damaged or cut-off header)",
                      "unreadable_image");
  check_image_pixels(name, *size);
  return *size;
}

std::string image_bytes_problem(const unsigned char* data, size_t size) {
  if (size == 0) return "empty image file (0 bytes)";
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF && !jpeg_reaches_eoi(data, size))
    return "truncated JPEG: the data ends before the end-of-image marker";
  if (size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) return png_problem(data, size);
  return "";
}

}  // namespace cvtk::data
