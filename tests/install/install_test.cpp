// `cmake --install` and find_package(cvtk) as an application meets them. This build is installed into a
// scratch prefix; examples/detect_image is configured in a fresh directory with that prefix as its only
// CMAKE_PREFIX_PATH (this build's generator, compiler and config) and built; a tiny checkpoint is
// trained; and the example's detections on an image must be `cvtk predict`'s for the same checkpoint
// and image, with the checkpoint's options and with the score threshold, NMS IoU, detections per image
// and input size changed: the same boxes, classes and scores in the same order, compared exactly (both
// print the shortest text that reads back as the same double, and predict's width is x2 - x1 of the
// same doubles).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <vector>

#include "tests/apps/cli_run.h"
#include "tests/common.h"

namespace fs = std::filesystem;
using cvtk::testing::CliRun;
using cvtk::testing::run_shell;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Found {
  double x1, y1, w, h, score;
  int category_id;  // class index + 1: loose images have no COCO ids
};

std::ostream& operator<<(std::ostream& os, const Found& f) {
  return os << "[" << f.x1 << ", " << f.y1 << ", " << f.w << ", " << f.h << "] class " << f.category_id << " score "
            << f.score;
}

bool operator==(const Found& a, const Found& b) {
  return a.x1 == b.x1 && a.y1 == b.y1 && a.w == b.w && a.h == b.h && a.score == b.score &&
         a.category_id == b.category_id;
}

struct ExampleOutput {
  std::string inference;  // the header's configuration
  std::vector<Found> found;
  std::vector<std::string> names;
};

// detect_image's output: a header line, then "x1 y1 x2 y2 score class_index class_name" lines.
ExampleOutput parse_example(const std::string& text) {
  ExampleOutput out;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  std::smatch m;
  if (std::regex_search(line, m, std::regex("; inference: (.*)$"))) out.inference = m[1];
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string x1, y1, x2, y2, score, name;
    int index = -1;
    fields >> x1 >> y1 >> x2 >> y2 >> score >> index >> name;
    const double a = std::strtod(x1.c_str(), nullptr), b = std::strtod(y1.c_str(), nullptr);
    out.found.push_back({a, b, std::strtod(x2.c_str(), nullptr) - a, std::strtod(y2.c_str(), nullptr) - b,
                         std::strtod(score.c_str(), nullptr), index + 1});
    out.names.push_back(name);
  }
  return out;
}

// predictions.json's entries in file order.
std::vector<Found> parse_predictions(const std::string& json) {
  std::vector<Found> found;
  const std::regex entry(
      R"re("category_id": (\d+), "bbox": \[([^,\]]+), ([^,\]]+), ([^,\]]+), ([^,\]]+)\], "score": ([^}]+)\})re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), entry); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    auto num = [&](int k) { return std::strtod(m[k].str().c_str(), nullptr); };
    found.push_back({num(2), num(3), num(4), num(5), num(6), std::stoi(m[1])});
  }
  return found;
}

// The files of the installed package's CMake directory, wherever the platform's libdir put it.
fs::path installed_cmake_dir(const fs::path& prefix) {
  for (auto& e : fs::recursive_directory_iterator(prefix))
    if (e.path().filename() == "cvtkConfig.cmake") return e.path().parent_path();
  return {};
}

}  // namespace

