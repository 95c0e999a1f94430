// Pipeline specs, presets, parse errors that quote the bad token, and the random streams.
#include <gtest/gtest.h>

#include "augment/pipeline.h"
#include "augment/random.h"
#include "augment/registry.h"

using namespace cvtk::augment;

namespace {

std::string error_of(const std::string& spec) {
  try {
    parse_pipeline(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Pipeline, ParsesSpecs) {
  const Pipeline p = parse_pipeline("hflip(p=0.5) erase(p=0.5,mode=object)  resize(320, 320, interp=bilinear)");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.transforms()[0]->name(), "hflip");
  EXPECT_EQ(p.transforms()[2]->describe(), "resize(320,320,interp=bilinear,mode=stretch)");
  EXPECT_EQ(p.describe(),
            "hflip(p=0.5)\nerase(p=0.5,sl=0.02,sh=0.2,r1=0.3,fill=random,attempts=100,mode=object)\n"
            "resize(320,320,interp=bilinear,mode=stretch)\n");
  EXPECT_EQ(parse_pipeline("hflip").transforms()[0]->describe(), "hflip(p=0.5)");
  EXPECT_EQ(parse_pipeline("resize(256)").transforms()[0]->describe(), "resize(256,256,interp=bilinear,mode=stretch)");
}

TEST(Pipeline, ErrorsQuoteTheBadToken) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hflip(p=0.5) flop(p=1)", "'flop(p=1)'"},
      {"hflip(p=2)", "'hflip(p=2)'"},
      {"hflip(q=1)", "'hflip(q=1)'"},
      {"hflip(p=abc)", "'hflip(p=abc)'"},
      {"resize(320,320,interp=cubic)", "'resize(320,320,interp=cubic)'"},
      {"resize(1,2,3)", "'resize(1,2,3)'"},
      {"erase(mode=object,fill=const,value=300)", "value=300"},
      {"hflip(p=0.5", "'hflip(p=0.5'"},
      {"erase(sl=0.5,sh=0.1)", "'erase(sl=0.5,sh=0.1)'"},
      {"hflip(p=0.5,p=0.4)", "given twice"},
      {"(320)", "'(320)'"},
  };
  for (const auto& [spec, expected] : cases) {
    const std::string e = error_of(spec);
    EXPECT_NE(e.find(expected), std::string::npos) << spec << " gave: " << e;
  }
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
}

TEST(Pipeline, Presets) {
  const std::vector<std::string> names = preset_names();
  ASSERT_EQ(names, (std::vector<std::string>{"thundernet-train", "thundernet-train-erase", "eval"}));
  for (const std::string& n : names) {
    const Pipeline p = preset(n);
    EXPECT_FALSE(p.empty());
    EXPECT_EQ(pipeline_from_text(n).describe(), p.describe());
  }
  const Pipeline train = preset("thundernet-train");
  std::vector<std::string> seq;
  for (const auto& t : train.transforms()) seq.push_back(t->name());
  EXPECT_EQ(seq, (std::vector<std::string>{"photometric", "expand", "iou_crop", "resize", "hflip"}));
  EXPECT_EQ(preset("thundernet-train-erase").transforms().back()->describe().find("erase(p=0.5"), 0u);
  EXPECT_EQ(preset("eval").describe(), "resize(size=context,interp=bilinear,mode=stretch)\n");
  EXPECT_THROW(preset("nope"), std::invalid_argument);
  EXPECT_EQ(pipeline_from_text("hflip(p=1)").size(), 1u);
}

TEST(Pipeline, EvalPresetResizesToContextSize) {
  Sample s;
  s.image = cv::Mat(48, 64, CV_8UC3, cv::Scalar::all(9));
  s.original_width = 64;
  s.original_height = 48;
  s.objects.push_back(cvtk::data::Object{cvtk::data::Box{8, 8, 32, 24}, 2});
  Rng rng(0, 0, 0);
  preset("eval").apply(s, rng, Context{32, 32});
  EXPECT_EQ(s.image.size(), cv::Size(32, 32));
  EXPECT_EQ(s.objects[0].box, (cvtk::data::Box{4, 16.0 / 3, 16, 16}));
  EXPECT_EQ(to_original(s, s.objects[0].box), (cvtk::data::Box{8, 8, 32, 24}));
}

TEST(Rng, StreamsAreReproducibleAndIndependent) {
  Rng a(1, 2, 3), b(1, 2, 3), c(1, 2, 4), d(1, 3, 3), e(1, 2, 3, 1);
  const uint64_t va = a.next();
  EXPECT_EQ(va, b.next());
  EXPECT_NE(va, c.next());
  EXPECT_NE(va, d.next());
  EXPECT_NE(va, e.next());
  Rng r(0, 0, 0);
  std::vector<int> hist(5, 0);
  for (int i = 0; i < 5000; ++i) {
    const int64_t k = r.integer(3, 7);
    ASSERT_GE(k, 3);
    ASSERT_LE(k, 7);
    ++hist[static_cast<size_t>(k - 3)];
    const double u = r.uniform(-2, 5);
    ASSERT_GE(u, -2);
    ASSERT_LT(u, 5);
  }
  for (int h : hist) EXPECT_NEAR(h, 1000, 150);
  int heads = 0;
  for (int i = 0; i < 4000; ++i) heads += r.bernoulli(0.25);
  EXPECT_NEAR(heads, 1000, 140);
}

TEST(Registry, NamesAreUniqueAndKindsMatch) {
  std::set<std::string> names;
  for (const TransformInfo& t : transform_registry()) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    const Pipeline p = parse_pipeline(t.example);
    EXPECT_EQ(p.transforms()[0]->name(), t.name);
    EXPECT_EQ(p.transforms()[0]->kind(), t.kind);
  }
}

}  // namespace
