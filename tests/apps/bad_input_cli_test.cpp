// Broken datasets through the cvtk binary, as a user meets them: `data check` lists the problem and
// exits 1; `data stats` and `data convert` exit 2 with ONE line on stderr, "cvtk: error: ...", naming
// the file, without a stack trace, and convert leaves no destination behind. Nothing else reaches
// stderr (libjpeg's and libpng's warnings included). The corpus is generated here, in a scratch dir.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>

#include "tests/common.h"

namespace fs = std::filesystem;

namespace {

struct CliResult {
  int code = -1;
  std::string out, err;
};

CliResult run_cvtk(const fs::path& scratch, const std::string& args) {
  static std::atomic<int> counter{0};
  const std::string id = std::to_string(counter++);
  const fs::path out = scratch / ("run" + id + ".out"), err = scratch / ("run" + id + ".err");
  const std::string cmd =
      cvtk::testing::cvtk_binary().string() + " " + args + " >" + out.string() + " 2>" + err.string();
  CliResult r;
  const int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = cvtk::testing::read_file(out);
  r.err = cvtk::testing::read_file(err);
  return r;
}

using cvtk::testing::write_text;

std::vector<unsigned char> read_bytes(const fs::path& p) {
  const std::string s = cvtk::testing::read_file(p);
  return std::vector<unsigned char>(s.begin(), s.end());
}

// A 64x64 JPEG as cvtk writes them (the test binary has no image codecs of its own): one `cvtk synth`.
const std::vector<unsigned char>& sample_jpeg() {
  static const std::vector<unsigned char> bytes = [] {
    const fs::path dir = cvtk::testing::process_scratch_dir("bad_cli_sample");
    run_cvtk(dir,
             "synth " + (dir / "s").string() + " --train 1 --val 1 --width 64 --height 64 --min-size 12 --max-size 32");
    std::vector<unsigned char> b;
    for (const auto& e : fs::directory_iterator(dir / "s" / "JPEGImages")) b = read_bytes(e.path());
    fs::remove_all(dir);
    return b;
  }();
  return bytes;
}

void write_bytes(const fs::path& p, const std::vector<unsigned char>& b) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

const std::string kSize = "<size><width>64</width><height>64</height></size>";

std::string object(const std::string& name, const std::string& box) {
  return "<object><name>" + name + "</name><bndbox>" + box + "</bndbox></object>";
}
const std::string kBox = "<xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax>";

// A VOC dataset with one annotation a.xml and its 64x64 image.
fs::path voc(const fs::path& dir, const std::string& xml, const std::string& classes = "") {
  write_text(dir / "Annotations" / "a.xml", xml);
  write_bytes(dir / "JPEGImages" / "a.jpg", sample_jpeg());
  if (!classes.empty()) write_text(dir / "classes.txt", classes);
  return dir;
}

// A COCO file gt.json beside its 64x64 image a.jpg.
fs::path coco(const fs::path& dir, const std::string& json) {
  write_text(dir / "gt.json", json);
  write_bytes(dir / "a.jpg", sample_jpeg());
  return dir / "gt.json";
}

std::string coco_with(const std::string& images, const std::string& annotations) {
  return R"({"categories": [{"id": 1, "name": "cat"}], "images": )" + images + R"(, "annotations": )" + annotations +
         "}";
}
const std::string kImages = R"([{"id": 1, "file_name": "a.jpg", "width": 64, "height": 64}])";

// A YOLO dataset with image a.jpg (the given bytes; default the 64x64 sample) and labels/a.txt.
fs::path yolo(const fs::path& dir, const std::string& label, const std::string& classes = "cat\ndog\n",
              const std::vector<unsigned char>* image = nullptr) {
  write_bytes(dir / "images" / "a.jpg", image ? *image : sample_jpeg());
  write_text(dir / "labels" / "a.txt", label);
  if (!classes.empty()) write_text(dir / "classes.txt", classes);
  return dir;
}

struct Case {
  std::string name;
  std::function<fs::path(const fs::path&)> make;  // builds the dataset in the given dir, returns its path
  std::string check_expect;                       // in data check's output (exit 1)
  std::string error_part;                         // in stats' and convert's one error line (exit 2)
  std::string check_flags = "";
  int check_code = 1;
  bool strict_fails = true;  // stats and convert fail too (false: only a decode finds it)
  std::string convert_flags = "";
};

struct Outcome {
  CliResult check, stats, convert;
  fs::path dataset, destination;
};

void expect_one_error_line(const CliResult& r, const std::string& what, const std::string& part) {
  EXPECT_EQ(r.code, 2) << what << "\n" << r.out << r.err;
  EXPECT_EQ(r.err.rfind("cvtk: error: ", 0), 0u) << what << ": " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
  EXPECT_NE(r.err.find(part), std::string::npos) << what << ": " << r.err;
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << what;
  EXPECT_EQ(r.err.find("Exception raised from"), std::string::npos) << what;
  EXPECT_LT(r.err.size(), 600u) << what;
}

// Runs every case (two at a time: most of a run is loading the program) and checks the outcomes.
void run_corpus(const std::string& suite, const std::vector<Case>& cases) {
  const fs::path scratch = cvtk::testing::scratch_dir("bad_cli_" + suite);
  std::vector<Outcome> outcomes(cases.size());
  cvtk::testing::for_each_on_two_threads(cases.size(), [&](size_t i) {
    const Case& c = cases[i];
    Outcome& o = outcomes[i];
    const fs::path dir = scratch / c.name;
    fs::create_directories(dir);
    o.dataset = c.make(dir / "data");
    o.destination = dir / "converted";
    const std::string ds = "'" + o.dataset.string() + "'";
    o.check = run_cvtk(dir, "data check " + ds + " " + c.check_flags);
    // stats and convert read the same way (strict): each case runs one of them, in turn, to keep
    // the test quick; across the corpus every reader meets both.
    if (c.strict_fails && i % 2 == 0) o.stats = run_cvtk(dir, "data stats " + ds);
    if (c.strict_fails && i % 2 == 1)
      o.convert = run_cvtk(dir, "data convert " + ds + " '" + o.destination.string() + "' --to voc " + c.convert_flags);
  });
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const Outcome& o = outcomes[i];
    SCOPED_TRACE(c.name);
    EXPECT_EQ(o.check.code, c.check_code) << o.check.out << o.check.err;
    EXPECT_NE(o.check.out.find(c.check_expect), std::string::npos) << o.check.out << o.check.err;
    if (c.check_code == 1) {
      EXPECT_EQ(o.check.err, "");  // the problems are listed on stdout, and nothing leaks on stderr
      EXPECT_EQ(o.check.out.find("no problems found"), std::string::npos);
    }
    if (!c.strict_fails) continue;
    if (i % 2 == 0) {
      expect_one_error_line(o.stats, "stats", c.error_part);
      continue;
    }
    expect_one_error_line(o.convert, "convert", c.error_part);
    EXPECT_FALSE(fs::exists(o.destination));
    for (const auto& e : fs::directory_iterator(o.destination.parent_path()))
      EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

}  // namespace

TEST(BadInputCli, Voc) {
  using P = const fs::path&;
  run_corpus(
      "voc",
      {
          {"malformed_xml", [](P d) { return voc(d, "<annotation>" + kSize + "<object>"); }, "parse: ", "a.xml: byte "},
          {"no_size", [](P d) { return voc(d, "<annotation>" + object("cat", kBox) + "</annotation>"); },
           "missing_field: ", "a.xml: field 'size'"},
          {"width_0",
           [](P d) { return voc(d, "<annotation><size><width>0</width><height>8</height></size></annotation>"); },
           "bad_value: ", "a.xml: field 'size/width'"},
          {"nan_coordinate",
           [](P d) {
             return voc(d, "<annotation>" + kSize +
                               object("cat", "<xmin>nan</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax>") +
                               "</annotation>");
           },
           "bad_value: ", "a.xml: object 1: field 'bndbox/xmin'"},
          {"huge_coordinate",
           [](P d) {
             return voc(d, "<annotation>" + kSize +
                               object("cat", "<xmin>1</xmin><ymin>1</ymin><xmax>1e300</xmax><ymax>10</ymax>") +
                               "</annotation>");
           },
           "box_outside: ", "a.xml: object 1: field 'bndbox'"},
          {"xmin_gt_xmax",
           [](P d) {
             return voc(d, "<annotation>" + kSize +
                               object("cat", "<xmin>9</xmin><ymin>1</ymin><xmax>3</xmax><ymax>10</ymax>") +
                               "</annotation>");
           },
           "box_degenerate: ", "a.xml: object 1: field 'bndbox/xmax'"},
          {"unknown_class",
           [](P d) { return voc(d, "<annotation>" + kSize + object("unicorn", kBox) + "</annotation>", "cat\n"); },
           "unknown_class: ", "a.xml: object 1: field 'name'"},
          {"empty_name", [](P d) { return voc(d, "<annotation>" + kSize + object("", kBox) + "</annotation>"); },
           "missing_field: ", "a.xml: object 1: field 'name'"},
          {"bndbox_missing_tag",
           [](P d) {
             return voc(d, "<annotation>" + kSize + object("cat", "<xmin>1</xmin><ymin>1</ymin><xmax>10</xmax>") +
                               "</annotation>");
           },
           "missing_field: ", "a.xml: object 1: field 'bndbox/ymax'"},
          {"duplicate_class",
           [](P d) { return voc(d, "<annotation>" + kSize + object("cat", kBox) + "</annotation>", "cat\ncat\n"); },
           "duplicate_id: ", "classes.txt: line 2"},
          // The defect: an id in a split list without an annotation was only found with --split.
          {"split_lists_missing_annotation",
           [](P d) {
             voc(d, "<annotation>" + kSize + object("cat", kBox) + "</annotation>");
             write_text(d / "ImageSets" / "Main" / "train.txt", "a\nghost\n");
             return d;
           },
           "'ghost' has no annotation", "ghost.xml", "", 1, true, "--split train"},
      });
}

TEST(BadInputCli, Coco) {
  using P = const fs::path&;
  const std::string ann = R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]})";
  run_corpus(
      "coco",
      {
          // The defect: "improper structure" with no position.
          {"nan",
           [](P d) {
             return coco(d,
                         coco_with(kImages, R"([{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, NaN, 5, 5]}])"));
           },
           "annotations[0]: field 'bbox[1]': malformed JSON at byte ",
           "gt.json: annotations[0]: field 'bbox[1]': malformed JSON at byte "},
          {"not_object", [](P d) { return coco(d, "[1, 2]"); }, "bad_value: ", "gt.json: expected a JSON object"},
          {"images_not_array", [](P d) { return coco(d, coco_with("{}", "[]")); },
           "missing_field: ", "gt.json: field 'images'"},
          {"duplicate_image_ids",
           [](P d) {
             return coco(d, coco_with(R"([{"id": 1, "file_name": "a.jpg", "width": 64, "height": 64},
                                      {"id": 1, "file_name": "b.jpg", "width": 64, "height": 64}])",
                                      "[]"));
           },
           "duplicate_id: ", "gt.json: images[1]: field 'id'"},
          {"unknown_image_id",
           [](P d) {
             return coco(d,
                         coco_with(kImages, R"([{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 1, 5, 5]}])"));
           },
           "unknown_image: ", "gt.json: annotations[0]: field 'image_id'"},
          {"unknown_category_id",
           [](P d) {
             return coco(d,
                         coco_with(kImages, R"([{"id": 1, "image_id": 1, "category_id": 9, "bbox": [1, 1, 5, 5]}])"));
           },
           "unknown_class: ", "gt.json: annotations[0]: field 'category_id'"},
          {"bbox_3",
           [](P d) {
             return coco(d, coco_with(kImages, R"([{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5]}])"));
           },
           "bad_value: ", "gt.json: annotations[0]: field 'bbox'"},
          {"negative_w",
           [](P d) {
             return coco(d,
                         coco_with(kImages, R"([{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, -5, 5]}])"));
           },
           "box_degenerate: ", "gt.json: annotations[0]: field 'bbox'"},
          {"string_for_number",
           [](P d) {
             return coco(d, coco_with(R"([{"id": 1, "file_name": "a.jpg", "width": "64", "height": 64}])", "[]"));
           },
           "bad_value: ", "gt.json: images[0]: field 'width'"},
          {"1e400",
           [](P d) {
             return coco(
                 d, coco_with(kImages, R"([{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 1e400, 5]}])"));
           },
           "parse: ", "annotations[0]: field 'bbox[2]'"},
          {"deeply_nested",
           [](P d) { return coco(d, coco_with(std::string(5000, '[') + std::string(5000, ']'), "[]")); },
           "nested more than 1024", "gt.json: images[0]"},
          {"empty_file", [](P d) { return coco(d, ""); }, "parse: ", "gt.json: file is empty"},
          // The defect: a 50 MB field was quoted whole (8 MB here, to keep the test quick).
          {"huge_field",
           [](P d) {
             const std::string big(8 * 1024 * 1024, 'x');
             return coco(d, coco_with(R"([{"id": 1, "file_name": ")" + big + R"(", "width": 1, "height": 1},
                                      {"id": 2, "file_name": ")" +
                                          big + R"(", "width": 1, "height": 1}])",
                                      "[]"));
           },
           "(8388608 bytes)", "(8388608 bytes)"},
          {"directory_not_file",
           [](P d) {
             fs::create_directories(d / "gt.json");
             return d / "gt.json";
           },
           "", "gt.json", "", 2},
          {"byte_order_mark_is_fine",
           [&](P d) { return coco(d, "\xEF\xBB\xBF" + coco_with(kImages, "[" + ann + "]")); }, "no problems found", "",
           "", 0, false},
      });
}

