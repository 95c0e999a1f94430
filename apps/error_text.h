#pragma once
// The one line a failed cvtk command prints. Library errors can span lines (LibTorch appends a C++
// stack trace, "Exception raised from ... frame #0 ..."), CLI11 words some errors for programmers
// ("A subcommand is required" for a misspelt one, a 309-digit upper bound for "positive"): these
// helpers turn both into one line a user can act on.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace cvtk::apps {

// The message of an exception as one line: any LibTorch backtrace cut off, line breaks and control
// characters folded into spaces, and at most max_chars characters (the rest elided with its length).
std::string one_line(const std::string& message, size_t max_chars = 600);

// A usage error's text: CLI11's message made readable, plus where to find the right usage
// ("see cvtk train --help").
std::string usage_error_text(CLI::App& app, const CLI::ParseError& error);

// When argv names a subcommand that does not exist (at the top level, or under one that has
// subcommands, like `cvtk data`), the message saying so and listing the valid names; when it gives a
// long option (--name or --name=value) the command it follows does not have, the message naming it.
std::optional<std::string> unknown_command_or_option(CLI::App& app, int argc, const char* const* argv);

}  // namespace cvtk::apps
