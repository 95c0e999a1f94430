// cvtk data check | stats | convert: look at a dataset, and move it between formats.
#include <filesystem>
#include <iostream>
#include <memory>

#include "apps/command.h"
#include "apps/image_limit_option.h"
#include "metrics/dataset_report.h"
#include "vision/data/check.h"
#include "vision/data/dataset_io.h"
#include "vision/data/file_util.h"
#include "vision/data/image_size.h"
#include "vision/data/stats.h"
#include "vision/image/decode.h"

namespace cvtk::apps {
namespace {

struct DatasetFlags {
  std::string path, format = "auto", split, classes;
  bool clip = false;
  data::ReadOptions read_options() const {
    data::ReadOptions o;
    o.format = data::parse_format(format);
    o.split = split;
    o.classes_file = classes;
    o.clip_boxes = clip;
    return o;
  }
};

void add_dataset_flags(CLI::App* cmd, DatasetFlags& f, const std::string& what) {
  cmd->add_option("dataset", f.path, what)->required();
  cmd->add_option("--format", f.format, "Dataset format: auto, voc, coco or yolo")->capture_default_str();
  cmd->add_option("--split", f.split, "Split to read (VOC ImageSets/Main/<split>.txt, YOLO images/<split>/)");
  cmd->add_option("--classes", f.classes, "Class names file, one per line (default: classes.txt in the dataset)");
}

void print_category_map(const data::Dataset& ds) {
  if (ds.category_ids.empty()) return;
  std::cout << "category ids -> labels:";
  for (size_t k = 0; k < ds.classes.size(); ++k)
    std::cout << (k ? ", " : " ") << ds.category_ids[k] << "->" << k << " (" << ds.classes[k] << ")";
  std::cout << "\n";
}

void add_check_command(CLI::App* data) {
  auto f = std::make_shared<DatasetFlags>();
  auto decode = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  CLI::App* cmd = data->add_subcommand("check", "List every problem in a dataset; exit 1 when there are any");
  add_dataset_flags(cmd, *f, "Dataset: VOC directory, COCO .json, or YOLO directory");
  cmd->add_flag("--decode", *decode, "Decode every image (slower; catches corrupt files and size mismatches)");
  cmd->add_flag("--all", *all, "List every problem instead of the first 50");
  cmd->add_option("--threads", *threads, "Worker threads (default: all cores)");
  add_max_pixels_option(*cmd);
  cmd->callback([=] {
    data::CheckOptions o;
    o.read = f->read_options();
    o.decode = *decode;
    o.threads = *threads;
    // The decoder training and prediction use, so a clean check means they can read every image.
    o.decoder = [](const std::filesystem::path& file) {
      const cv::Size s = image::decode_image(file).source_size;
      return data::ImageSize{s.width, s.height};
    };
    const data::CheckReport report = data::check_dataset(f->path, o);
    data::print_check_report(report, std::cout, *all ? report.issues.size() : 50);
    set_exit_code(report.clean() ? 0 : 1);
  });
}

void add_stats_command(CLI::App* data) {
  auto f = std::make_shared<DatasetFlags>();
  auto plot = std::make_shared<std::string>();
  CLI::App* cmd = data->add_subcommand("stats", "Per-split, per-class counts and box size/aspect distributions");
  add_max_pixels_option(*cmd);
  add_dataset_flags(cmd, *f, "Dataset: VOC directory, COCO .json, or YOLO directory");
  cmd->add_option("--plot", *plot, "Also write a PNG chart to this file");
  auto report = std::make_shared<std::string>();
  cmd->add_option("--report", *report, "Also write the dataset page (self-contained HTML) to this file");
  cmd->callback([=] {
    std::vector<std::string> splits;
    if (!f->split.empty())
      splits.push_back(f->split);
    else
      splits = data::list_splits(f->path);
    if (splits.empty()) splits.push_back("");
    std::vector<data::SplitStats> all;
    std::vector<data::Dataset> datasets;  // kept for the report only
    for (const auto& split : splits) {
      data::ReadOptions o = f->read_options();
      o.split = split;
      data::Dataset ds = data::read_dataset(f->path, o);
      if (all.empty()) print_category_map(ds);
      all.push_back(data::compute_stats(ds));
      data::print_stats(all.back(), std::cout);
      if (!report->empty()) datasets.push_back(std::move(ds));
    }
    if (!report->empty()) {
      metrics::DatasetReportOptions ro;
      ro.source = f->path;
      const bool existed = std::filesystem::exists(*report);
      data::write_file_atomic(*report, metrics::dataset_report_html(datasets, all, ro));
      std::cout << (existed ? "replaced " : "wrote ") << *report << "\n";
    }
    if (!plot->empty()) {
      data::plot_stats(all, *plot);
      std::cout << "wrote " << *plot << "\n";
    }
  });
}

void add_convert_command(CLI::App* data) {
  auto f = std::make_shared<DatasetFlags>();
  auto dst = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto no_images = std::make_shared<bool>(false);
  CLI::App* cmd = data->add_subcommand("convert", "Convert a dataset between VOC, COCO and YOLO");
  add_max_pixels_option(*cmd);
  add_dataset_flags(cmd, *f, "Source dataset");
  cmd->add_option("destination", *dst,
                  "Output: a new directory (VOC, YOLO, COCO with images/), or a .json file (COCO, annotations only)")
      ->required();
  cmd->add_option("--to", *to, "Output format")->required()->check(CLI::IsMember({"voc", "coco", "yolo"}));
  cmd->add_flag("--no-images", *no_images, "Write annotations only, do not copy image files");
  cmd->add_flag("--clip", f->clip, "Clip boxes that reach outside their image instead of failing");
  cmd->callback([=] {
    const data::Dataset ds = data::read_dataset(f->path, f->read_options());
    print_category_map(ds);
    data::WriteOptions w;
    w.format = data::parse_format(*to);
    w.copy_images = !*no_images;
    data::write_dataset(ds, *dst, w);
    std::cout << "wrote " << ds.images.size() << " images, " << ds.object_count() << " objects, " << ds.classes.size()
              << " classes as " << *to << " to " << *dst << "\n";
    if (ds.clipped_boxes) std::cout << "clipped " << ds.clipped_boxes << " boxes to their image\n";
  });
}

}  // namespace

void add_data_command(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Check, describe and convert datasets");
  data->require_subcommand(1);
  add_check_command(data);
  add_stats_command(data);
  add_convert_command(data);
}

}  // namespace cvtk::apps
