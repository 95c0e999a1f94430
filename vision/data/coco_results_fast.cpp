#include "vision/data/coco_results_fast.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace cvtk::data::detail {
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);
// Below this a file is read by one thread: splitting costs more than it saves.
constexpr size_t kMinStretch = size_t(4) << 20;
// Parsed bytes are dropped from the resident set in steps of this size, so a large file does not stay
// resident while the detections are built beside it.
constexpr size_t kReleaseStep = size_t(8) << 20;
// Nesting of unknown members the fast path follows; deeper ones go to the general reader.
constexpr int kMaxDepth = 64;

// The file mapped read-only; empty when it cannot be (a pipe, an empty file): the general reader then
// reads it and reports why.
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const char*>(p);
        size_ = static_cast<size_t>(st.st_size);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  // Drops the whole pages inside [from, to) from the resident set (they read back from the file if
  // touched again, so this never changes what is read).
  void release(const char* from, const char* to) const {
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t a = (reinterpret_cast<uintptr_t>(from) + page - 1) & ~(page - 1);
    const uintptr_t b = reinterpret_cast<uintptr_t>(to) & ~(page - 1);
    if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
  }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// Ground-truth lookups by the ids a results file uses, built once and shared by the threads. Duplicate
// ids keep their first image or class, as the general reader's maps do.
struct Lookups {
  std::unordered_map<int64_t, size_t> image_of_id;
  std::vector<int> label_of_small_category;  // category id -> label for ids in [0, size)
  std::unordered_map<int64_t, int> label_of_category;

  explicit Lookups(const Dataset& gt) {
    image_of_id.reserve(gt.images.size() * 2);
    for (size_t i = 0; i < gt.images.size(); ++i) image_of_id.emplace(gt.images[i].id, i);
    for (size_t k = 0; k < gt.classes.size(); ++k) {
      const int64_t id = gt.category_id(static_cast<int>(k));
      label_of_category.emplace(id, static_cast<int>(k));
      if (id >= 0 && id < 65536) {
        if (label_of_small_category.size() <= static_cast<size_t>(id))
          label_of_small_category.resize(static_cast<size_t>(id) + 1, -1);
        if (label_of_small_category[id] < 0) label_of_small_category[id] = static_cast<int>(k);
      }
    }
  }
  int label(int64_t category_id) const {
    if (category_id >= 0 && static_cast<uint64_t>(category_id) < label_of_small_category.size())
      return label_of_small_category[category_id];
    const auto it = label_of_category.find(category_id);
    return it == label_of_category.end() ? -1 : it->second;
  }
};

// A JSON number token as the general reader types it: a 64-bit signed integer, an unsigned one that
// only fits 64 bits unsigned, or a double.
struct Number {
  enum Kind { kInt, kUint, kDouble } kind = kInt;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
};

// What one element of the array holds, before the ground truth is consulted.
struct Element {
  Number image_id, category_id, score;
  Number bbox[4];
  bool has_image = false, has_category = false, has_bbox = false, has_score = false;
};

class Parser {
 public:
  Parser(const char* begin, const char* end) : p_(begin), end_(end) {}
  const char* position() const { return p_; }

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool at_end() const { return p_ == end_; }

