// Change-classification rules files (host/io/rules.cpp): JSON and TOML into the rule table,
// class names and colours, and one input_error naming the file for every kind of mistake.
//
// Expected tables are built by hand with ChangeRules::add, independently of the parser.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "reclaim/error.hpp"
#include "reclaim/io/rules.hpp"
#include "reclaim/pixel/change.hpp"

namespace {

namespace fs = std::filesystem;
using namespace reclaim;
using namespace reclaim::pixel;
using io::ChangeScheme;

/// A fresh directory under the system temp dir, removed with the fixture.
class RulesFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    m_dir = fs::temp_directory_path() / ("reclaim_rules_test_" + std::to_string(rd()));
    fs::create_directories(m_dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }
  fs::path write(std::string const& name, std::string const& text) const {
    fs::path const p = m_dir / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  /// Loading `text` as `name` throws input_error starting with the file's name and containing `needle`.
  void expect_error(std::string const& name, std::string const& text, std::string const& needle) const {
    fs::path const p = write(name, text);
    try {
      io::load_change_rules(p);
      ADD_FAILURE() << name << ": no error, expected one containing \"" << needle << "\"";
    } catch (input_error const& e) {
      std::string const what = e.what();
      EXPECT_EQ(what.rfind("rules file '" + p.string() + "': ", 0), 0u) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << "expected \"" << needle << "\" in: " << what;
    }
  }
  fs::path m_dir;
};

void expect_same_rules(ChangeRules const& got, ChangeRules const& want) {
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got.needed(), want.needed());
  for (int i = 0; i < want.size(); ++i) {
    ChangeRule const& g = got.rule(i);
    ChangeRule const& w = want.rule(i);
    EXPECT_EQ(g.class_value, w.class_value) << "rule " << i;
    ASSERT_EQ(g.condition_count, w.condition_count) << "rule " << i;
    for (int c = 0; c < w.condition_count; ++c) {
      EXPECT_EQ(g.conditions[c].var, w.conditions[c].var) << "rule " << i << " condition " << c;
      EXPECT_EQ(g.conditions[c].op, w.conditions[c].op) << "rule " << i << " condition " << c;
      EXPECT_EQ(g.conditions[c].threshold, w.conditions[c].threshold) << "rule " << i << " condition " << c;
    }
  }
}

// The two examples of docs/change.md, which must say the same thing.
constexpr char kJsonExample[] = R"~({
  "mode": "append",
  "thresholds": { "ndvi_vegetated": 0.45, "dndvi_gain": 0.1 },
  "classes": [
    { "value": 7, "name": "vegetation gain (not from bare)", "colour": "#1f78b4" },
    { "value": 1, "name": "bare (stable)" }
  ],
  "rules": [
    { "class": 7, "when": ["dndvi >= 0.1", "ndvi_after >= 0.45"] }
  ]
}
)~";

constexpr char kTomlExample[] = R"~(mode = "append"

[thresholds]
ndvi_vegetated = 0.45
dndvi_gain = 0.1

[[classes]]
value = 7
name = "vegetation gain (not from bare)"
colour = "#1f78b4"

[[classes]]
value = 1
name = "bare (stable)"

[[rules]]
class = 7
when = ["dndvi >= 0.1", "ndvi_after >= 0.45"]
)~";

ChangeRules expected_example_rules() {
  ChangeThresholds t;
  t.ndvi_vegetated = 0.45;
  t.dndvi_gain = 0.1;
  ChangeRules r = default_change_rules(t);
  r.add(7, {{ChangeVar::dndvi, CompareOp::ge, 0.1}, {ChangeVar::ndvi_after, CompareOp::ge, 0.45}});
  return r;
}

TEST(ChangeScheme, DefaultsMatchThePixelTable) {
  ChangeScheme const s = io::default_change_scheme();
  expect_same_rules(s.rules, default_change_rules());
  ASSERT_EQ(s.classes.size(), 8u);
  auto const names = s.category_names();
  auto const colors = s.colors();
  ASSERT_EQ(names.size(), 256u);
  ASSERT_EQ(colors.size(), 256u);
  EXPECT_EQ(names[0], "no data");
  EXPECT_EQ(names[2], "revegetated");
  EXPECT_EQ(names[6], "water");
  EXPECT_EQ(names[7], "");
  EXPECT_EQ(names[255], "unclassified");
  EXPECT_EQ(colors[0][3], 0);    // nodata transparent
  EXPECT_EQ(colors[6][2], 189);  // water blue
  EXPECT_EQ(colors[100][3], 0);  // unused
  EXPECT_EQ(io::describe_rule(s, s.rules.rule(3)),
            "2 revegetated: ndvi_before < 0.2 and bsi_before > 0 and ndvi_after >= 0.4");
}

