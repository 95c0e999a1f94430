#include "apps/image_limit_option.h"

#include <cstdint>
#include <string>

#include "vision/data/image_size.h"

namespace cvtk::apps {

void add_max_pixels_option(CLI::App& cmd) {
  cmd.add_option_function<uint64_t>(
         "--max-pixels", [](const uint64_t& pixels) { data::set_max_image_pixels(pixels); },
         "Largest image accepted, in pixels (width x height), checked before decoding; 0: no limit (default " +
             std::to_string(data::kDefaultMaxImagePixels) + ")")
      ->check(CLI::Validator(
          [](std::string& value) {
            // Unsigned parsing would take "-1" as 2^64 - 1.
            return value.find('-') == std::string::npos ? std::string()
                                                        : "must be a pixel count (0: no limit), got " + value;
          },
          "PIXELS"));
}

}  // namespace cvtk::apps
