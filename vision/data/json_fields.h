#pragma once
// Typed field access on simdjson DOM objects for the JSON readers: every failure names the file, the
// entry ("annotations[12]") and the field, through an IssueSink (throw, or record and skip).
#include <simdjson.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "vision/data/file_util.h"
#include "vision/data/issue_sink.h"
#include "vision/data/json_syntax.h"

namespace cvtk::data::detail {

// One element of a JSON array ("annotations[12]"); its name is only built when something fails, as
// results files hold hundreds of thousands of elements.
struct JsonEntry {
  const std::string& file;
  const char* array;  // "annotations", or "" for a top-level array
  size_t index;
  IssueSink& sink;

  std::string entry() const { return std::string(array) + "[" + std::to_string(index) + "]"; }
  bool fail(const std::string& field, const std::string& kind, const std::string& message) const {
    sink.report(file, entry(), field, kind, message);
    return false;
  }
};

inline const char* json_type_name(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "an array";
    case T::OBJECT:
      return "an object";
    case T::INT64:
    case T::UINT64:
      return "an integer";
    case T::DOUBLE:
      return "a number";
    case T::STRING:
      return "a string";
    case T::BOOL:
      return "a boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// A value as a message shows it: "a string 'abc'", "the number 1.5", "an array".
inline std::string describe_json_value(simdjson::dom::element v) {
  std::string_view s;
  if (!v.get_string().get(s)) return "a string " + quote(s);
  int64_t i;
  if (!v.get_int64().get(i)) return "the integer " + std::to_string(i);
  uint64_t u;
  if (!v.get_uint64().get(u)) return "the integer " + std::to_string(u);
  double d;
  if (!v.get_double().get(d)) return "the number " + format_number(d);
  return json_type_name(v.type());
}

// Integer field; a double with an integral value (1.0) is accepted as JSON writers often emit them.
inline bool get_int(const JsonEntry& e, simdjson::dom::object obj, const char* key, int64_t& out, bool required = true,
                    bool* present = nullptr) {
  simdjson::dom::element v;
  if (obj.at_key(key).get(v)) {
    if (present) *present = false;
    return required ? e.fail(key, "missing_field", "missing") : true;
  }
  if (present) *present = true;
  int64_t i;
  if (!v.get_int64().get(i)) {
    out = i;
    return true;
  }
  double d;
  if (!v.get_double().get(d) && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
    out = static_cast<int64_t>(d);
    return true;
  }
  if (v.type() == simdjson::dom::element_type::UINT64)
    return e.fail(key, "bad_value", "expected a signed 64-bit integer, got " + describe_json_value(v) + " (too large)");
  return e.fail(key, "bad_value", "expected an integer, got " + describe_json_value(v));
}

inline bool get_number(const JsonEntry& e, simdjson::dom::object obj, const char* key, double& out,
                       bool required = true, bool* present = nullptr) {
  simdjson::dom::element v;
  if (obj.at_key(key).get(v)) {
    if (present) *present = false;
    return required ? e.fail(key, "missing_field", "missing") : true;
  }
  if (present) *present = true;
  double d;
  if (v.get_double().get(d)) return e.fail(key, "bad_value", "expected a number, got " + describe_json_value(v));
  if (!std::isfinite(d)) return e.fail(key, "bad_value", "not a finite number");
  out = d;
  return true;
}

inline bool get_string(const JsonEntry& e, simdjson::dom::object obj, const char* key, std::string& out) {
  simdjson::dom::element v;
  if (obj.at_key(key).get(v)) return e.fail(key, "missing_field", "missing");
  std::string_view s;
  if (v.get_string().get(s)) return e.fail(key, "bad_value", "expected a string, got " + describe_json_value(v));
  out.assign(s.data(), s.size());
  return true;
}

// A COCO [x, y, w, h] box with finite numbers and non-negative sizes.
inline bool get_xywh(const JsonEntry& e, simdjson::dom::object obj, const char* key, double out[4]) {
  simdjson::dom::element v;
  if (obj.at_key(key).get(v)) return e.fail(key, "missing_field", "missing");
  simdjson::dom::array a;
  if (v.get_array().get(a))
    return e.fail(key, "bad_value", std::string("expected [x, y, w, h], got ") + json_type_name(v.type()));
  if (a.size() != 4)
    return e.fail(key, "bad_value", "expected 4 numbers [x, y, w, h], got " + std::to_string(a.size()));
  int k = 0;
  for (simdjson::dom::element x : a) {
    double d;
    if (x.get_double().get(d) || !std::isfinite(d))
      return e.fail(key, "bad_value",
                    "element " + std::to_string(k) + " is " + describe_json_value(x) + ", expected a finite number");
    out[k++] = d;
  }
  if (out[2] < 0 || out[3] < 0)
    return e.fail(key, "box_degenerate",
                  "negative width or height (w=" + format_number(out[2]) + ", h=" + format_number(out[3]) + ")");
  return true;
}

// The file's bytes with simdjson's padding, read once; IoError naming the file when it cannot be read.
inline simdjson::padded_string load_json_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(path.string() + ": file not found");
  if (std::filesystem::is_directory(path, ec)) throw IoError(path.string() + ": is a directory, expected a JSON file");
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    throw IoError(path.string() + ": cannot open the file: " + std::strerror(errno));
  }
  simdjson::padded_string bytes;
  if (simdjson::padded_string::load(path.string()).get(bytes)) throw IoError(path.string() + ": cannot read the file");
  return bytes;
}

// Parses a whole file; a FormatError (kind "parse") for malformed JSON, naming the byte offset, line
// and column, and the entry and field it is in when there is one (json_syntax.h). The sink is not
// used: nothing can go on. A leading UTF-8 byte-order mark is skipped.
inline simdjson::dom::element parse_json_file(simdjson::dom::parser& parser, const simdjson::padded_string& bytes,
                                              const std::string& file) {
  const bool bom = bytes.size() >= 3 && std::string_view(bytes.data(), 3) == "\xEF\xBB\xBF";
  const size_t skip = bom ? 3 : 0;
  simdjson::dom::element doc;
  // The padding after the end of `bytes` is still there after the skipped mark: no copy.
  auto error = parser.parse(bytes.data() + skip, bytes.size() - skip, false).get(doc);
  if (error) {
    bool blank = true;
    for (size_t i = skip; i < bytes.size() && blank; ++i)
      blank = bytes.data()[i] == ' ' || bytes.data()[i] == '\n' || bytes.data()[i] == '\r' || bytes.data()[i] == '\t';
    if (blank) throw FormatError(file, "", "", "file is empty (no JSON value)", "parse");
    if (auto where = find_json_syntax_error(std::string_view(bytes.data(), bytes.size()), parser.max_depth()))
      throw FormatError(file, where->entry, where->field, where->message(), "parse");
    throw FormatError(file, "", "", std::string("malformed JSON: ") + simdjson::error_message(error), "parse");
  }
  return doc;
}

}  // namespace cvtk::data::detail