TEST_F(RulesFile, JsonExampleAddsAClassAndMovesThresholds) {
  ChangeScheme const s = io::load_change_rules(write("rules.json", kJsonExample));
  expect_same_rules(s.rules, expected_example_rules());
  EXPECT_EQ(s.thresholds.ndvi_vegetated, 0.45);
  auto const names = s.category_names();
  auto const colors = s.colors();
  EXPECT_EQ(names[7], "vegetation gain (not from bare)");
  EXPECT_EQ(names[1], "bare (stable)");
  EXPECT_EQ(colors[7], (std::array<std::uint8_t, 4>{0x1f, 0x78, 0xb4, 255}));
  EXPECT_EQ(colors[1], (std::array<std::uint8_t, 4>{191, 129, 45, 255}));  // renamed, colour kept

  EpochIndices not_bare, veg;
  not_bare = {0.3, -0.1, -0.3, 0.0};
  veg = {0.45, -0.2, -0.5, 0.0};
  EXPECT_EQ(change_class(s.rules, not_bare, veg), 7);  // 255 under the defaults
  EpochIndices bare{0.1, 0.1, -0.3, 0.0};
  EXPECT_EQ(change_class(s.rules, bare, veg), kClassRevegetated);  // 0.45 is vegetated now
  EpochIndices const after_gain{0.2, 0.1, -0.3, 0.0};
  EXPECT_EQ(change_class(s.rules, bare, after_gain), kClassPartialRecovery);  // dNDVI 0.1 >= gain 0.1
}

TEST_F(RulesFile, TomlExampleEqualsTheJsonExample) {
  ChangeScheme const toml = io::load_change_rules(write("rules.toml", kTomlExample));
  ChangeScheme const json = io::load_change_rules(write("rules2.json", kJsonExample));
  expect_same_rules(toml.rules, expected_example_rules());
  EXPECT_EQ(toml.category_names(), json.category_names());
  EXPECT_EQ(toml.colors(), json.colors());
}

TEST_F(RulesFile, FormatSniffedWithoutAKnownExtension) {
  expect_same_rules(io::load_change_rules(write("a.rules", kJsonExample)).rules, expected_example_rules());
  expect_same_rules(io::load_change_rules(write("b.rules", kTomlExample)).rules, expected_example_rules());
}

