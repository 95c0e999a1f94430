#pragma once
// The text syntax of pipelines: whitespace-separated tokens `name` or `name(arg, arg, key=value)`.
// Positional arguments come first; values are numbers or words. Every error is std::invalid_argument
// quoting the offending token.
#include <string>
#include <utility>
#include <vector>

namespace cvtk::augment {

class SpecArgs {
 public:
  std::string token;  // the whole token as written, for messages
  std::string name;
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> named;

  // Throws std::invalid_argument("bad token 'TOKEN': PROBLEM").
  [[noreturn]] void fail(const std::string& problem) const;

  bool has(const std::string& key) const;
  // A named number in [lo, hi], or `fallback` when absent.
  double number(const std::string& key, double fallback, double lo, double hi) const;
  // A named word from `allowed`, or `fallback` when absent.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed) const;
  // Positional argument i as a number in [lo, hi].
  double positional_number(size_t i, double lo, double hi) const;
  // Fails on keys that were never asked for, and on more than max_positional positional arguments.
  void finish(size_t max_positional = 0) const;

 private:
  mutable std::vector<std::string> asked_;
};

std::vector<SpecArgs> parse_spec_tokens(const std::string& spec);

}  // namespace cvtk::augment
