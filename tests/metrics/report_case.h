#pragma once
// A small evaluation case for the HTML report's tests: three classes with hostile names (markup,
// quotes, non-ASCII), eight 160x120 images of which one file is missing, and detections that make
// every kind of error (true positives, Loc, Cls, Dupe, Bkg, missed objects).
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "metrics/evaluate.h"
#include "metrics/protocol.h"
#include "metrics/report.h"
#include "vision/data/annotation.h"

namespace cvtk::testing {

inline const char* kHostileClass = "<script>alert(1)</script>";
inline const char* kQuotedClass = "say \"hi\" & 'bye'";
inline const char* kUmlautClass = "Zellkern-\xC3\xA4";  // Zellkern-ä

struct ReportCase {
  data::Dataset gt;
  std::vector<data::Detection> dets;
  std::vector<metrics::Report> reports;  // voc07, voc, coco
};

// Images are written into image_dir (JPEG), except im7.jpg, which stays missing.
inline ReportCase make_report_case(const std::filesystem::path& image_dir) {
  ReportCase c;
  c.gt.classes = {kHostileClass, kQuotedClass, kUmlautClass};
  c.gt.image_root = image_dir;
  c.gt.source = (image_dir / "gt").string();
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::filesystem::create_directories(image_dir);
  for (int i = 0; i < 8; ++i) {
    data::ImageRecord r;
    r.id = i + 1;
    r.name = "im" + std::to_string(i);
    r.file = r.name + ".jpg";
    r.width = 160;
    r.height = 120;
    cv::Mat img(120, 160, CV_8UC3, cv::Scalar(200, 200, 200));
    for (int k = 0; k < 3; ++k) {
      data::Object o;
      const double x = 10 + 45 * k, y = 20 + 10 * (i % 3), w = 30 + 5 * (i % 2), h = 40;
      o.box = {x, y, x + w, y + h};
      o.label = (i + k) % 3;
      o.id = i * 3 + k + 1;
      r.objects.push_back(o);
      cv::rectangle(img, cv::Rect(int(x), int(y), int(w), int(h)), cv::Scalar(60 * k, 100, 220 - 60 * k), -1);
      const data::Box b = o.box;
      auto det = [&](data::Box box, int label, double score) { c.dets.push_back({r.id, label, score, box}); };
      const double jitter = 2 * u(rng);
      switch ((i * 3 + k) % 6) {
        case 0:  // a true positive and a duplicate
          det({b.x1 + jitter, b.y1, b.x2, b.y2}, o.label, 0.9);
          det({b.x1, b.y1 + 3, b.x2, b.y2 - 1}, o.label, 0.5);
          break;
        case 1:  // a true positive
          det({b.x1, b.y1 + jitter, b.x2, b.y2}, o.label, 0.8 - 0.01 * i);
          break;
        case 2:  // a poor box (Loc)
          det({b.x1 + 0.5 * w, b.y1 + 0.3 * h, b.x2 + 0.5 * w, b.y2}, o.label, 0.7);
          break;
        case 3:  // the right box, the wrong class (Cls)
          det(b, (o.label + 1) % 3, 0.6);
          break;
        case 4:  // missed; a background detection elsewhere
          det({140, 100, 155, 115}, o.label, 0.4);
          break;
        default:  // a true positive with a low score
          det(b, o.label, 0.2 + 0.02 * i);
      }
    }
    if (i != 7) cv::imwrite((image_dir / r.file).string(), img);
    c.gt.images.push_back(r);
  }
  for (const char* name : {"voc07", "voc", "coco"}) {
    metrics::Report r = metrics::evaluate(c.gt, c.dets, metrics::protocol_by_name(name));
    r.ground_truth = c.gt.source;
    r.detections_source = "dets.json";
    c.reports.push_back(std::move(r));
  }
  return c;
}

}  // namespace cvtk::testing
