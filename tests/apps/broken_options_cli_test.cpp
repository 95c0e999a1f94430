// Broken inputs other than datasets, through the cvtk binary as a user meets them: pipeline specs,
// config files, checkpoints, detection files, files the user may not read, output paths that cannot be
// written, and flag values out of range. Every case must exit 2 with ONE line on stderr,
// "cvtk: error: ...", naming the file or the flag or field at fault, with no stack trace, and leave
// the directory it ran in exactly as it was: no run directory, no options.toml, no half-written
// report, no staging directory. (Broken datasets are bad_input_cli_test.cpp's corpus.)
//
// Permission cases run cvtk as the unprivileged user "nobody" when the tests run as root (root reads
// any file whatever its mode); they are skipped, saying so, where that user cannot run the binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <regex>

#include "tests/apps/cli_run.h"
#include "tests/common.h"

namespace fs = std::filesystem;
using cvtk::testing::CliRun;
using cvtk::testing::FailsWithOneLine;
using cvtk::testing::run_shell;
using cvtk::testing::write_text;

namespace {

// What every case may use: a small VOC dataset, its COCO conversion, a trained checkpoint, and the
// COCO results of that checkpoint on the dataset. Built once per test process.
struct Fixture {
  fs::path dir, voc, coco_json, checkpoint, dets;
  std::string image_id;  // of the first image in coco_json
  bool ok = false;
  std::string log;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    x.dir = cvtk::testing::process_scratch_dir("broken_options_fixture");
    x.voc = x.dir / "shapes";
    x.coco_json = x.dir / "shapes.json";
    x.checkpoint = x.dir / "run" / "last.pt";
    x.dets = x.dir / "dets.json";
    const std::string bin = cvtk::testing::cvtk_binary().string();
    CliRun r = run_shell(bin + " synth " + cvtk::testing::quoted(x.voc) +
                         " --train 4 --val 2 --width 64 --height 64 --min-size 12 --max-size 30 2>&1");
    x.log += r.output;
    if (r.code != 0) return x;
    r = run_shell(bin + " data convert " + cvtk::testing::quoted(x.voc) + " " + cvtk::testing::quoted(x.coco_json) +
                  " --to coco --split val 2>&1");
    x.log += r.output;
    if (r.code != 0) return x;
    const std::string json = cvtk::testing::read_file(x.coco_json);
    std::smatch m;
    if (!std::regex_search(json, m, std::regex(R"("images": *\[\s*\{\s*"id": *([0-9]+))"))) return x;
    x.image_id = m[1];
    r = run_shell(bin + " train --data " + cvtk::testing::quoted(x.voc) +
                  " --epochs 1 --max-steps 1 --size 64 --batch 2 --rcnn-rois 16" +
                  " --threads 2 --loader-threads 1 --val-split none --out " + cvtk::testing::quoted(x.dir / "run") +
                  " 2>&1");
    x.log += r.output;
    if (r.code != 0 || !fs::exists(x.checkpoint)) return x;
    r = run_shell(bin + " eval --gt " + cvtk::testing::quoted(x.voc) + " --split val --weights " +
                  cvtk::testing::quoted(x.checkpoint) + " --save-dets " + cvtk::testing::quoted(x.dets) + " 2>&1");
    x.log += r.output;
    x.ok = r.code == 0 && fs::exists(x.dets);
    return x;
  }();
  return f;
}

// One broken input. make() writes the case's files into the case directory (the working directory
// of the run) and returns the arguments; `expect` must appear in the error line.
struct Case {
  std::string name;
  std::function<std::string(const fs::path& dir, const Fixture& f)> make;
  std::string expect;
  bool as_nobody = false;  // a permission case (see the file comment)
};

// Every file and directory under dir, with its size (a file rewritten in place shows as a change).
std::map<std::string, uintmax_t> snapshot(const fs::path& dir) {
  std::map<std::string, uintmax_t> s;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto rel = fs::relative(it->path(), dir).string();
    s[rel] = it->is_regular_file(ec) ? it->file_size(ec) : uintmax_t(-1);
  }
  return s;
}

// The command prefix that runs as "nobody" when we are root; "" otherwise.
std::string unprivileged_prefix() {
  return ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
}

