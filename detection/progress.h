#pragma once
// Training progress on the terminal: a live, redrawn bar when stdout is a terminal, plain lines every
// `every` steps when it is a file or a pipe (so logs stay readable).
#include <chrono>
#include <cstdio>
#include <string>

namespace cvtk::detection {

class Progress {
 public:
  Progress(std::FILE* out, int every);
  // One step done: `done` of `total` in the epoch; `text` is the metrics part of the line.
  void step(int epoch, int epochs, long done, long total, double seconds_left, const std::string& text);
  void line(const std::string& text);  // a permanent line (clears a live bar first)
  bool live() const { return live_; }

 private:
  std::FILE* out_;
  int every_;
  bool live_;
  bool bar_shown_ = false;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"
double peak_memory_mb();                      // peak resident set size of this process

}  // namespace cvtk::detection
