#include "augment/spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "augment/transform.h"

namespace cvtk::augment {
namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

SpecArgs parse_token(const std::string& token) {
  SpecArgs a;
  a.token = token;
  size_t i = 0;
  while (i < token.size() && is_name_char(token[i])) ++i;
  a.name = token.substr(0, i);
  if (a.name.empty()) a.fail("expected a transform name");
  if (i == token.size()) return a;
  if (token[i] != '(' || token.back() != ')') a.fail("expected name(arguments)");
  const std::string inner = token.substr(i + 1, token.size() - i - 2);
  if (trim(inner).empty()) return a;
  size_t start = 0;
  while (start <= inner.size()) {
    size_t comma = inner.find(',', start);
    if (comma == std::string::npos) comma = inner.size();
    const std::string item = trim(inner.substr(start, comma - start));
    if (item.empty()) a.fail("empty argument");
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      if (!a.named.empty()) a.fail("positional argument '" + item + "' after a named one");
      a.positional.push_back(item);
    } else {
      const std::string key = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
      if (key.empty() || value.empty()) a.fail("argument '" + item + "' needs key=value");
      for (const auto& kv : a.named)
        if (kv.first == key) a.fail("argument '" + key + "' given twice");
      a.named.emplace_back(key, value);
    }
    start = comma + 1;
  }
  return a;
}

}  // namespace

void SpecArgs::fail(const std::string& problem) const {
  throw std::invalid_argument("bad token '" + token + "': " + problem);
}

bool SpecArgs::has(const std::string& key) const {
  asked_.push_back(key);
  for (const auto& kv : named)
    if (kv.first == key) return true;
  return false;
}

double SpecArgs::number(const std::string& key, double fallback, double lo, double hi) const {
  asked_.push_back(key);
  for (const auto& kv : named) {
    if (kv.first != key) continue;
    double v;
    if (!parse_double(kv.second, v)) fail(key + "=" + kv.second + " is not a number");
    if (v < lo || v > hi)
      fail(key + "=" + kv.second + " is outside [" + format_number(lo) + ", " + format_number(hi) + "]");
    return v;
  }
  return fallback;
}

std::string SpecArgs::choice(const std::string& key, const std::string& fallback,
                             const std::vector<std::string>& allowed) const {
  asked_.push_back(key);
  for (const auto& kv : named) {
    if (kv.first != key) continue;
    if (std::find(allowed.begin(), allowed.end(), kv.second) == allowed.end()) {
      std::string list;
      for (const auto& s : allowed) list += (list.empty() ? "" : "|") + s;
      fail(key + "=" + kv.second + " is not one of " + list);
    }
    return kv.second;
  }
  return fallback;
}

double SpecArgs::positional_number(size_t i, double lo, double hi) const {
  double v;
  if (!parse_double(positional.at(i), v)) fail("argument '" + positional[i] + "' is not a number");
  if (v < lo || v > hi)
    fail("argument " + positional[i] + " is outside [" + format_number(lo) + ", " + format_number(hi) + "]");
  return v;
}

void SpecArgs::finish(size_t max_positional) const {
  if (positional.size() > max_positional)
    fail("takes at most " + std::to_string(max_positional) + " positional argument(s), got " +
         std::to_string(positional.size()));
  for (const auto& kv : named)
    if (std::find(asked_.begin(), asked_.end(), kv.first) == asked_.end()) fail("unknown argument '" + kv.first + "'");
}

std::vector<SpecArgs> parse_spec_tokens(const std::string& spec) {
  std::vector<SpecArgs> out;
  size_t i = 0;
  while (i < spec.size()) {
    if (std::isspace(static_cast<unsigned char>(spec[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    int depth = 0;
    while (i < spec.size()) {
      const char c = spec[i];
      if (c == '(')
        ++depth;
      else if (c == ')') {
        --depth;
        if (depth < 0) break;
        if (depth == 0) {
          ++i;
          break;
        }
      } else if (depth == 0 && std::isspace(static_cast<unsigned char>(c)))
        break;
      ++i;
    }
    std::string token = spec.substr(start, i - start);
    if (depth != 0) {
      if (depth < 0) token = spec.substr(start, i - start + 1);
      throw std::invalid_argument("bad token '" + token + "': unbalanced parentheses");
    }
    out.push_back(parse_token(token));
  }
  return out;
}

}  // namespace cvtk::augment
