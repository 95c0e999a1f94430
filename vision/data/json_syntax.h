#pragma once
// Where a JSON text breaks the grammar, for messages: simdjson says only what kind of error it met
// ("improper structure"), not where. This plain scan of the same grammar (RFC 8259 in UTF-8, at most
// max_depth nested arrays and objects, integers that fit 64 bits and other numbers that fit a double,
// as simdjson requires) runs only after simdjson has failed, so its cost does not matter.
//
// A leading UTF-8 byte-order mark is skipped, as the readers skip it (RFC 8259 allows parsers to).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cvtk::data {

struct JsonSyntaxError {
  size_t offset = 0;  // of the first byte at fault, from the start of the file (0-based)
  size_t line = 1;    // 1-based
  size_t column = 1;  // 1-based, in bytes
  // The array element the error is in, named as the readers name entries: "annotations[12]" for an
  // element of a top-level member's array, "[3]" for one of a top-level array; "" outside any.
  std::string entry;
  // The path inside the entry ("bbox[2]", "score", "info.year" outside an entry); "" when none.
  std::string field;
  std::string problem;  // what is wrong: "invalid literal 'NaN' (JSON has no NaN or Infinity...)"

  // "malformed JSON at byte 812 (line 14, column 33): <problem>"
  std::string message() const;
};

// The first error in text, or nullopt when it is valid JSON by the rules above.
std::optional<JsonSyntaxError> find_json_syntax_error(std::string_view text, size_t max_depth = 1024);

}  // namespace cvtk::data
