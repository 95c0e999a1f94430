#include "apps/error_text.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>

namespace cvtk::apps {
namespace {

// CLI11's PositiveNumber / NonNegativeNumber print their bounds with std::to_string: "not in range
// 0.000000 to 179769313486231570...". Say what the bound means instead.
std::string readable_range_message(const std::string& message) {
  const std::string marker = " not in range ";
  const auto at = message.find(marker);
  if (at == std::string::npos || message.rfind("Value ", 0) != 0) return message;
  const auto to = message.find(" to ", at + marker.size());
  if (to == std::string::npos || message.size() - to < 40) return message;  // an ordinary, short bound
  const std::string value = message.substr(6, at - 6);
  const std::string low = message.substr(at + marker.size(), to - at - marker.size());
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  const bool number = end && *end == '\0' && !value.empty() && std::isfinite(parsed);
  if (!number) return "'" + value + "' is not a number";
  return "'" + value + "' is out of range (must be " + (low == "0.000000" ? "greater than 0" : "at least " + low) + ")";
}

// The deepest subcommand that was chosen on the command line, and its "cvtk a b" path.
std::pair<CLI::App*, std::string> chosen_command(CLI::App& app) {
  std::string path = "cvtk";
  CLI::App* at = &app;
  for (;;) {
    auto chosen = at->get_subcommands();
    if (chosen.empty()) break;
    at = chosen.front();
    path += " " + at->get_name();
  }
  return {at, path};
}

}  // namespace

std::string one_line(const std::string& message, size_t max_chars) {
  std::string text = message;
  // LibTorch (c10::Error) appends "Exception raised from <function> at <file>:<line> ... frame #0: ...".
  for (const char* cut : {"Exception raised from ", "\nframe #"}) {
    const auto at = text.find(cut);
    if (at != std::string::npos) text.erase(at);
  }
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    if (control) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.empty()) out = "unknown failure";
  if (out.size() > max_chars)
    out = out.substr(0, max_chars) + "... (" + std::to_string(out.size() - max_chars) + " more characters)";
  return out;
}

std::string usage_error_text(CLI::App& app, const CLI::ParseError& error) {
  std::string text = readable_range_message(one_line(error.what()));
  // Validator messages arrive as "--epochs: Value abc not in range ..." once CLI11 names the option.
  const auto colon = text.find(": Value ");
  if (colon != std::string::npos) text = text.substr(0, colon) + ": " + readable_range_message(text.substr(colon + 2));
  const auto [command, path] = chosen_command(app);
  if (text == "A subcommand is required") {
    std::string names;
    for (CLI::App* s : command->get_subcommands([](CLI::App*) { return true; }))
      names += (names.empty() ? "" : ", ") + s->get_name();
    text = "'" + path + "' needs a command: " + names;
  }
  return text + " (see " + path + " --help)";
}

std::optional<std::string> unknown_command_or_option(CLI::App& app, int argc, const char* const* argv) {
  CLI::App* at = &app;
  std::string path = "cvtk";
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token == "--") return std::nullopt;
    if (token.rfind("--", 0) == 0) {
      // CLI11 would first complain about a missing required option; a misspelt flag is the real news.
      const std::string name = token.substr(0, token.find('='));
      if (!at->get_option_no_throw(name) && name != "--help" && name != "--version")
        return "unknown option '" + name + "' for '" + path + "' (see " + path + " --help)";
      continue;
    }
    if (token[0] == '-') continue;  // a short flag, or a negative number as an option's value
    auto subs = at->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return std::nullopt;  // a positional argument of a leaf command
    CLI::App* next = nullptr;
    std::string names;
    for (CLI::App* s : subs) {
      if (s->check_name(token)) next = s;
      names += (names.empty() ? "" : ", ") + s->get_name();
    }
    if (!next)
      return "unknown command '" + path + " " + token + "'; the commands are: " + names + " (see " + path + " --help)";
    at = next;
    path += " " + token;
  }
  return std::nullopt;
}

}  // namespace cvtk::apps
