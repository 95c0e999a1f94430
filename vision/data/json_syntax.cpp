#include "vision/data/json_syntax.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "vision/data/errors.h"

namespace cvtk::data {
namespace {

// The most steps a field path shows.
constexpr size_t kPathSteps = 8;

struct Frame {
  bool object;
  size_t index = 0;  // arrays: the element being read
  std::string key;   // objects: the member being read ("" before the first key)
};

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Characters that can continue a bad number or literal, for quoting the whole token.
bool is_token(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '+' || c == '-' ||
         c == '_';
}

// Length of the well-formed UTF-8 sequence at t[i] (shortest form, no surrogates, at most U+10FFFF),
// or 0.
size_t utf8_sequence(std::string_view t, size_t i) {
  const unsigned char c = static_cast<unsigned char>(t[i]);
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    if (i + k >= t.size()) return false;
    const unsigned char b = static_cast<unsigned char>(t[i + k]);
    return b >= lo && b <= hi;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

std::string describe_byte(std::string_view t, size_t pos) {
  if (pos >= t.size()) return "the end of the file";
  const unsigned char c = static_cast<unsigned char>(t[pos]);
  if (c == '\'') return "\"'\"";
  if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  char hex[16];
  std::snprintf(hex, sizeof hex, "byte 0x%02x", c);
  return hex;
}

class Scanner {
 public:
  Scanner(std::string_view text, size_t max_depth) : t_(text), n_(text.size()), max_depth_(max_depth) {}

  std::optional<JsonSyntaxError> run() {
    if (n_ >= 3 && t_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    enum class State { kValue, kAfterValue, kKey } state = State::kValue;
    for (;;) {
      skip_ws();
      if (state == State::kKey) {
        if (pos_ >= n_) return fail(pos_, "the file ends inside an object (a key or '}' is missing)");
        if (t_[pos_] != '"') return fail(pos_, "expected a key in double quotes, found " + describe_byte(t_, pos_));
        std::string key;
        if (!string(&key)) return error_;
        skip_ws();
        if (pos_ >= n_ || t_[pos_] != ':')
          return fail(pos_, "expected ':' after the key " + quote(key) + ", found " + describe_byte(t_, pos_));
        ++pos_;
        stack_.back().key = std::move(key);
        state = State::kValue;
        continue;
      }
      if (state == State::kValue) {
        if (pos_ >= n_) return fail(pos_, stack_.empty() ? "no JSON value" : "the file ends where a value should be");
        const char c = t_[pos_];
        if (c == '{' || c == '[') {
          if (stack_.size() >= max_depth_)
            return fail(pos_, "arrays and objects nested more than " + std::to_string(max_depth_) + " deep");
          stack_.push_back(Frame{c == '{', 0, std::string()});
          ++pos_;
          skip_ws();
          if (pos_ < n_ && t_[pos_] == (c == '{' ? '}' : ']')) {
            ++pos_;
            stack_.pop_back();
            state = State::kAfterValue;
          } else {
            state = c == '{' ? State::kKey : State::kValue;
          }
          continue;
        }
        if (!scalar()) return error_;
        state = State::kAfterValue;
        continue;
      }
      // After a value: the end, or what separates it from the next.
      if (stack_.empty()) {
        if (pos_ < n_) return fail(pos_, "unexpected " + describe_byte(t_, pos_) + " after the end of the JSON value");
        return std::nullopt;
      }
      Frame& f = stack_.back();
      const char close = f.object ? '}' : ']';
      if (pos_ >= n_)
        return fail(pos_, std::string("the file ends inside an ") + (f.object ? "object" : "array") + " (a '" + close +
                              "' is missing)");
      if (t_[pos_] == ',') {
        ++pos_;
        if (f.object) {
          state = State::kKey;
        } else {
          ++f.index;
          state = State::kValue;
        }
        skip_ws();
        if (pos_ < n_ && t_[pos_] == close)
          return fail(pos_, std::string("a ',' before '") + close + "' (trailing comma)");
        continue;
      }
      if (t_[pos_] == close) {
        ++pos_;
        stack_.pop_back();
        continue;  // still after a value: the enclosing one
      }
      return fail(pos_, std::string("expected ',' or '") + close + "', found " + describe_byte(t_, pos_));
    }
  }

 private:
  void skip_ws() {
    while (pos_ < n_ && is_ws(t_[pos_])) ++pos_;
  }

  bool fail_at(size_t at, const std::string& problem) {
    error_ = fail(at, problem);
    return false;
  }

  JsonSyntaxError fail(size_t at, const std::string& problem) const {
    JsonSyntaxError e;
    e.offset = at;
    size_t line_start = 0;
    for (size_t i = 0; i < at && i < n_; ++i)
      if (t_[i] == '\n') {
        ++e.line;
        line_start = i + 1;
      }
    e.column = at - line_start + 1;
    e.problem = problem;
    // Entry: the element of the first array on the path, when it is the top level or a top-level
    // member; the rest is the field.
    size_t rest = 0;
    if (!stack_.empty() && !stack_[0].object) {
      e.entry = "[" + std::to_string(stack_[0].index) + "]";
      rest = 1;
    } else if (stack_.size() >= 2 && !stack_[1].object) {
      e.entry = printable(stack_[0].key) + "[" + std::to_string(stack_[1].index) + "]";
      rest = 2;
    }
    // Deep paths keep their first and last steps: "a[0][0][0][0]...(1020 more)...[0][0]".
    const size_t steps = stack_.size() - rest;
    for (size_t k = rest; k < stack_.size(); ++k) {
      if (steps > kPathSteps && k == rest + kPathSteps - 2) {
        e.field += "...(" + std::to_string(steps - kPathSteps) + " more)...";
        k = stack_.size() - 2;
      }
      const Frame& f = stack_[k];
      if (!f.object) {
        e.field += "[" + std::to_string(f.index) + "]";
      } else if (!f.key.empty()) {
        e.field += (e.field.empty() ? "" : ".") + printable(f.key);
      }
    }
    return e;
  }

  // A string starting at the '"' at pos_; its text into *out when given.
  bool string(std::string* out) {
    const size_t start = pos_++;
    for (;;) {
      if (pos_ >= n_) return fail_at(start, "a string that is never closed (no ending '\"')");
      const unsigned char c = static_cast<unsigned char>(t_[pos_]);
      if (c == '"') {
        if (out) *out = std::string(t_.substr(start + 1, pos_ - start - 1));
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail_at(pos_, "a raw control character (" + describe_byte(t_, pos_) + ") inside a string");
      if (c == '\\') {
        const char e = pos_ + 1 < n_ ? t_[pos_ + 1] : '\0';
        if (e == 'u') {
          unsigned code = 0;
          if (!hex4(pos_ + 2, code)) return fail_at(pos_, "a \\u escape without four hex digits");
          if (code >= 0xDC00 && code <= 0xDFFF) return fail_at(pos_, "a \\u escape of a lone low surrogate");
          if (code >= 0xD800 && code <= 0xDBFF) {
            unsigned low = 0;
            if (pos_ + 7 >= n_ || t_[pos_ + 6] != '\\' || t_[pos_ + 7] != 'u' || !hex4(pos_ + 8, low) || low < 0xDC00 ||
                low > 0xDFFF)
              return fail_at(pos_, "a \\u escape of a high surrogate not followed by a low one");
            pos_ += 6;
          }
          pos_ += 6;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't')
          return fail_at(pos_, "an unknown escape inside a string (" + describe_byte(t_, pos_ + 1) + " after '\\')");
        pos_ += 2;
        continue;
      }
      const size_t len = utf8_sequence(t_, pos_);
      if (len == 0) return fail_at(pos_, "bytes that are not UTF-8 inside a string (" + describe_byte(t_, pos_) + ")");
      pos_ += len;
    }
  }

  bool hex4(size_t at, unsigned& code) const {
    if (at + 4 > n_) return false;
    code = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char h = t_[at + k];
      if (!is_hex(h)) return false;
      code = code * 16 + static_cast<unsigned>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return true;
  }

  std::string token_at(size_t start) const {
    size_t end = start;
    while (end < n_ && is_token(t_[end])) ++end;
    return std::string(t_.substr(start, end - start));
  }

  bool scalar() {
    const size_t start = pos_;
    const char c = t_[pos_];
    if (c == '"') return string(nullptr);
    if (c == '-' || is_digit(c)) {
      if (c == '-' && pos_ + 1 < n_ && !is_digit(t_[pos_ + 1])) return literal(start);
      return number(start);
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return literal(start);
    return fail_at(pos_, "expected a value, found " + describe_byte(t_, pos_));
  }

  bool literal(size_t start) {
    const std::string token = token_at(start);
    if (token == "true" || token == "false" || token == "null") {
      pos_ = start + token.size();
      return true;
    }
    std::string lower;
    for (char ch : token) lower += static_cast<char>(ch | 0x20);
    const bool non_finite = lower == "nan" || lower == "-nan" || lower == "infinity" || lower == "-infinity" ||
                            lower == "inf" || lower == "-inf";
    return fail_at(start, "invalid literal " + quote(token) +
                              (non_finite ? " (JSON has no NaN or Infinity: write null or a finite number)"
                                          : " (expected true, false, null, a number or a string)"));
  }

  bool number(size_t start) {
    size_t i = start;
    bool integer = true;
    auto bad = [&]() { return fail_at(start, "malformed number " + quote(token_at(start))); };
    if (t_[i] == '-') ++i;
    if (i < n_ && t_[i] == '0') {
      ++i;
    } else {
      while (i < n_ && is_digit(t_[i])) ++i;
    }
    if (i < n_ && t_[i] == '.') {
      integer = false;
      if (++i >= n_ || !is_digit(t_[i])) return bad();
      while (i < n_ && is_digit(t_[i])) ++i;
    }
    if (i < n_ && (t_[i] == 'e' || t_[i] == 'E')) {
      integer = false;
      ++i;
      if (i < n_ && (t_[i] == '+' || t_[i] == '-')) ++i;
      if (i >= n_ || !is_digit(t_[i])) return bad();
      while (i < n_ && is_digit(t_[i])) ++i;
    }
    if (i < n_ && is_token(t_[i])) return bad();  // "01", "1.2.3", "12abc"
    const std::string text(t_.substr(start, i - start));
    errno = 0;
    if (integer) {
      char* end = nullptr;
      if (text[0] == '-')
        (void)std::strtoll(text.c_str(), &end, 10);
      else
        (void)std::strtoull(text.c_str(), &end, 10);
      if (errno == ERANGE)
        return fail_at(start, "integer " + quote(text) + " does not fit 64 bits (write it as a string or a decimal)");
    } else if (!std::isfinite(std::strtod(text.c_str(), nullptr))) {
      return fail_at(start, "number " + quote(text) + " is beyond the range of a double (about 1.8e308)");
    }
    pos_ = i;
    return true;
  }

  std::string_view t_;
  size_t n_;
  size_t max_depth_;
  size_t pos_ = 0;
  std::vector<Frame> stack_;
  std::optional<JsonSyntaxError> error_;
};

}  // namespace

std::string JsonSyntaxError::message() const {
  return "malformed JSON at byte " + std::to_string(offset) + " (line " + std::to_string(line) + ", column " +
         std::to_string(column) + "): " + problem;
}

std::optional<JsonSyntaxError> find_json_syntax_error(std::string_view text, size_t max_depth) {
  return Scanner(text, max_depth).run();
}

}  // namespace cvtk::data
