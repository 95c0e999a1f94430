// cvtk classify: run a backbone as an image classifier and print the top-k classes.
#include <iostream>
#include <memory>
#include <sstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "apps/command.h"
#include "apps/image_limit_option.h"
#include "vision/backbones/registry.h"
#include "vision/inference/backbone_executor.h"
#include "vision/data/dataset_io.h"
#include "vision/image/decode.h"
#include "vision/nn/weights.h"

namespace cvtk::apps {
namespace {

// torchvision's eval preprocessing: resize the shorter side (bilinear, antialiased like PIL via
// INTER_AREA when shrinking), centre crop, RGB in [0, 1], ImageNet mean/std.
torch::Tensor preprocess(const std::string& file, int64_t crop, int64_t resize) {
  // decode_image: the size limit, truncation and damage checks every command applies.
  const cv::Mat full = image::decode_image(file).image;
  const double scale = static_cast<double>(resize) / std::min(full.cols, full.rows);
  cv::Mat resized;
  cv::resize(full, resized, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int x0 = (resized.cols - static_cast<int>(crop)) / 2, y0 = (resized.rows - static_cast<int>(crop)) / 2;
  cv::Mat rgb = resized(cv::Rect(x0, y0, static_cast<int>(crop), static_cast<int>(crop))).clone();
  rgb.convertTo(rgb, CV_32FC3, 1.0 / 255);
  auto t = torch::from_blob(rgb.data, {crop, crop, 3}, torch::kFloat).permute({2, 0, 1}).clone();
  const auto mean = torch::tensor({0.485, 0.456, 0.406}).view({3, 1, 1}),
             stdv = torch::tensor({0.229, 0.224, 0.225}).view({3, 1, 1});
  return ((t - mean) / stdv).unsqueeze(0);
}

}  // namespace

void add_classify_command(CLI::App& app) {
  auto arch = std::make_shared<std::string>(), weights = std::make_shared<std::string>(),
       image = std::make_shared<std::string>(), tensor = std::make_shared<std::string>(),
       labels = std::make_shared<std::string>();
  auto topk = std::make_shared<int>(5);
  auto json = std::make_shared<bool>(false);
  auto classes = std::make_shared<int64_t>(1000);
  CLI::App* cmd = app.add_subcommand("classify", "Run a backbone as a classifier on an image or a tensor");
  add_max_pixels_option(*cmd);
  cmd->add_option("--arch", *arch, "Backbone name (see cvtk models)")->required();
  // Without trained weights the "predictions" would be noise: the flag is required.
  cmd->add_option("--weights", *weights,
                  "Weights file (torchvision state_dict via python/torchvision_weights.py export)")
      ->required();
  auto* img =
      cmd->add_option("--image", *image, "Image file: resized, centre-cropped and normalised as torchvision does");
  auto* ten = cmd->add_option("--tensor", *tensor,
                              "A saved [N, 3, H, W] tensor, used as is (first entry of a torch.save'd dict)");
  img->excludes(ten);
  cmd->add_option("--topk", *topk, "How many classes to print")->capture_default_str();
  cmd->add_option("--labels", *labels, "Class names, one per line (default: class indices)");
  cmd->add_option("--num-classes", *classes, "Classifier outputs")->capture_default_str();
  cmd->add_flag("--json", *json, "Print JSON");
  cmd->callback([=] {
    if (image->empty() == tensor->empty())
      throw CLI::ValidationError("classify", "give exactly one of --image and --tensor");
    at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    vision::BackboneOptions o;
    o.num_classes = *classes;
    o.aux_logits = false;
    vision::Backbone net = vision::create_backbone(*arch, o);
    {
      auto report = vision::load_weights(*net, *weights, false);
      // Aux heads in the file are fine to ignore; anything else missing or mis-shaped is an error.
      std::vector<std::string> unexpected;
      for (const auto& k : report.unexpected)
        if (k.rfind("AuxLogits.", 0) != 0 && k.rfind("aux1.", 0) != 0 && k.rfind("aux2.", 0) != 0)
          unexpected.push_back(k);
      report.unexpected = unexpected;
      if (!report.ok()) throw std::runtime_error(*weights + ": weights do not fit " + *arch + ":" + report.describe());
    }
    const auto executor = vision::optimize_for_inference(net);
    torch::Tensor x;
    if (!tensor->empty()) {
      const auto entries = vision::read_weights(*tensor);
      if (entries.empty()) throw std::runtime_error(*tensor + ": no tensor in the file");
      x = entries.front().second.to(torch::kFloat);
    } else {
      const int64_t crop = net->default_input_size();
      x = preprocess(*image, crop, crop == 299 ? 342 : 256);
    }
    if (x.dim() == 3) x = x.unsqueeze(0);
    if (x.dim() != 4 || x.size(1) != 3) {
      std::ostringstream shape;
      shape << x.sizes();
      throw std::runtime_error((tensor->empty() ? *image : *tensor) + ": expected an [N, 3, H, W] tensor, got " +
                               shape.str());
    }
    std::vector<std::string> names;
    if (!labels->empty()) names = data::read_class_names(*labels);
    torch::NoGradGuard no_grad;
    const auto probs = torch::softmax(executor->forward(x), 1);
    const auto top = probs.topk(std::min<int64_t>(*topk, probs.size(1)), 1);
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (int64_t n = 0; n < probs.size(0); ++n) {
      nlohmann::ordered_json row = nlohmann::ordered_json::array();
      if (!*json && probs.size(0) > 1) std::cout << "input " << n << ":\n";
      for (int64_t k = 0; k < std::get<0>(top).size(1); ++k) {
        const int64_t c = std::get<1>(top)[n][k].item<int64_t>();
        const double p = std::get<0>(top)[n][k].item<double>();
        const std::string name = c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c);
        row.push_back({{"class", c}, {"name", name}, {"probability", p}});
        if (!*json) std::printf("  %6.2f%%  %5lld  %s\n", 100 * p, static_cast<long long>(c), name.c_str());
      }
      out.push_back(row);
    }
    if (*json) std::cout << out.dump(1) << "\n";
  });
}

}  // namespace cvtk::apps
