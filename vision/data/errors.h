#pragma once
// Typed errors at file boundaries. Every message names the file, the entry and the field, so a user
// can open the file and go straight to the problem.
//
// Messages are one line a terminal can show: whatever they quote from a file (a 50 MB string, a name
// with a newline, bytes that are not UTF-8) is made printable here, once, so every reader benefits.
// Control characters, backslashes and bytes that are not UTF-8 become escapes (\n, \t, \\, \x1b); a
// quoted value longer than kQuoteLimit bytes keeps its first kQuoteLimit bytes and says how long it
// was ("first 60 bytes... (52428800 bytes)").
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cvtk::data {

// The longest value a message quotes whole; longer ones are cut to this many bytes.
constexpr size_t kQuoteLimit = 60;

// `text` escaped to printable UTF-8 on one line and, when longer than max_bytes, cut to its first
// max_bytes bytes (never inside a UTF-8 sequence) + "... (N bytes)". max_bytes 0: never cut.
std::string printable(std::string_view text, size_t max_bytes = kQuoteLimit);

// printable(text) between single quotes: how a message quotes a value read from a file.
std::string quote(std::string_view text);

// A whole message made one printable line: escapes as printable(), and every part between single
// quotes longer than kQuoteLimit shortened, for messages composed without quote().
std::string one_line_message(std::string_view message);

class FormatError : public std::runtime_error {
 public:
  // file: the path as the user gave it; entry: which record ("annotations[12]", "object 3", "line 7");
  // field: the key or tag ("bbox", "bndbox/xmin"); may be empty when the whole file is at fault.
  // kind: the Issue kind the problem has when a checker records it instead (dataset_io.h).
  // All four are stored as one_line_message() makes them.
  FormatError(std::string file, std::string entry, std::string field, const std::string& problem,
              std::string kind = "bad_value");

  const std::string& file() const { return file_; }
  const std::string& entry() const { return entry_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }
  const std::string& kind() const { return kind_; }

 private:
  std::string file_, entry_, field_, problem_, kind_;
};

// A file or directory that does not exist or cannot be read or written. The message is stored as
// one_line_message() makes it.
class IoError : public std::runtime_error {
 public:
  explicit IoError(const std::string& message);
};

}  // namespace cvtk::data
