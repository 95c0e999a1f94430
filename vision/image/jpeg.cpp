#include "vision/image/jpeg.h"

#ifdef CVTK_HAVE_LIBJPEG

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>  // jpeglib.h uses FILE without including it
#include <vector>

#include <jpeglib.h>
#include <jerror.h>
#include <opencv2/imgproc.hpp>

namespace cvtk::image::jpeg {
namespace {

// libjpeg reports a fatal error through error_exit, which must not return. It jumps back to the
// setjmp of the step that was running; every step below is a function whose locals are trivially
// destructible, so the jump skips no destructor. Warnings that mean damaged data jump back the same
// way (emit_message may leave the library like error_exit), so a damaged image stops decoding at the
// first damage found; their text and error_exit's are kept in `problem`.
struct ErrorManager {
  jpeg_error_mgr mgr;  // first member: libjpeg hands back a pointer to it
  std::jmp_buf jump;
  char problem[JMSG_LENGTH_MAX];
};

[[noreturn]] void fail(j_common_ptr info) {
  auto* err = reinterpret_cast<ErrorManager*>(info->err);
  if (err->problem[0] == '\0') err->mgr.format_message(info, err->problem);
  std::longjmp(err->jump, 1);
}

void on_error(j_common_ptr info) { fail(info); }

// Warnings libjpeg gives for damaged data, after which it fills in what is missing; the others it
// warns about concern metadata.
bool damage_warning(int code) {
  switch (code) {
    case JWRN_ARITH_BAD_CODE:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
      return true;
    default:
      return false;
  }
}

// Level -1 is a warning; higher levels are trace messages, never shown.
void on_message(j_common_ptr info, int level) {
  if (level < 0 && damage_warning(info->err->msg_code)) fail(info);
}

bool create(jpeg_decompress_struct& info, ErrorManager& err) {
  if (setjmp(err.jump)) return false;
  jpeg_create_decompress(&info);
  return true;
}

bool read_header(jpeg_decompress_struct& info, ErrorManager& err, const unsigned char* data, size_t size) {
  if (setjmp(err.jump)) return false;
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  return jpeg_read_header(&info, TRUE) == JPEG_HEADER_OK;
}

bool calc_dimensions(jpeg_decompress_struct& info, ErrorManager& err) {
  if (setjmp(err.jump)) return false;
  jpeg_calc_output_dimensions(&info);
  return true;
}

bool read_rows(jpeg_decompress_struct& info, ErrorManager& err, unsigned char* dst, size_t step) {
  if (setjmp(err.jump)) return false;
  jpeg_start_decompress(&info);
  JSAMPROW rows[16];
  while (info.output_scanline < info.output_height) {
    const JDIMENSION y = info.output_scanline, n = std::min<JDIMENSION>(16, info.output_height - y);
    for (JDIMENSION k = 0; k < n; ++k) rows[k] = dst + (y + k) * step;
    jpeg_read_scanlines(&info, rows, n);
  }
  jpeg_finish_decompress(&info);
  return true;
}

// Every row into the same buffer of one row: the decode runs in full, the pixels are dropped.
bool discard_rows(jpeg_decompress_struct& info, ErrorManager& err, unsigned char* row) {
  if (setjmp(err.jump)) return false;
  jpeg_start_decompress(&info);
  JSAMPROW rows[1] = {row};
  while (info.output_scanline < info.output_height) jpeg_read_scanlines(&info, rows, 1);
  jpeg_finish_decompress(&info);
  return true;
}

// rows[c] points at every row of plane c; one call per iMCU row hands libjpeg the next slice of each.
bool read_planes(jpeg_decompress_struct& info, ErrorManager& err, JSAMPROW* const* rows, const int* rows_per_imcu) {
  if (setjmp(err.jump)) return false;
  jpeg_start_decompress(&info);
  const JDIMENSION lines = static_cast<JDIMENSION>(info.max_v_samp_factor * info.min_DCT_scaled_size);
  JSAMPARRAY slices[MAX_COMPONENTS];
  while (info.output_scanline < info.output_height) {
    const JDIMENSION imcu = info.output_scanline / lines;
    for (int c = 0; c < info.num_components; ++c)
      slices[c] = rows[c] + imcu * static_cast<JDIMENSION>(rows_per_imcu[c]);
    if (jpeg_read_raw_data(&info, slices, lines) == 0) return false;
  }
  jpeg_finish_decompress(&info);
  return true;
}

class Decompressor {
 public:
  Decompressor() {
    info_.err = jpeg_std_error(&err_.mgr);
    err_.mgr.error_exit = on_error;
    err_.mgr.emit_message = on_message;
    created_ = create(info_, err_);
  }
  ~Decompressor() {
    if (created_) jpeg_destroy_decompress(&info_);
  }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  // Reads the header. kUnsupported for a stream whose RGB form we do not produce (see jpeg.h) unless
  // any_colour_space.
  Status open(const unsigned char* data, size_t size, std::string& converted, std::string& problem,
              bool any_colour_space = false) {
    if (!created_) return Status::kUnsupported;
    if (!read_header(info_, err_, data, size)) return failed(problem);
    if (any_colour_space) return Status::kDecoded;
    if (info_.num_components == 3 && (info_.jpeg_color_space == JCS_YCbCr || info_.jpeg_color_space == JCS_RGB)) {
      converted.clear();
      return Status::kDecoded;
    }
    if (info_.num_components == 1 && info_.jpeg_color_space == JCS_GRAYSCALE) {
      converted = "grayscale -> RGB";  // the wording of decode.cpp's OpenCV path
      return Status::kDecoded;
    }
    return Status::kUnsupported;
  }
  // What a step that returned false leaves: damage when libjpeg named some, else a job for another path.
  Status failed(std::string& problem) const {
    if (err_.problem[0] == '\0') return Status::kUnsupported;
    problem = err_.problem;
    return Status::kCorrupt;
  }
  jpeg_decompress_struct& info() { return info_; }
  ErrorManager& err() { return err_; }