TEST(Install, ExampleBuiltAgainstThePrefixDetectsAsPredictDoes) {
  using clock = std::chrono::steady_clock;
  const fs::path dir = cvtk::testing::process_scratch_dir("install");
  const fs::path prefix = dir / "prefix", example_build = dir / "detect_image_build";
  const std::string cmake = CVTK_CMAKE_COMMAND, config = CVTK_BUILD_CONFIG;
  const std::string config_flag = config.empty() ? "" : " --config " + config;
  std::ostringstream times;

  // The install.
  auto t0 = clock::now();
  CliRun r =
      run_shell(cvtk::testing::quoted(cmake) + " --install " + cvtk::testing::quoted(cvtk::testing::binary_dir()) +
                " --prefix " + cvtk::testing::quoted(prefix) + config_flag + " 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  times << "install " << seconds_since(t0) << " s; ";
  EXPECT_TRUE(fs::exists(prefix / "include" / "cvtk" / "detection" / "detector.h"));
  EXPECT_TRUE(fs::exists(prefix / "include" / "cvtk" / "vision" / "data" / "annotation.h"));
  EXPECT_TRUE(fs::exists(prefix / "include" / "cvtk" / "cvtk_version.h"));
  EXPECT_TRUE(fs::exists(prefix / "bin" / "cvtk"));
  // The installed cvtk finds the model program it hands train, predict and --help to.
  r = run_shell(cvtk::testing::quoted(prefix / "bin" / "cvtk") + " train --help 2>&1");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("--epochs"), std::string::npos) << r.output;
  const fs::path cmake_dir = installed_cmake_dir(prefix);
  ASSERT_FALSE(cmake_dir.empty()) << "no cvtkConfig.cmake under " << prefix;
  for (const char* f : {"cvtkConfig.cmake", "cvtkConfigVersion.cmake", "cvtkTargets.cmake"})
    EXPECT_TRUE(fs::exists(cmake_dir / f)) << f;
  // The export names no path of this checkout or build (they would break a package built from it) and
  // no precompiled header.
  for (auto& e : fs::directory_iterator(cmake_dir)) {
    const std::string text = cvtk::testing::read_file(e.path());
    EXPECT_EQ(text.find(cvtk::testing::source_dir().string()), std::string::npos) << e.path();
    EXPECT_EQ(text.find(cvtk::testing::binary_dir().string()), std::string::npos) << e.path();
    EXPECT_EQ(text.find("cmake_pch"), std::string::npos) << e.path();
    EXPECT_EQ(text.find("PRECOMPILE_HEADERS"), std::string::npos) << e.path();
  }

  // The example against the prefix alone: a fresh build directory, no registry, no inherited prefix path.
  t0 = clock::now();
  r = run_shell("env -u CMAKE_PREFIX_PATH " + cvtk::testing::quoted(cmake) + " -S " +
                cvtk::testing::quoted(cvtk::testing::source_dir() / "examples" / "detect_image") + " -B " +
                cvtk::testing::quoted(example_build) + " -G " + cvtk::testing::quoted(CVTK_CMAKE_GENERATOR) +
                " -DCMAKE_MAKE_PROGRAM=" + cvtk::testing::quoted(CVTK_MAKE_PROGRAM) + " -DCMAKE_CXX_COMPILER=" +
                cvtk::testing::quoted(CVTK_CXX_COMPILER) + (config.empty() ? "" : " -DCMAKE_BUILD_TYPE=" + config) +
                " -DCMAKE_PREFIX_PATH=" + cvtk::testing::quoted(prefix) +
                " -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string cache = cvtk::testing::read_file(example_build / "CMakeCache.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cache, m, std::regex("cvtk_DIR:PATH=(.*)")));
  EXPECT_EQ(fs::weakly_canonical(m[1].str()), fs::weakly_canonical(cmake_dir)) << "found cvtk outside the prefix";
  r = run_shell(cvtk::testing::quoted(cmake) + " --build " + cvtk::testing::quoted(example_build) + config_flag +
                " 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  times << "example configure + build " << seconds_since(t0) << " s; ";
  fs::path example = example_build / "detect_image";
  if (!fs::exists(example)) example = example_build / config / "detect_image";
  ASSERT_TRUE(fs::exists(example));

  // A tiny checkpoint.
  t0 = clock::now();
  const std::string bin = cvtk::testing::quoted(cvtk::testing::cvtk_binary());
  r = run_shell(bin + " synth " + cvtk::testing::quoted(dir / "shapes") +
                " --train 4 --val 2 --width 64 --height 64 --min-size 12 --max-size 30 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  r = run_shell(bin + " train --data " + cvtk::testing::quoted(dir / "shapes") +
                " --epochs 1 --max-steps 1 --size 64 --batch 2 --rcnn-rois 16" +
                " --threads 2 --loader-threads 1 --val-split none --out " + cvtk::testing::quoted(dir / "run") +
                " 2>&1");
  const fs::path checkpoint = dir / "run" / "last.pt";
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(fs::exists(checkpoint)) << r.output;
  times << "synth + train " << seconds_since(t0) << " s; ";
  std::vector<fs::path> images;
  for (auto& e : fs::directory_iterator(dir / "shapes" / "JPEGImages")) images.push_back(e.path());
  ASSERT_FALSE(images.empty());
  std::sort(images.begin(), images.end());
  const fs::path image = images.front();

  // The checkpoint's options (predict's --score set to the checkpoint's threshold, which the example
  // reports), then four options changed the same way in both.
  t0 = clock::now();
  const std::vector<std::string> changes = {"", " --score 0.1 --nms-iou 0.4 --max-dets 5 --size 96"};
  for (size_t k = 0; k < changes.size(); ++k) {
    SCOPED_TRACE("options:" + (changes[k].empty() ? std::string(" the checkpoint's") : changes[k]));
    r = run_shell(cvtk::testing::quoted(example) + " " + cvtk::testing::quoted(checkpoint) + " " +
                  cvtk::testing::quoted(image) + " --threads 2" + changes[k] + " 2>&1");
    ASSERT_EQ(r.code, 0) << r.output;
    const ExampleOutput ex = parse_example(r.output);
    ASSERT_FALSE(ex.inference.empty()) << r.output;
    ASSERT_FALSE(ex.found.empty()) << "no detections to compare:\n" << r.output;
    std::string score = " --score ";
    if (changes[k].empty()) {
      ASSERT_TRUE(std::regex_search(ex.inference, m, std::regex("score >= ([^,]+),"))) << ex.inference;
      score += m[1].str();
    } else {
      score = "";
    }
    const fs::path out = dir / ("predict" + std::to_string(k));
    CliRun p = run_shell(bin + " predict --weights " + cvtk::testing::quoted(checkpoint) + " --source " +
                         cvtk::testing::quoted(image) + " --out " + cvtk::testing::quoted(out) +
                         " --no-draw --threads 2" + score + changes[k] + " 2>&1");
    ASSERT_EQ(p.code, 0) << p.output;
    EXPECT_NE(p.output.find("inference: " + ex.inference), std::string::npos)
        << "example: " << ex.inference << "\npredict:\n"
        << p.output;
    const auto predicted = parse_predictions(cvtk::testing::read_file(out / "predictions.json"));
    ASSERT_EQ(ex.found.size(), predicted.size()) << r.output << "\n"
                                                 << cvtk::testing::read_file(out / "predictions.json");
    for (size_t i = 0; i < predicted.size(); ++i) EXPECT_EQ(ex.found[i], predicted[i]) << "detection " << i;
    for (const auto& name : ex.names) EXPECT_FALSE(name.empty());
  }
  times << "two example + predict pairs " << seconds_since(t0) << " s";

  // An error names the file.
  r = run_shell(cvtk::testing::quoted(example) + " " + cvtk::testing::quoted(dir / "missing.pt") + " " +
                cvtk::testing::quoted(image) + " 2>&1");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("missing.pt"), std::string::npos) << r.output;

  std::cout << "times: " << times.str() << "\n";
  RecordProperty("times", times.str());
  if (!HasFailure()) fs::remove_all(dir);
}
