#pragma once
// Text placed into an HTML page: every dataset string (class names, file names, paths) goes through
// html_escape before it reaches the page, in element text and in quoted attribute values alike.
#include <string>
#include <string_view>

namespace cvtk::metrics {

// Replaces & < > " ' with their character references; every other byte, UTF-8 included, is kept as
// it is (the page declares UTF-8). Bytes below 0x20 other than tab, newline and carriage return, which
// HTML does not allow, become U+FFFD, so a hostile name cannot break the page's parse.
std::string html_escape(std::string_view text);

}  // namespace cvtk::metrics