bool nobody_can_run_cvtk() {
  static const bool can = [] {
    if (::geteuid() != 0) return true;
    return run_shell(unprivileged_prefix() + cvtk::testing::cvtk_binary().string() + " --version 2>&1").code == 0;
  }();
  return can;
}

struct Outcome {
  std::string args;
  CliRun run;
  std::map<std::string, uintmax_t> before, after;
};

void run_cases(const std::string& suite, const std::vector<Case>& cases) {
  const Fixture& f = fixture();
  ASSERT_TRUE(f.ok) << "fixture failed:\n" << f.log;
  const fs::path scratch = cvtk::testing::scratch_dir("broken_options_" + suite);
  std::vector<Outcome> outcomes(cases.size());
  cvtk::testing::for_each_on_two_threads(cases.size(), [&](size_t i) {
    const Case& c = cases[i];
    Outcome& o = outcomes[i];
    const fs::path dir = scratch / c.name;
    fs::create_directories(dir);
    if (c.as_nobody) fs::permissions(dir, fs::perms::all);  // nobody may write here, unless the case says otherwise
    o.args = c.make(dir, f);
    o.before = snapshot(dir);
    const fs::path out = dir.parent_path() / (c.name + ".stdout");
    const std::string prefix = c.as_nobody ? unprivileged_prefix() : "";
    o.run = run_shell("cd " + cvtk::testing::quoted(dir) + " && " + prefix + cvtk::testing::cvtk_binary().string() +
                      " " + o.args + " 2>&1 >" + cvtk::testing::quoted(out));
    o.run.err = o.run.output;
    o.after = snapshot(dir);
  });
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const Outcome& o = outcomes[i];
    SCOPED_TRACE(c.name + ": cvtk " + o.args);
    EXPECT_TRUE(FailsWithOneLine(o.run));
    EXPECT_NE(o.run.err.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << o.run.err;
    EXPECT_LT(o.run.err.size(), 600u);
    for (const auto& [path, size] : o.after) {
      auto it = o.before.find(path);
      if (it == o.before.end())
        ADD_FAILURE() << "left behind: " << path;
      else if (it->second != size)
        ADD_FAILURE() << "changed: " << path;
    }
    for (const auto& [path, size] : o.before)
      if (!o.after.count(path)) {
        ADD_FAILURE() << "removed: " << path;
      }
  }
}

using P = const fs::path&;
using F = const Fixture&;

// A copy of the first `bytes` bytes of a file (or all of it with a byte changed).
void write_prefix(const fs::path& from, const fs::path& to, size_t bytes) {
  write_text(to, cvtk::testing::read_file(from).substr(0, bytes));
}

}  // namespace

// Pipeline specs, through train and augment preview: the token and what is wrong with it.
TEST(BrokenOptionsCli, PipelineSpecs) {
  const std::vector<std::pair<std::string, std::string>> specs = {
      {"unknown_transform", "hflip(p=0.5) flop"},
      {"unclosed", "hflip(p=0.5"},
      {"not_a_number", "hflip(p=abc)"},
      {"out_of_range", "hflip(p=1.5)"},
      {"unknown_key", "hflip(q=0.5)"},
      {"erase_area_reversed", "erase(sl=0.5,sh=0.1)"},
      {"negative_size", "resize(-5)"},
      {"unknown_choice", "erase(mode=everything)"},
      {"misspelt_preset", "thundernet-trian"},
      {"nan", "hflip(p=nan)"},
  };
  std::vector<Case> cases;
  for (const auto& [name, spec] : specs) {
    const std::string quoted = "'" + spec + "'";
    cases.push_back(
        {"train_" + name,
         [=](P, F f) { return "train --data " + cvtk::testing::quoted(f.voc) + " --epochs 1 --pipeline " + quoted; },
         "--pipeline"});
    cases.push_back({"preview_" + name,
                     [=](P, F f) {
                       return "augment preview --data " + cvtk::testing::quoted(f.voc) + " --out prev --pipeline " +
                              quoted;
                     },
                     "--pipeline"});
  }
  run_cases("pipelines", cases);
}

