#include "detection/train_log.h"

#include <functional>
#include <sstream>
#include <utility>
#include <vector>

#include "vision/data/errors.h"

namespace cvtk::detection {

namespace {

using Field = std::pair<std::string, std::function<double(const EpochRecord&)>>;

// Every column, in file order.
const std::vector<Field>& fields() {
  static const std::vector<Field> f = [] {
    std::vector<Field> v = {
        {"epoch", [](const EpochRecord& r) { return double(r.epoch); }},
        {"steps", [](const EpochRecord& r) { return double(r.steps); }},
        {"lr", [](const EpochRecord& r) { return r.lr; }},
        {"loss", [](const EpochRecord& r) { return r.loss; }},
    };
    for (size_t k = 0; k < kLossTermNames.size(); ++k)
      v.push_back({kLossTermNames[k], [k](const EpochRecord& r) { return r.terms[k]; }});
    const std::vector<Field> rest = {
        {"images_per_s", [](const EpochRecord& r) { return r.images_per_s; }},
        {"data_s", [](const EpochRecord& r) { return r.data_s; }},
        {"step_s", [](const EpochRecord& r) { return r.step_s; }},
        {"empty_images", [](const EpochRecord& r) { return double(r.empty_images); }},
        {"val_map50", [](const EpochRecord& r) { return r.val.map50; }},
        {"val_voc07", [](const EpochRecord& r) { return r.val.voc07; }},
        {"val_coco_ap", [](const EpochRecord& r) { return r.val.coco_ap; }},
        {"val_coco_ap50", [](const EpochRecord& r) { return r.val.coco_ap50; }},
        {"seconds", [](const EpochRecord& r) { return r.seconds; }},
        {"peak_mb", [](const EpochRecord& r) { return r.peak_mb; }},
    };
    v.insert(v.end(), rest.begin(), rest.end());
    return v;
  }();
  return f;
}

// Counts print as integers (a stream would write 1234567 steps as 1.23457e+06); other values as a
// stream writes doubles.
std::string text(double v) {
  if (v == static_cast<double>(static_cast<long long>(v)) && v > -1e15 && v < 1e15)
    return std::to_string(static_cast<long long>(v));
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

EpochLog::EpochLog(const std::filesystem::path& file, Format format, bool append)
    : out_(file, append ? std::ios::app : std::ios::trunc), format_(format) {
  if (!out_) throw data::IoError(file.string() + ": cannot open for writing");
  if (!append && format_ == Format::csv) {
    for (size_t i = 0; i < fields().size(); ++i) out_ << (i ? "," : "") << fields()[i].first;
    out_ << "\n" << std::flush;
  }
}

void EpochLog::write(const EpochRecord& r) {
  std::ostringstream line;
  if (format_ == Format::csv) {
    for (size_t i = 0; i < fields().size(); ++i) line << (i ? "," : "") << text(fields()[i].second(r));
  } else {
    line << "{";
    for (size_t i = 0; i < fields().size(); ++i)
      line << (i ? "," : "") << "\"" << fields()[i].first << "\":" << text(fields()[i].second(r));
    line << "}";
  }
  out_ << line.str() << "\n" << std::flush;
}

}  // namespace cvtk::detection
