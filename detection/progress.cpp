#include "detection/progress.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace cvtk::detection {

Progress::Progress(std::FILE* out, int every) : out_(out), every_(std::max(1, every)), live_(isatty(fileno(out))) {}

void Progress::step(int epoch, int epochs, long done, long total, double left, const std::string& text) {
  if (live_) {
    const int width = 24;
    const int filled = total > 0 ? int(width * done / total) : 0;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(out_, "\r\033[Kepoch %d/%d [%s] %ld/%ld %s ETA %s", epoch, epochs, bar.c_str(), done, total,
                 text.c_str(), format_duration(left).c_str());
    std::fflush(out_);
    bar_shown_ = true;
  } else if (done % every_ == 0 || done == total) {
    std::fprintf(out_, "epoch %d/%d step %ld/%ld %s ETA %s\n", epoch, epochs, done, total, text.c_str(),
                 format_duration(left).c_str());
    std::fflush(out_);
  }
}

void Progress::line(const std::string& text) {
  if (live_ && bar_shown_) std::fprintf(out_, "\r\033[K");
  bar_shown_ = false;
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const long t = long(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

double peak_memory_mb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream s(line.substr(6));
      double kb = 0;
      s >> kb;
      return kb / 1024;
    }
  return 0;
}

}  // namespace cvtk::detection