// train --config: the file and line at fault.
TEST(BrokenOptionsCli, ConfigFiles) {
  auto config = [](const std::string& text) {
    return [text](P d, F f) {
      write_text(d / "c.toml", text);
      return "train --data " + cvtk::testing::quoted(f.voc) + " --config c.toml";
    };
  };
  run_cases(
      "configs",
      {
          {"missing", [](P, F f) { return "train --data " + cvtk::testing::quoted(f.voc) + " --config nothere.toml"; },
           "nothere.toml"},
          {"directory",
           [](P d, F f) {
             fs::create_directories(d / "cfg");
             return "train --data " + cvtk::testing::quoted(f.voc) + " --config cfg";
           },
           "cfg"},
          {"no_equals", config("epochs 3\n"), "c.toml:1"},
          {"unknown_key", config("# run\nepochs = 3\nepoch = 3\n"), "c.toml:3: unknown key 'epoch'"},
          {"bad_number", config("epochs = abc\n"), "c.toml:1"},
          {"out_of_range", config("size = 10\n"), "c.toml:1"},
          {"bad_choice", config("schedule = \"linear\"\n"), "c.toml:1"},
          {"binary",
           config(std::string("\x7f"
                              "ELF\x02\x01\x01\0\0\0",
                              10)),
           "c.toml:1"},
          {"bad_list", config("multiscale = [240, abc]\n"), "c.toml:1"},
          {"bad_pipeline", config("pipeline = \"flop\"\n"), "flop"},
      });
}

// Checkpoints given to predict, eval --weights, train --init-weights and --resume.
TEST(BrokenOptionsCli, Checkpoints) {
  auto predict = [](const std::string& weights) { return "predict --weights " + weights + " --source img.jpg"; };
  // Every checkpoint case needs an image to predict on: the dataset's first.
  auto with_image = [](P d, F f) {
    for (const auto& e : fs::directory_iterator(f.voc / "JPEGImages")) {
      fs::copy_file(e.path(), d / "img.jpg", fs::copy_options::overwrite_existing);
      break;
    }
  };
  run_cases(
      "checkpoints",
      {
          {"missing",
           [=](P d, F f) {
             with_image(d, f);
             return predict("nothere.pt");
           },
           "nothere.pt"},
          {"empty",
           [=](P d, F f) {
             with_image(d, f);
             write_text(d / "w.pt", "");
             return predict("w.pt");
           },
           "w.pt"},
          {"text",
           [=](P d, F f) {
             with_image(d, f);
             write_text(d / "w.pt", "hello\n");
             return predict("w.pt");
           },
           "w.pt"},
          {"truncated_half",
           [=](P d, F f) {
             with_image(d, f);
             write_prefix(f.checkpoint, d / "w.pt", fs::file_size(f.checkpoint) / 2);
             return predict("w.pt");
           },
           "w.pt"},
          {"truncated_tail",
           [=](P d, F f) {
             with_image(d, f);
             write_prefix(f.checkpoint, d / "w.pt", fs::file_size(f.checkpoint) - 100);
             return predict("w.pt");
           },
           "w.pt"},
          {"directory",
           [=](P d, F f) {
             with_image(d, f);
             fs::create_directories(d / "w.pt");
             return predict("w.pt");
           },
           "w.pt"},
          {"eval_missing", [](P, F f) { return "eval --gt " + cvtk::testing::quoted(f.voc) + " --weights nothere.pt"; },
           "nothere.pt"},
          {"eval_truncated",
           [](P d, F f) {
             write_prefix(f.checkpoint, d / "w.pt", 4096);
             return "eval --gt " + cvtk::testing::quoted(f.voc) + " --weights w.pt --json r.json";
           },
           "w.pt"},
          {"init_weights_text",
           [](P d, F f) {
             write_text(d / "w.pt", "not weights");
             return "train --data " + cvtk::testing::quoted(f.voc) + " --epochs 1 --init-weights w.pt";
           },
           "w.pt"},
          {"resume_missing_dir", [](P, F) { return "train --resume nothere"; }, "nothere"},
          {"resume_no_last",
           [](P d, F) {
             fs::create_directories(d / "run");
             write_text(d / "run" / "options.toml", "epochs = 1\n");
             return "train --resume run";
           },
           "last.pt"},
          {"resume_truncated_last",
           [](P d, F f) {
             fs::create_directories(d / "run");
             write_prefix(f.checkpoint, d / "run" / "last.pt", fs::file_size(f.checkpoint) / 3);
             return "train --resume run";
           },
           "last.pt"},
      });
}