// An unreadable COCO file: broken_options_cli_test.cpp's permission cases (they run as an unprivileged user).

TEST(BadInputCli, Yolo) {
  using P = const fs::path&;
  run_corpus(
      "yolo",
      {
          {"four_fields", [](P d) { return yolo(d, "0 0.5 0.5 0.2\n"); }, "missing_field: ", "a.txt: line 1"},
          {"class_out_of_range", [](P d) { return yolo(d, "2 0.5 0.5 0.2 0.2\n"); },
           "unknown_class: ", "a.txt: line 1: field 'class'"},
          {"class_negative", [](P d) { return yolo(d, "-1 0.5 0.5 0.2 0.2\n"); },
           "unknown_class: ", "a.txt: line 1: field 'class'"},
          {"class_not_integer", [](P d) { return yolo(d, "1.5 0.5 0.5 0.2 0.2\n"); },
           "bad_value: ", "a.txt: line 1: field 'class'"},
          {"outside_0_1", [](P d) { return yolo(d, "0 0.95 0.5 0.2 0.2\n"); }, "box_outside: ", "a.txt: line 1"},
          {"missing_classes", [](P d) { return yolo(d, "0 0.5 0.5 0.2 0.2\n", ""); }, "missing_file: ", "classes.txt"},
          {"empty_classes", [](P d) { return yolo(d, "0 0.5 0.5 0.2 0.2\n", "\n"); }, "no class names", "classes.txt"},
          {"label_without_image",
           [](P d) {
             yolo(d, "0 0.5 0.5 0.2 0.2\n");
             write_text(d / "labels" / "b.txt", "0 0.5 0.5 0.2 0.2\n");
             return d;
           },
           "missing_image: ", "b.txt: label file without an image"},
          {"image_without_label_is_a_negative",
           [](P d) {
             yolo(d, "0 0.5 0.5 0.2 0.2\n");
             write_bytes(d / "images" / "n.jpg", sample_jpeg());
             return d;
           },
           "images   2 (1 without objects)", "", "", 0, false},
      });
}

