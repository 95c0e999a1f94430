// cvtk eval: mAP of detections against ground truth, under the VOC and COCO protocols.
#include <iostream>
#include <memory>

#include "apps/command.h"
#include "apps/image_limit_option.h"
#include "apps/model_eval.h"
#include "metrics/eval_files.h"

namespace cvtk::apps {

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<metrics::EvalFilesOptions>();
  auto gt = std::make_shared<std::string>();
  auto dets = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("auto");
  auto protocol = std::make_shared<std::string>("voc");
  auto json = std::make_shared<std::string>(), csv = std::make_shared<std::string>(),
       plots = std::make_shared<std::string>(), html = std::make_shared<std::string>(),
       classes_file = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate detections against ground truth (VOC07, VOC, COCO mAP)");
  add_max_pixels_option(*cmd);
  cmd->add_option("--gt", *gt, "Ground truth: VOC directory, COCO instances .json, or YOLO directory");
  cmd->add_option("--dets", *dets,
                  "Detections: COCO results .json, or a directory of VOC comp4_det_<split>_<class>.txt files");
  cmd->add_option("--protocol", *protocol, "voc07, voc, coco or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"voc07", "voc", "coco", "all"}));
  cmd->add_option("--format", *format, "Ground-truth format: auto, voc, coco or yolo")->capture_default_str();
  cmd->add_option("--split", o->read.split, "Ground-truth split (VOC ImageSets/Main/<split>.txt)");
  cmd->add_option("--classes-file", *classes_file, "Ground-truth class names file");
  cmd->add_option("--iou", o->iou_threshold, "VOC protocols: IoU threshold (a match needs IoU > it)")
      ->capture_default_str();
  cmd->add_flag("--plus-one", o->plus_one, "VOC protocols: legacy pixel-index widths (x2 - x1 + 1)");
  cmd->add_option("--score-threshold", o->score_threshold, "Drop detections scored below this");
  cmd->add_option("--max-dets", o->max_detections, "VOC protocols: keep the N highest-scored detections per image");
  cmd->add_option("--coco-max-dets", o->coco_max_dets, "COCO: the maxDets list (default 1 10 100)")->delimiter(',');
  cmd->add_option("--classes", o->classes, "Evaluate only these classes (comma-separated names)")->delimiter(',');
  cmd->add_flag("--skip-unknown", o->skip_unknown,
                "Count and skip detections of images or classes the ground truth lacks");
  cmd->add_option("--json", *json, "Write the full report (with PR curves) as JSON");
  cmd->add_option("--csv", *csv, "Write one row per class and protocol as CSV");
  cmd->add_option("--plots", *plots, "Write PNG precision-recall plots into this directory");
  cmd->add_option("--html", *html, "Write a self-contained HTML report");
  cmd->add_option("--threads", o->threads, "Worker threads (default: all cores)");
  auto weights = std::make_shared<std::string>(), save = std::make_shared<std::string>();
  auto size = std::make_shared<int>(0);
  auto soft = std::make_shared<bool>(false);
  cmd->add_option("--weights", *weights,
                  "Run this checkpoint (cvtk train) on the ground truth's images instead of reading --dets");
  cmd->add_option("--data", *gt, "Same as --gt");
  cmd->add_option("--save-dets", *save, "With --weights: write the model's detections as COCO results JSON");
  cmd->add_option("--size", *size, "With --weights: input side (default: the checkpoint's)")
      ->check(CLI::Range(16, 8192));
  cmd->add_flag("--soft-nms", *soft, "With --weights: linear Soft-NMS instead of NMS");
  cmd->callback([=] {
    if (gt->empty()) throw CLI::ValidationError("eval", "--gt (or --data) is required");
    if (dets->empty() == weights->empty())
      throw CLI::ValidationError("eval", "give exactly one of --dets and --weights");
    o->ground_truth = *gt;
    o->detections = *dets;
    o->read.format = data::parse_format(*format);
    o->read.classes_file = *classes_file;
    o->protocols = {*protocol};
    o->json = *json;
    o->csv = *csv;
    o->plots = *plots;
    o->html = *html;
    if (!weights->empty()) {
      set_exit_code(run_model_eval_command({*weights, *save, *size, *soft}, *o));
      return;
    }
    set_exit_code(metrics::run_eval_files(*o, std::cout));
  });
}

}  // namespace cvtk::apps