// eval --dets: the detection file and the entry at fault.
TEST(BrokenOptionsCli, DetectionFiles) {
  auto dets = [](const std::string& json) {
    return [json](P d, F f) {
      // IMG stands for an image id the ground truth has.
      write_text(d / "d.json", std::regex_replace(json, std::regex("IMG"), f.image_id));
      return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets d.json --protocol coco --json report.json";
    };
  };
  run_cases(
      "detections",
      {
          {"missing", [](P, F f) { return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets nothere.json"; },
           "nothere.json"},
          {"empty", dets(""), "d.json"},
          {"not_array", dets(R"({"image_id": 1})"), "d.json"},
          {"syntax", dets(R"([{"image_id": IMG, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},])"), "d.json"},
          {"no_score", dets(R"([{"image_id": IMG, "category_id": 1, "bbox": [1, 2, 3, 4]}])"), "score"},
          {"score_string", dets(R"([{"image_id": IMG, "category_id": 1, "bbox": [1, 2, 3, 4], "score": "high"}])"),
           "score"},
          {"bbox_short", dets(R"([{"image_id": IMG, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}])"), "bbox"},
          {"bbox_nan", dets(R"([{"image_id": IMG, "category_id": 1, "bbox": [1, NaN, 3, 4], "score": 0.5}])"),
           "d.json"},
          {"negative_width", dets(R"([{"image_id": IMG, "category_id": 1, "bbox": [1, 2, -3, 4], "score": 0.5}])"),
           "d.json"},
          {"unknown_image", dets(R"([{"image_id": 987654, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}])"),
           "987654"},
          {"unknown_category", dets(R"([{"image_id": IMG, "category_id": 77, "bbox": [1, 2, 3, 4], "score": 0.5}])"),
           "77"},
          {"voc_dir_empty",
           [](P d, F f) {
             fs::create_directories(d / "dets");
             return "eval --gt " + cvtk::testing::quoted(f.voc) + " --split val --dets dets";
           },
           "dets"},
          {"voc_bad_line",
           [](P d, F f) {
             write_text(d / "dets" / "comp4_det_val_circle.txt", "000001 0.9 1 2 3\n");
             return "eval --gt " + cvtk::testing::quoted(f.voc) + " --split val --dets dets";
           },
           "comp4_det_val_circle.txt"},
          {"voc_unknown_class",
           [](P d, F f) {
             write_text(d / "dets" / "comp4_det_val_zebra.txt", "000001 0.9 1 2 3 4\n");
             return "eval --gt " + cvtk::testing::quoted(f.voc) + " --split val --dets dets";
           },
           "zebra"},
      });
}

// Output paths that cannot be written: nothing of the command's output may appear anywhere.
TEST(BrokenOptionsCli, OutputPaths) {
  auto file_at = [](P d, const std::string& name) { write_text(d / name, "a file\n"); };
  run_cases("outputs", {
                           {"predict_out_is_file",
                            [=](P d, F f) {
                              file_at(d, "out");
                              return "predict --weights " + cvtk::testing::quoted(f.checkpoint) + " --source " +
                                     cvtk::testing::quoted(f.voc / "JPEGImages") + " --out out";
                            },
                            "out"},
                           {"predict_out_under_file",
                            [=](P d, F f) {
                              file_at(d, "out");
                              return "predict --weights " + cvtk::testing::quoted(f.checkpoint) + " --source " +
                                     cvtk::testing::quoted(f.voc / "JPEGImages") + " --out out/sub";
                            },
                            "out/sub"},
                           {"train_out_is_file",
                            [=](P d, F f) {
                              file_at(d, "run");
                              return "train --data " + cvtk::testing::quoted(f.voc) + " --epochs 1 --out run";
                            },
                            "run"},
                           {"preview_out_under_file",
                            [=](P d, F f) {
                              file_at(d, "p");
                              return "augment preview --data " + cvtk::testing::quoted(f.voc) + " --out p/q";
                            },
                            "p/q"},
                           {"convert_destination_under_file",
                            [=](P d, F f) {
                              file_at(d, "x");
                              return "data convert " + cvtk::testing::quoted(f.voc) + " x/y --to yolo";
                            },
                            "x/y"},
                           {"eval_json_under_file",
                            [=](P d, F f) {
                              file_at(d, "x");
                              return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets " +
                                     cvtk::testing::quoted(f.dets) + " --json x/r.json --csv r.csv";
                            },
                            "x/r.json"},
                           {"eval_csv_is_directory",
                            [=](P d, F f) {
                              fs::create_directories(d / "r.csv");
                              return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets " +
                                     cvtk::testing::quoted(f.dets) + " --json r.json --csv r.csv";
                            },
                            "r.csv"},
                           {"eval_html_under_file",
                            [=](P d, F f) {
                              file_at(d, "x");
                              return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets " +
                                     cvtk::testing::quoted(f.dets) + " --html x/r.html --json r.json";
                            },
                            "x/r.html"},
                           {"save_dets_under_file",
                            [=](P d, F f) {
                              file_at(d, "x");
                              return "eval --gt " + cvtk::testing::quoted(f.voc) + " --split val --weights " +
                                     cvtk::testing::quoted(f.checkpoint) + " --save-dets x/d.json";
                            },
                            "x/d.json"},
                           {"synth_out_is_file",
                            [=](P d, F) {
                              file_at(d, "s");
                              return std::string("synth s --train 2 --val 1");
                            },
                            "s"},
                       });
}

// Flag values: the flag and the value.
TEST(BrokenOptionsCli, FlagValues) {
  auto train = [](const std::string& flags) {
    return [flags](P, F f) { return "train --data " + cvtk::testing::quoted(f.voc) + " --epochs 1 " + flags; };
  };
  auto predict = [](const std::string& flags) {
    return [flags](P, F f) {
      return "predict --weights " + cvtk::testing::quoted(f.checkpoint) + " --source " +
             cvtk::testing::quoted(f.voc / "JPEGImages") + " " + flags;
    };
  };
  auto eval = [](const std::string& flags) {
    return [flags](P, F f) {
      return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets " + cvtk::testing::quoted(f.dets) + " " +
             flags;
    };
  };
  run_cases("flags", {
                         {"train_batch_0", train("--batch 0"), "--batch"},
                         {"train_lr_negative", train("--lr -1"), "--lr"},
                         {"train_lr_nan", train("--lr nan"), "--lr"},
                         {"train_momentum_2", train("--momentum 2"), "--momentum"},
                         {"train_ema_1_5", train("--ema 1.5"), "--ema"},
                         {"train_multiscale_0", train("--multiscale 0,320"), "--multiscale"},
                         {"train_warmup_negative", train("--warmup -1"), "--warmup"},
                         {"train_unknown_model", train("--model thundernet-bogus"), "thundernet-bogus"},
                         {"train_device_cuda", train("--device cuda"), "cuda"},
                         {"train_device_unknown", train("--device tpu"), "tpu"},
                         {"train_split_missing", train("--train-split nosuch"), "nosuch"},
                         {"train_val_split_missing", train("--val-split nosuch"), "nosuch"},
                         {"train_score_2", train("--score-threshold 2"), "score"},
                         {"train_format_bogus", train("--format bogus"), "bogus"},
                         {"train_max_pixels_tiny", train("--max-pixels 100"), "max-pixels"},
                         {"predict_score_1_5", predict("--score 1.5"), "--score"},
                         {"predict_nms_2", predict("--nms-iou 2"), "nms"},
                         {"predict_batch_0", predict("--batch 0"), "--batch"},
                         {"predict_size_0", predict("--size -5"), "size"},
                         {"predict_max_pixels_text", predict("--max-pixels abc"), "--max-pixels"},
                         {"predict_max_pixels_negative", predict("--max-pixels -1"), "--max-pixels"},
                         {"eval_iou_1_5", eval("--protocol voc --iou 1.5"), "--iou"},
                         {"eval_protocol_bogus", eval("--protocol bogus"), "bogus"},
                         {"eval_unknown_class", eval("--classes zebra"), "zebra"},
                         {"eval_max_dets_0", eval("--coco-max-dets 0 --protocol coco"), "max"},
                         {"eval_split_missing",
                          [](P, F f) {
                            return "eval --gt " + cvtk::testing::quoted(f.voc) + " --split nosuch --dets " +
                                   cvtk::testing::quoted(f.dets);
                          },
                          "nosuch"},
                         {"classify_unknown_arch",
                          [](P d, F) {
                            write_text(d / "w.pt", "x");
                            return std::string("classify --arch bogusnet --weights w.pt --image x.jpg");
                          },
                          "bogusnet"},
                     });
}

// Files the user may not read and directories the user may not write.
TEST(BrokenOptionsCli, Permissions) {
  if (!nobody_can_run_cvtk())
    GTEST_SKIP() << "running as root and user 'nobody' cannot run " << cvtk::testing::cvtk_binary()
                 << ": permission cases need an unprivileged user";
  auto locked = [](const fs::path& p) { fs::permissions(p, fs::perms::none); };
  auto copy_dataset = [](P d, F f) {
    fs::copy(f.voc, d / "data", fs::copy_options::recursive);
    for (auto& e : fs::recursive_directory_iterator(d / "data"))
      fs::permissions(e.path(), e.is_directory()
                                    ? fs::perms::all
                                    : (fs::perms::owner_all | fs::perms::others_read | fs::perms::group_read));
  };
  run_cases("permissions",
            {
                {"checkpoint_unreadable",
                 [=](P d, F f) {
                   fs::copy_file(f.checkpoint, d / "w.pt");
                   locked(d / "w.pt");
                   return "predict --weights w.pt --source " + cvtk::testing::quoted(f.voc / "JPEGImages");
                 },
                 "w.pt", true},
                {"annotation_unreadable",
                 [=](P d, F f) {
                   copy_dataset(d, f);
                   for (auto& e : fs::directory_iterator(d / "data" / "Annotations")) {
                     locked(e.path());
                     break;
                   }
                   return std::string("data stats data");
                 },
                 ".xml", true},
                {"image_unreadable_predict",
                 [=](P d, F f) {
                   copy_dataset(d, f);
                   for (auto& e : fs::directory_iterator(d / "data" / "JPEGImages")) locked(e.path());
                   return "predict --weights " + cvtk::testing::quoted(f.checkpoint) + " --source data/JPEGImages";
                 },
                 ".jpg", true},
                {"coco_check_unreadable",
                 [=](P d, F f) {
                   fs::copy_file(f.coco_json, d / "gt.json");
                   locked(d / "gt.json");
                   return std::string("data check gt.json");
                 },
                 "gt.json: cannot open the file", true},
                {"coco_stats_unreadable",
                 [=](P d, F f) {
                   fs::copy_file(f.coco_json, d / "gt.json");
                   locked(d / "gt.json");
                   return std::string("data stats gt.json");
                 },
                 "gt.json: cannot open the file", true},
                {"config_unreadable",
                 [=](P d, F f) {
                   write_text(d / "c.toml", "epochs = 1\n");
                   locked(d / "c.toml");
                   return "train --data " + cvtk::testing::quoted(f.voc) + " --config c.toml";
                 },
                 "c.toml", true},
                {"dets_unreadable",
                 [=](P d, F f) {
                   fs::copy_file(f.dets, d / "d.json");
                   locked(d / "d.json");
                   return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets d.json";
                 },
                 "d.json", true},
                {"predict_out_not_writable",
                 [=](P d, F f) {
                   fs::create_directories(d / "ro");
                   fs::permissions(d / "ro", fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
                   return "predict --weights " + cvtk::testing::quoted(f.checkpoint) + " --source " +
                          cvtk::testing::quoted(f.voc / "JPEGImages") + " --out ro/p";
                 },
                 "ro/p", true},
                {"train_out_not_writable",
                 [=](P d, F f) {
                   fs::create_directories(d / "ro");
                   fs::permissions(d / "ro", fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
                   return "train --data " + cvtk::testing::quoted(f.voc) + " --epochs 1 --out ro/run";
                 },
                 "ro/run", true},
                {"eval_json_not_writable",
                 [=](P d, F f) {
                   fs::create_directories(d / "ro");
                   fs::permissions(d / "ro", fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
                   return "eval --gt " + cvtk::testing::quoted(f.coco_json) + " --dets " +
                          cvtk::testing::quoted(f.dets) + " --json ro/r.json";
                 },
                 "ro/r.json", true},
                {"convert_destination_not_writable",
                 [=](P d, F f) {
                   fs::create_directories(d / "ro");
                   fs::permissions(d / "ro", fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
                   return "data convert " + cvtk::testing::quoted(f.voc) + " ro/y --to yolo";
                 },
                 "ro/y", true},
            });
}
