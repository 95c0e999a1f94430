#include "vision/data/errors.h"

#include <cstdio>

namespace cvtk::data {
namespace {

// A quoted part this long cannot have come from quote() (kQuoteLimit bytes, each at most a 4-byte
// escape, plus the length note), so one_line_message() shortens it; shorter ones are left alone,
// which keeps one_line_message(quote(x)) == quote(x).
constexpr size_t kLongQuote = 4 * kQuoteLimit + 32;
// The last guard on a whole message: nothing a user reads on one line is longer.
constexpr size_t kMessageLimit = 2000;

// Length of the UTF-8 sequence starting at s[i], or 0 when the bytes there are not valid UTF-8.
size_t utf8_length(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6)
    n = 2;
  else if ((c >> 4) == 0xE)
    n = 3;
  else if ((c >> 3) == 0x1E)
    n = 4;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  return n;
}

void append_escaped(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_length(s, i);
    if (n == 1 && c >= 0x20 && c != 0x7F) {
      out += static_cast<char>(c);
    } else if (n > 1) {
      out.append(s.data() + i, n);
      i += n;
      continue;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
    ++i;
  }
}

// s cut to at most max_bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) >> 6) == 0x2) --n;
  return s.substr(0, n);
}

std::string length_note(size_t bytes) { return "... (" + std::to_string(bytes) + " bytes)"; }

std::string compose(const std::string& file, const std::string& entry, const std::string& field,
                    const std::string& problem) {
  std::string out = file;
  if (!entry.empty()) out += ": " + entry;
  if (!field.empty()) out += ": field '" + field + "'";
  out += ": " + problem;
  return out;
}

}  // namespace

std::string printable(std::string_view text, size_t max_bytes) {
  std::string out;
  const bool cut = max_bytes > 0 && text.size() > max_bytes;
  append_escaped(out, cut ? utf8_prefix(text, max_bytes) : text);
  if (cut) out += length_note(text.size());
  return out;
}

std::string quote(std::string_view text) { return "'" + printable(text) + "'"; }

std::string one_line_message(std::string_view message) {
  std::string out;
  // Alternating parts: outside quotes, inside quotes, outside, ... (an unmatched quote leaves the rest
  // inside, which is what a cut-off value looks like).
  bool inside = false;
  size_t start = 0;
  for (size_t i = 0; i <= message.size(); ++i) {
    if (i < message.size() && message[i] != '\'') continue;
    const std::string_view part = message.substr(start, i - start);
    if (inside && part.size() > kLongQuote)
      out += printable(part, kQuoteLimit);
    else
      append_escaped(out, part);
    if (i < message.size()) out += '\'';
    inside = !inside;
    start = i + 1;
  }
  if (out.size() > kMessageLimit) out = std::string(utf8_prefix(out, kMessageLimit)) + length_note(out.size());
  return out;
}

FormatError::FormatError(std::string file, std::string entry, std::string field, const std::string& problem,
                         std::string kind)
    : std::runtime_error(
          compose(one_line_message(file), one_line_message(entry), one_line_message(field), one_line_message(problem))),
      file_(one_line_message(file)),
      entry_(one_line_message(entry)),
      field_(one_line_message(field)),
      problem_(one_line_message(problem)),
      kind_(std::move(kind)) {}

IoError::IoError(const std::string& message) : std::runtime_error(one_line_message(message)) {}

}  // namespace cvtk::data
