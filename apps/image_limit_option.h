#pragma once
// --max-pixels, the one flag every subcommand that reads images shares: the largest image, in
// pixels (width x height), a command accepts. It is checked against the size an image's header
// declares, before any decoding, so a file that declares 65000x65000 is an error naming the file
// instead of a 12 GB allocation (vision/data/image_size.h holds the limit).
#include <CLI/CLI.hpp>

namespace cvtk::apps {

// Adds --max-pixels to cmd; its value becomes the process-wide limit while the command line is parsed,
// before the command runs.
void add_max_pixels_option(CLI::App& cmd);

}  // namespace cvtk::apps