TEST_F(RulesFile, PrependAndReplace) {
  ChangeScheme const pre = io::load_change_rules(write("pre.toml", R"(
mode = "prepend"
[[classes]]
value = 200
name = "tailings"
colour = [10, 20, 30]
[[rules]]
class = 200
when = ["bsi_after > 0.3", "ndvi_after < 0.05"]
)"));
  ChangeRules want;
  want.add(200, {{ChangeVar::bsi_after, CompareOp::gt, 0.3}, {ChangeVar::ndvi_after, CompareOp::lt, 0.05}});
  ChangeRules const d = default_change_rules();
  for (int i = 0; i < d.size(); ++i) want.add_rule(d.rule(i));
  expect_same_rules(pre.rules, want);
  EXPECT_EQ(pre.colors()[200], (std::array<std::uint8_t, 4>{10, 20, 30, 255}));

  ChangeScheme const rep = io::load_change_rules(write("rep.json", R"({
    "mode": "replace",
    "classes": [{"value": 9, "name": "green", "color": [0, 200, 0, 128]}],
    "rules": [{"class": 9, "when": ["fvc_after >= 0.3"]}, {"class": 1, "when": []}]
  })"));
  ChangeRules want_rep;
  want_rep.add(9, {{ChangeVar::fvc_after, CompareOp::ge, 0.3}});
  want_rep.add(1, {});
  expect_same_rules(rep.rules, want_rep);
  EXPECT_TRUE(rep.rules.needs_fvc());
  EXPECT_FALSE(rep.rules.needs_bsi());
  EXPECT_EQ(rep.colors()[9], (std::array<std::uint8_t, 4>{0, 200, 0, 128}));
}

TEST_F(RulesFile, VegetationByFvc) {
  ChangeScheme const s = io::load_change_rules(write("fvc.toml", "vegetation_index = \"fvc\"\n[thresholds]\nfvc_vegetated = 0.6\n"));
  ChangeThresholds t;
  t.vegetated_by_fvc = true;
  t.fvc_vegetated = 0.6;
  expect_same_rules(s.rules, default_change_rules(t));
}

TEST_F(RulesFile, ConditionSyntaxVariants) {
  ChangeScheme const s = io::load_change_rules(write("syn.json", R"({
    // comments are allowed in JSON rules files
    "classes": [{"value": 7, "name": "x", "colour": "#01020304"}],
    "rules": [{"class": 7, "when": ["dndvi<=-0.25", "  mndwi_before   >   +1e-3  ", "bsi_before >= 0"]}]
  })"));
  ChangeRules want = default_change_rules();
  want.add(7, {{ChangeVar::dndvi, CompareOp::le, -0.25},
               {ChangeVar::mndwi_before, CompareOp::gt, 1e-3},
               {ChangeVar::bsi_before, CompareOp::ge, 0.0}});
  expect_same_rules(s.rules, want);
  EXPECT_EQ(s.colors()[7], (std::array<std::uint8_t, 4>{1, 2, 3, 4}));
}

TEST_F(RulesFile, MalformedFilesNameTheFileAndTheProblem) {
  std::string const c7 = R"([[classes]]
value = 7
name = "x"
colour = "#000000"
)";
  expect_error("var.toml", c7 + "[[rules]]\nclass = 7\nwhen = [\"ndvi_befor < 0.2\"]\n", "unknown variable 'ndvi_befor'");
  expect_error("op.toml", c7 + "[[rules]]\nclass = 7\nwhen = [\"ndvi_after == 0.4\"]\n", "bad operator '=='");
  expect_error("op2.json", R"({"rules": [{"class": 1, "when": ["ndvi_after 0.4"]}]})", "bad operator ''");
  expect_error("num.json", R"({"rules": [{"class": 1, "when": ["ndvi_after >="]}]})", "expected a finite number");
  expect_error("nan.json", R"({"rules": [{"class": 1, "when": ["ndvi_after >= nan"]}]})", "expected a finite number");
  expect_error("tail.json", R"({"rules": [{"class": 1, "when": ["ndvi_after >= 0.4x"]}]})", "unexpected text");
  expect_error("cond.json", R"({"rules": [{"class": 1, "when": [0.4]}]})", "expected a condition string");
  expect_error("range.json", R"({"rules": [{"class": 300, "when": []}]})", "class value 300 out of range");
  expect_error("zero.json", R"({"rules": [{"class": 0, "when": []}]})", "class value 0 out of range");
  expect_error("ff.json", R"({"classes": [{"value": 255, "name": "u", "colour": "#000000"}]})",
               "class value 255 out of range");
  expect_error("frac.json", R"({"rules": [{"class": 7.5, "when": []}]})", "expected an integer class value");
  expect_error("undef.json", R"({"rules": [{"class": 9, "when": []}]})", "class 9 is not defined");
  expect_error("nocolour.json", R"({"classes": [{"value": 9, "name": "n"}]})", "needs a colour");
  expect_error("noname.json", R"({"classes": [{"value": 9, "colour": "#000000"}]})", "needs a name");
  expect_error("dup.json",
               R"({"classes": [{"value": 9, "name": "a", "colour": "#000000"}, {"value": 9, "name": "b", "colour": "#000000"}]})",
               "already defined");
  expect_error("colour.json", R"({"classes": [{"value": 9, "name": "a", "colour": "#12345"}]})", "#rrggbb");
  expect_error("colour2.json", R"({"classes": [{"value": 9, "name": "a", "colour": [1, 2, 300]}]})", "0..255");
  expect_error("key.json", R"({"rule": []})", "unknown key");
  expect_error("rkey.json", R"({"rules": [{"class": 1, "when": [], "name": "x"}]})", "rules[0].name: unknown key");
  expect_error("nowhen.json", R"({"rules": [{"class": 1}]})", "missing when");
  expect_error("thr.json", R"({"thresholds": {"ndvi_bar": 0.2}})", "thresholds.ndvi_bar: unknown threshold");
  expect_error("thr2.json", R"({"thresholds": {"ndvi_bare": "0.2"}})", "expected a number");
  expect_error("mode.json", R"({"mode": "merge"})", "expected \"append\", \"prepend\" or \"replace\"");
  expect_error("veg.json", R"({"vegetation_index": "evi"})", "expected \"ndvi\" or \"fvc\"");
  expect_error("rep.json", R"({"mode": "replace", "thresholds": {"ndvi_bare": 0.1}})", "replace");
  expect_error("top.json", R"([1, 2])", "top level");
  expect_error("syntax.json", R"({"rules": [)", "JSON syntax error");
  expect_error("syntax.toml", "mode = \"append\"\nrules = [\n", "TOML syntax error at line");
  expect_error("date.toml", "mode = 1979-05-27\n", "dates and times");

  std::string five = R"({"rules": [{"class": 1, "when": ["dndvi > 0", "dndvi > 0", "dndvi > 0", "dndvi > 0", "dndvi > 0"]}]})";
  expect_error("five.json", five, "too many conditions: 5 (at most 4)");

  std::string many = "{\"rules\": [";
  for (int i = 0; i < kMaxChangeRules - kDefaultChangeRuleCount + 1; ++i)
    many += std::string(i ? ", " : "") + "{\"class\": 1, \"when\": []}";
  many += "]}";
  expect_error("many.json", many, "too many rules: 7 default + 26 from the file = 33 (at most 32)");
}

TEST_F(RulesFile, ExactlyFullTableIsAccepted) {
  std::string many = "{\"rules\": [";
  for (int i = 0; i < kMaxChangeRules - kDefaultChangeRuleCount; ++i)
    many += std::string(i ? ", " : "") + "{\"class\": 1, \"when\": []}";
  many += "]}";
  EXPECT_EQ(io::load_change_rules(write("full.json", many)).rules.size(), kMaxChangeRules);
}

TEST_F(RulesFile, MissingFileIsAnInputErrorNamingIt) {
  fs::path const p = m_dir / "missing.toml";
  try {
    io::load_change_rules(p);
    ADD_FAILURE() << "no error for a missing file";
  } catch (input_error const& e) {
    EXPECT_NE(std::string(e.what()).find("rules file '" + p.string() + "'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(io::load_change_rules(m_dir), input_error);  // a directory
}

}  // namespace