 private:
  jpeg_decompress_struct info_{};
  ErrorManager err_{};
  bool created_ = false;
};

// Bilinear resampling of a plane whose width already is the target's (chroma planes of 4:2:0 and 4:2:2
// at their usual targets): rows only, with the half-pixel-centre rule of cv::resize and 8-bit weights,
// a vectorisable blend of two rows. cv::resize spends most of its time on the identity column pass.
void resample_rows(const cv::Mat& src, cv::Mat& dst, int height) {
  dst.create(height, src.cols, CV_8U);
  const double scale = static_cast<double>(src.rows) / height;
  const int n = src.cols;  // a local: stores through uchar* may alias src.cols and would reload it
  for (int y = 0; y < height; ++y) {
    const double f = (y + 0.5) * scale - 0.5;
    int y0 = static_cast<int>(std::floor(f));
    double t = f - y0;
    if (y0 < 0) y0 = 0, t = 0;
    if (y0 >= src.rows - 1) y0 = src.rows - 1, t = 0;
    const int y1 = std::min(y0 + 1, src.rows - 1);
    // 16-bit sums (at most 255 * 256 + 128) let the compiler use 16-bit vector multiplies.
    const uint16_t b = static_cast<uint16_t>(std::lround(t * 256)), a = static_cast<uint16_t>(256 - b);
    const uchar *r0 = src.ptr<uchar>(y0), *r1 = src.ptr<uchar>(y1);
    uchar* o = dst.ptr<uchar>(y);
    for (int x = 0; x < n; ++x) {
      const uint16_t v = static_cast<uint16_t>(uint16_t(r0[x] * a) + uint16_t(r1[x] * b) + 128);
      o[x] = static_cast<uchar>(v >> 8);
    }
  }
}

// Whether every plane, as libjpeg lays it out for the current scale, covers the image exactly: plane
// c holds width * h_c * s_c / (h_max * 8) samples with no partial one at the right or bottom edge.
bool planes_tile_exactly(const jpeg_decompress_struct& info) {
  const long w = info.image_width, h = info.image_height;
  for (int c = 0; c < info.num_components; ++c) {
    const jpeg_component_info& p = info.comp_info[c];
    const long nx = w * p.h_samp_factor * p.DCT_scaled_size, dx = long(info.max_h_samp_factor) * DCTSIZE;
    const long ny = h * p.v_samp_factor * p.DCT_scaled_size, dy = long(info.max_v_samp_factor) * DCTSIZE;
    if (nx % dx != 0 || ny % dy != 0) return false;
    if (long(p.downsampled_width) != nx / dx || long(p.downsampled_height) != ny / dy) return false;
  }
  return true;
}

}  // namespace

Status decode_rgb(const unsigned char* data, size_t size, cv::Mat& rgb, std::string& converted, std::string& problem) {
  Decompressor d;
  if (const Status s = d.open(data, size, converted, problem); s != Status::kDecoded) return s;
  jpeg_decompress_struct& info = d.info();
  info.out_color_space = JCS_RGB;
  cv::Mat out(static_cast<int>(info.image_height), static_cast<int>(info.image_width), CV_8UC3);
  if (!read_rows(info, d.err(), out.data, out.step)) return d.failed(problem);
  if (out.rows != static_cast<int>(info.output_height) || out.cols != static_cast<int>(info.output_width))
    return Status::kUnsupported;
  rgb = out;
  return Status::kDecoded;
}

Status validate(const unsigned char* data, size_t size, std::string& problem) {
  Decompressor d;
  std::string unused;
  if (const Status s = d.open(data, size, unused, problem, true); s != Status::kDecoded) return s;
  jpeg_decompress_struct& info = d.info();
  if (!calc_dimensions(info, d.err())) return d.failed(problem);
  std::vector<unsigned char> row(static_cast<size_t>(info.output_width) * static_cast<size_t>(info.output_components));
  if (!discard_rows(info, d.err(), row.data())) return d.failed(problem);
  return Status::kDecoded;
}

Status decode_resized(const unsigned char* data, size_t size, cv::Size target, cv::Mat& rgb, cv::Size& source,
                      std::string& converted, std::string& problem) {
  if (target.width < 1 || target.height < 1) return Status::kUnsupported;
  Decompressor d;
  if (const Status s = d.open(data, size, converted, problem); s != Status::kDecoded) return s;
  jpeg_decompress_struct& info = d.info();
  // Full-range JFIF YCbCr is what the conversion below undoes; RGB-coded streams take the plain path.
  if (info.num_components == 3 && info.jpeg_color_space != JCS_YCbCr) return Status::kUnsupported;
  const long w = info.image_width, h = info.image_height;
  info.raw_data_out = TRUE;
  bool ready = false;
  for (int n : {1, 2, 4, 8}) {
    // Scaling may only shrink towards target, never below it: a smaller plane would be upsampled.
    if (n < 8 && (w * n < 8L * target.width || h * n < 8L * target.height)) continue;
    info.scale_num = static_cast<unsigned>(n);
    info.scale_denom = 8;
    if (!calc_dimensions(info, d.err())) return d.failed(problem);
    if (planes_tile_exactly(info)) {
      ready = true;
      break;
    }
  }
  if (!ready) return Status::kUnsupported;

  const int nc = info.num_components;
  const int imcu_cols =
      static_cast<int>((w + info.max_h_samp_factor * DCTSIZE - 1) / (info.max_h_samp_factor * DCTSIZE));
  // Per-thread buffers, kept between images (about 0.6 MB a thread for 640x480): fresh ones would
  // cost page faults on every image, the luma plane alone being above malloc's mmap threshold.
  thread_local cv::Mat planes[MAX_COMPONENTS], resized[3], ycrcb;
  thread_local std::vector<JSAMPROW> rows[MAX_COMPONENTS];
  JSAMPROW* row_tables[MAX_COMPONENTS];
  int rows_per_imcu[MAX_COMPONENTS];
  cv::Rect valid[MAX_COMPONENTS];  // comp_info lives in libjpeg's image pool, freed by finish_decompress
  for (int c = 0; c < nc; ++c) {
    const jpeg_component_info& p = info.comp_info[c];
    valid[c] = cv::Rect(0, 0, static_cast<int>(p.downsampled_width), static_cast<int>(p.downsampled_height));
    rows_per_imcu[c] = p.v_samp_factor * p.DCT_scaled_size;
    // libjpeg writes whole blocks, so the buffers are padded to whole iMCUs.
    planes[c].create(static_cast<int>(info.total_iMCU_rows) * rows_per_imcu[c],
                     imcu_cols * p.h_samp_factor * p.DCT_scaled_size, CV_8U);
    rows[c].clear();
    for (int r = 0; r < planes[c].rows; ++r) rows[c].push_back(planes[c].ptr<uchar>(r));
    row_tables[c] = rows[c].data();
  }
  if (!read_planes(info, d.err(), row_tables, rows_per_imcu)) return d.failed(problem);

  // Resampling plane c to target with half-pixel centres puts target pixel x at plane coordinate
  // (x + 0.5) * plane_width / target.width - 0.5, which is the stored position (x + 0.5) * w /
  // target.width seen in plane samples, because the plane spans exactly the w stored pixels.
  // The planes go in OpenCV's YCrCb order, for its vectorised conversion (JFIF's full-range
  // equations, to within 0.1% in the coefficients).
  for (int c = 0; c < nc; ++c) {
    const cv::Mat plane = planes[c](valid[c]);
    cv::Mat& out = resized[c == 0 ? 0 : 3 - c];
    if (plane.size() == target)
      plane.copyTo(out);  // never a view: `out` outlives this image's planes
    else if (plane.cols == target.width)
      resample_rows(plane, out, target.height);
    else
      cv::resize(plane, out, target, 0, 0, cv::INTER_LINEAR);
  }
  if (nc == 3) {
    cv::merge(resized, 3, ycrcb);
    cv::cvtColor(ycrcb, rgb, cv::COLOR_YCrCb2RGB);
  } else {
    cv::cvtColor(resized[0], rgb, cv::COLOR_GRAY2RGB);
  }
  source = cv::Size(static_cast<int>(w), static_cast<int>(h));
  return Status::kDecoded;
}

}  // namespace cvtk::image::jpeg

#else  // no libjpeg at build time: callers use OpenCV

namespace cvtk::image::jpeg {
Status decode_rgb(const unsigned char*, size_t, cv::Mat&, std::string&, std::string&) { return Status::kUnsupported; }
Status validate(const unsigned char*, size_t, std::string&) { return Status::kUnsupported; }
Status decode_resized(const unsigned char*, size_t, cv::Size, cv::Mat&, cv::Size&, std::string&, std::string&) {
  return Status::kUnsupported;
}
}  // namespace cvtk::image::jpeg

#endif