  // A string without escapes, control characters or non-ASCII bytes.
  bool string(std::string_view& out) {
    if (!eat('"')) return false;
    const char* b = p_;
    while (p_ < end_ && *p_ != '"') {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    out = std::string_view(b, static_cast<size_t>(p_ - b));
    ++p_;
    return true;
  }

  bool number(Number& n);
  bool element(Element& e);
  bool skip_value(int depth);

 private:
  bool member_value(std::string_view key, Element& e);

  const char* p_;
  const char* end_;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool Parser::number(Number& n) {
  const char* b = p_;
  const bool negative = eat('-');
  const char* digits = p_;
  if (p_ == end_ || !is_digit(*p_)) return false;
  if (*p_ == '0') {
    ++p_;
  } else {
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  const char* int_end = p_;
  bool integer = true;
  if (p_ < end_ && *p_ == '.') {
    integer = false;
    ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    integer = false;
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    while (p_ < end_ && is_digit(*p_)) ++p_;
  }
  if (integer) {
    uint64_t v = 0;
    for (const char* q = digits; q < int_end; ++q)
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, static_cast<uint64_t>(*q - '0'), &v))
        return false;  // beyond 64 bits: the general reader rejects it
    if (negative) {
      if (v > (uint64_t(1) << 63)) return false;
      n.kind = Number::kInt;
      n.i = v == (uint64_t(1) << 63) ? INT64_MIN : -static_cast<int64_t>(v);
    } else if (v <= static_cast<uint64_t>(INT64_MAX)) {
      n.kind = Number::kInt;
      n.i = static_cast<int64_t>(v);
    } else {
      n.kind = Number::kUint;
      n.u = v;
    }
    return true;
  }
  // Correctly rounded, as the general reader's; out of range (either way) is left to it.
  const auto r = std::from_chars(b, p_, n.d, std::chars_format::general);
  n.kind = Number::kDouble;
  return r.ec == std::errc() && r.ptr == p_ && std::isfinite(n.d);
}

bool Parser::skip_value(int depth) {
  if (depth > kMaxDepth || p_ == end_) return false;
  std::string_view s;
  Number n;
  switch (*p_) {
    case '"':
      return string(s);
    case '{':
    case '[': {
      const char close = *p_ == '{' ? '}' : ']';
      const bool object = close == '}';
      ++p_;
      ws();
      if (eat(close)) return true;
      for (;;) {
        if (object) {
          if (!string(s)) return false;
          ws();
          if (!eat(':')) return false;
          ws();
        }
        if (!skip_value(depth + 1)) return false;
        ws();
        if (eat(close)) return true;
        if (!eat(',')) return false;
        ws();
      }
    }
    case 't':
    case 'f':
    case 'n': {
      for (std::string_view lit : {std::string_view("true"), std::string_view("false"), std::string_view("null")})
        if (static_cast<size_t>(end_ - p_) >= lit.size() && std::string_view(p_, lit.size()) == lit) {
          p_ += lit.size();
          return true;
        }
      return false;
    }
    default:
      return number(n);
  }
}

bool Parser::member_value(std::string_view key, Element& e) {
  auto once = [](bool& seen) { return !std::exchange(seen, true); };
  if (key == "image_id") return once(e.has_image) && number(e.image_id);
  if (key == "category_id") return once(e.has_category) && number(e.category_id);
  if (key == "score") return once(e.has_score) && number(e.score);
  if (key == "bbox") {
    if (!once(e.has_bbox) || !eat('[')) return false;
    for (int k = 0; k < 4; ++k) {
      ws();
      if (!number(e.bbox[k])) return false;
      ws();
      if (!eat(k < 3 ? ',' : ']')) return false;
    }
    return true;
  }
  return skip_value(1);
}

// One {...} of the array; false for anything the fast path does not take.
bool Parser::element(Element& e) {
  if (!eat('{')) return false;
  ws();
  if (eat('}')) return true;
  for (;;) {
    std::string_view key;
    if (!string(key)) return false;
    ws();
    if (!eat(':')) return false;
    ws();
    if (!member_value(key, e)) return false;
    ws();
    if (eat('}')) return true;
    if (!eat(',')) return false;
    ws();
  }
}

// The general reader's integer rule (json_fields.h get_int): a signed 64-bit integer, or a double with
// an integral value below 9e15.
bool as_int(const Number& n, int64_t& out) {
  if (n.kind == Number::kInt) {
    out = n.i;
    return true;
  }
  if (n.kind == Number::kDouble && n.d == std::floor(n.d) && std::fabs(n.d) < 9e15) {
    out = static_cast<int64_t>(n.d);
    return true;
  }
  return false;
}

// The general reader's number rule (get_number, get_xywh): integers converted as it converts them.
double as_double(const Number& n) {
  switch (n.kind) {
    case Number::kInt:
      return static_cast<double>(n.i);
    case Number::kUint:
      return static_cast<double>(n.u);
    default:
      return n.d;
  }
}

// The detections of one stretch of the array and what was skipped or counted in it. kDeclined: an
// element the fast path does not take; kMisaligned: the stretch did not end where the next one starts.
struct Stretch {
  enum Status { kOk, kDeclined, kMisaligned } status = kDeclined;
  std::vector<Detection> detections;
  size_t skipped_unknown_image = 0, skipped_unknown_class = 0, outside_image = 0;
};

// Applies the general reader's rules (read_coco_results) to one parsed element. False where it would
// report an error.
bool take(const Element& e, const Dataset& gt, const Lookups& lookups, const DetectionReadOptions& options,
          Stretch& s) {
  int64_t image_id, category_id;
  if (!e.has_image || !as_int(e.image_id, image_id)) return false;
  const auto it = lookups.image_of_id.find(image_id);
  const size_t image = it == lookups.image_of_id.end() ? kNone : it->second;
  if (image == kNone && !options.skip_unknown) return false;
  if (!e.has_category || !as_int(e.category_id, category_id) || !e.has_bbox || !e.has_score) return false;
  double xywh[4];
  for (int k = 0; k < 4; ++k) xywh[k] = as_double(e.bbox[k]);
  if (xywh[2] < 0 || xywh[3] < 0) return false;
  if (image == kNone) {
    ++s.skipped_unknown_image;
    return true;
  }
  const int label = lookups.label(category_id);
  if (label < 0) {
    if (!options.skip_unknown) return false;
    ++s.skipped_unknown_class;
    return true;
  }
  const ImageRecord& rec = gt.images[image];
  Detection d;
  d.label = label;
  d.image_id = rec.id;
  d.score = as_double(e.score);
  d.box = Box{xywh[0], xywh[1], xywh[0] + xywh[2], xywh[1] + xywh[3]};
  if (d.box.x1 < 0 || d.box.y1 < 0 || d.box.x2 > rec.width || d.box.y2 > rec.height) ++s.outside_image;
  s.detections.push_back(d);
  return true;
}

// Parses the elements from `begin` (the first byte of an element) up to `stop`, where the next stretch
// starts; the last stretch (stop == nullptr) runs to the array's closing bracket and the end of the
// file. kOk only when the stretch ended exactly at stop: a guessed start inside a string never lines
// up. Gives up early when `cancel` is set.
Stretch parse_stretch(const MappedFile& file, const char* begin, const char* stop, const Dataset& gt,
                      const Lookups& lookups, const DetectionReadOptions& options, const std::atomic<bool>& cancel) {
  Stretch s;
  const char* end = file.data() + file.size();
  s.detections.reserve(static_cast<size_t>(((stop ? stop : end) - begin) / 64));
  Parser p(begin, end);
  const char* released = begin;
  for (;;) {
    Element e;
    if (!p.element(e) || !take(e, gt, lookups, options, s)) return s;
    p.ws();
    if (p.eat(']')) {
      p.ws();
      s.status = stop == nullptr && p.at_end() ? Stretch::kOk : stop ? Stretch::kMisaligned : Stretch::kDeclined;
      return s;
    }
    if (!p.eat(',')) return s;
    p.ws();
    if (stop && p.position() >= stop) {
      s.status = p.position() == stop ? Stretch::kOk : Stretch::kMisaligned;
      return s;
    }
    if (p.position() - released >= static_cast<ptrdiff_t>(kReleaseStep)) {
      if (cancel.load(std::memory_order_relaxed)) return s;
      file.release(released, p.position());
      released = p.position();
    }
  }
}

// Where stretch k of n may start: the first '{' at or after k/n of the array whose previous
// non-blank byte is ','. A guess (it may sit inside a string); parse_stretch checks it.
const char* guess_start(const char* first, const char* end, size_t k, size_t n) {
  const char* q = first + static_cast<size_t>(end - first) / n * k;
  for (; q < end; ++q) {
    if (*q != '{') continue;
    const char* b = q;
    while (b > first && (b[-1] == ' ' || b[-1] == '\n' || b[-1] == '\r' || b[-1] == '\t')) --b;
    if (b > first && b[-1] == ',') return q;
  }
  return nullptr;
}

// The array's elements split into stretches (one per thread for a large file). The first stretch that
// is not kOk decides: stretches before it lined up, so its start is an element's and a decline is
// the file's; a misalignment means a guessed start was wrong.
Stretch::Status parse_array(const MappedFile& file, const char* first, const Dataset& gt, const Lookups& lookups,
                            const DetectionReadOptions& options, size_t pieces, DetectionSet& out) {
  const char* end = file.data() + file.size();
  std::vector<const char*> starts = {first};
  for (size_t k = 1; k < pieces; ++k) {
    const char* q = guess_start(first, end, k, pieces);
    if (!q) break;
    if (q > starts.back()) starts.push_back(q);
  }
  std::vector<Stretch> stretches(starts.size());
  std::atomic<bool> cancel{false};  // the first stretch declined: the file goes to the general reader
  tbb::parallel_for(size_t(0), starts.size(), [&](size_t k) {
    stretches[k] =
        parse_stretch(file, starts[k], k + 1 < starts.size() ? starts[k + 1] : nullptr, gt, lookups, options, cancel);
    if (k == 0 && stretches[k].status == Stretch::kDeclined) cancel = true;
  });
  size_t total = 0;
  for (const Stretch& s : stretches) {
    if (s.status != Stretch::kOk) return s.status;
    total += s.detections.size();
  }
  out.detections = std::move(stretches[0].detections);
  out.detections.reserve(total);
  for (size_t k = 0; k < stretches.size(); ++k) {
    if (k) out.detections.insert(out.detections.end(), stretches[k].detections.begin(), stretches[k].detections.end());
    out.skipped_unknown_image += stretches[k].skipped_unknown_image;
    out.skipped_unknown_class += stretches[k].skipped_unknown_class;
    out.outside_image += stretches[k].outside_image;
  }
  return Stretch::kOk;
}

}  // namespace