// The defect's reproduction: the YOLO directory `data convert --to yolo --split train` writes.
TEST(BadInputCli, CheckOfAConvertedYoloDirectoryFindsItsImages) {
  const fs::path dir = cvtk::testing::scratch_dir("bad_cli_yolo_split");
  ASSERT_EQ(run_cvtk(dir, "synth " + (dir / "s").string() +
                              " --train 8 --val 4 --width 64 --height 64 --min-size 12 --max-size 32")
                .code,
            0);
  ASSERT_EQ(
      run_cvtk(dir, "data convert " + (dir / "s").string() + " " + (dir / "y").string() + " --to yolo --split train")
          .code,
      0);
  const CliResult r = run_cvtk(dir, "data check " + (dir / "y").string());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("images   8 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("splits   train"), std::string::npos) << r.out;
  // An empty one is not "no problems found".
  fs::create_directories(dir / "empty" / "images");
  fs::create_directories(dir / "empty" / "labels");
  write_text(dir / "empty" / "classes.txt", "a\n");
  const CliResult e = run_cvtk(dir, "data check " + (dir / "empty").string());
  EXPECT_EQ(e.code, 1) << e.out << e.err;
  EXPECT_NE(e.out.find("no_images: "), std::string::npos) << e.out;
}

TEST(BadInputCli, Images) {
  using P = const fs::path&;
  const std::vector<unsigned char> good = sample_jpeg();
  ASSERT_GT(good.size(), 100u);
  std::vector<unsigned char> huge = good;
  for (size_t i = 2; i + 8 < huge.size(); ++i)
    if (huge[i] == 0xFF && huge[i + 1] == 0xC0) {
      huge[i + 5] = huge[i + 7] = 0xFD;  // 65000 = 0xFDE8
      huge[i + 6] = huge[i + 8] = 0xE8;
      break;
    }
  const std::vector<unsigned char> empty, text = {'h', 'i', '!', '!', '!'};
  const std::vector<unsigned char> truncated(good.begin(), good.begin() + good.size() / 2);
  std::vector<unsigned char> damaged = truncated;  // the end marker put back: libjpeg's "premature end"
  damaged.push_back(0xFF);
  damaged.push_back(0xD9);
  run_corpus("images", {
                           {"zero_bytes", [&](P d) { return yolo(d, "", "cat\n", &empty); },
                            "unreadable_image: ", "a.jpg: empty image file"},
                           {"not_an_image", [&](P d) { return yolo(d, "", "cat\n", &text); },
                            "unreadable_image: ", "a.jpg: not an image"},
                           // The defect: a header declaring 65000x65000 made the decoder try to allocate 12.7 GB.
                           {"huge_declared_size", [&](P d) { return yolo(d, "", "cat\n", &huge); },
                            "image_too_large: ", "a.jpg: image is 65000x65000"},
                           // The defect: --decode passed a truncated JPEG (libjpeg's warning went to stderr, exit 0).
                           // Only a decode finds these; stats and convert read headers.
                           {"truncated", [&](P d) { return yolo(d, "", "cat\n", &truncated); }, "truncated JPEG", "",
                            "--decode", 1, false},
                           {"damaged", [&](P d) { return yolo(d, "", "cat\n", &damaged); },
                            "corrupt JPEG (libjpeg: ", "", "--decode", 1, false},
                           {"damaged_in_voc",
                            [&](P d) {
                              voc(d, "<annotation>" + kSize + "</annotation>");
                              write_bytes(d / "JPEGImages" / "a.jpg", damaged);
                              return d;
                            },
                            "corrupt JPEG (libjpeg: ", "", "--decode", 1, false},
                       });
}

TEST(BadInputCli, MaxPixelsFlag) {
  const fs::path dir = cvtk::testing::scratch_dir("bad_cli_max_pixels");
  const fs::path ds = yolo(dir / "data", "0 0.5 0.5 0.2 0.2\n", "cat\n");
  const CliResult low = run_cvtk(dir, "data check " + ds.string() + " --max-pixels 4095 --decode");
  EXPECT_EQ(low.code, 1) << low.out << low.err;
  EXPECT_NE(low.out.find("image is 64x64 (4096 pixels), above the limit of 4095 pixels"), std::string::npos) << low.out;
  EXPECT_EQ(run_cvtk(dir, "data check " + ds.string() + " --max-pixels 4096 --decode").code, 0);
  EXPECT_EQ(run_cvtk(dir, "data check " + ds.string() + " --max-pixels 0").code, 0);
  const CliResult help = run_cvtk(dir, "data check --help");
  EXPECT_NE(help.out.find("--max-pixels"), std::string::npos) << help.out;
}
