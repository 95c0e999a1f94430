#pragma once
// Standard base64 (RFC 4648, with '=' padding), for images embedded in a page as data: URIs.
#include <string>
#include <string_view>

namespace cvtk::metrics {

std::string base64(std::string_view bytes);

}  // namespace cvtk::metrics