std::optional<DetectionSet> read_coco_results_fast(const fs::path& path, const Dataset& gt,
                                                   const DetectionReadOptions& options) {
  const MappedFile file(path);
  if (!file.data()) return std::nullopt;
  const char* end = file.data() + file.size();
  Parser p(file.data(), end);
  if (file.size() >= 3 && std::memcmp(file.data(), "\xEF\xBB\xBF", 3) == 0) p = Parser(file.data() + 3, end);
  p.ws();
  if (!p.eat('[')) return std::nullopt;
  p.ws();
  DetectionSet out;
  out.source = path.string();
  if (p.eat(']')) {
    p.ws();
    return p.at_end() ? std::optional<DetectionSet>(std::move(out)) : std::nullopt;
  }
  const Lookups lookups(gt);
  const size_t threads = static_cast<size_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
  const size_t pieces = std::max<size_t>(1, std::min(threads, file.size() / kMinStretch));
  Stretch::Status status = parse_array(file, p.position(), gt, lookups, options, pieces, out);
  if (status == Stretch::kMisaligned) {  // one stretch cannot misalign
    out = DetectionSet{};
    out.source = path.string();
    status = parse_array(file, p.position(), gt, lookups, options, 1, out);
  }
  if (status != Stretch::kOk) return std::nullopt;
  return out;
}

}  // namespace cvtk::data::detail
