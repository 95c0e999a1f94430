// cvtk predict: run a trained detector on images and draw what it finds.
#include <iostream>
#include <memory>

#include "apps/command.h"
#include "apps/image_limit_option.h"
#include "detection/run_model.h"

namespace cvtk::apps {

void add_predict_command(CLI::App& app) {
  auto o = std::make_shared<detection::PredictFilesOptions>();
  auto weights = std::make_shared<std::string>(), source = std::make_shared<std::string>(),
       out = std::make_shared<std::string>("runs/predict");
  auto no_draw = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("predict", "Detect objects in images; write COCO results and drawn images");
  add_max_pixels_option(*cmd);
  cmd->add_option("--weights", *weights, "Checkpoint from cvtk train (best.pt / last.pt)")->required();
  cmd->add_option("--source", *source,
                  "An image, a directory of images, a quoted glob ('photos/*.jpg', 'a/**/*.png'), a dataset (VOC dir, "
                  "COCO json, YOLO dir), a video file or a camera index (0)")
      ->required();
  cmd->add_option("--format", o->format, "Dataset format when --source is a dataset")->capture_default_str();
  cmd->add_option("--split", o->split, "Dataset split when --source is a dataset");
  cmd->add_option("--out", *out,
                  "Output directory; when it holds an earlier run, a numbered one is used (runs/predict2, ...)")
      ->capture_default_str();
  cmd->add_flag("--exist-ok", o->exist_ok, "Replace the earlier run's output in --out instead");
  cmd->add_option(
         "--score", o->score_threshold,
         "Output and drawing threshold: keep detections scored at least this (evaluation uses the checkpoint's, 0.05)")
      ->capture_default_str();
  cmd->add_option("--size", o->size, "Input side (default: the checkpoint's)")->check(CLI::Range(16, 8192));
  cmd->add_option("--batch", o->batch, "Images per forward pass")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", o->threads, "Threads (default: all cores)");
  cmd->add_option("--nms-iou", o->nms_iou, "Per-class NMS IoU threshold (default: the checkpoint's)");
  cmd->add_option("--max-dets", o->max_detections, "Detections per image at most (default: the checkpoint's)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--soft-nms", o->soft_nms, "Linear Soft-NMS instead of NMS (default: the checkpoint's choice)");
  cmd->add_flag("--no-draw", *no_draw, "Write only the JSON, no drawn images");
  cmd->add_option("--max-drawn", o->max_drawn, "Draw at most N images (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--classes", o->classes, "Keep only these classes (comma-separated names)")->delimiter(',');
  cmd->add_flag("--save-txt", o->save_txt,
                "Also write YOLO label files: OUT/labels/NAME.txt, 'class cx cy w h' normalised");
  cmd->add_flag("--save-conf", o->save_conf, "With --save-txt: the score as a sixth column");
  cmd->add_flag("--save-crops", o->save_crops, "Also write each detection's pixels: OUT/crops/CLASS/NAME_N.jpg");
  cmd->add_option("--max-frames", o->max_frames, "Video or camera: stop after N frames (0: at the end, or Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([=] {
    o->weights = *weights;
    o->source = *source;
    o->out = *out;
    o->draw = !*no_draw;
    set_exit_code(detection::run_predict(*o, std::cout));
  });
}

}  // namespace cvtk::apps
