// Numbers from job files and the command line that do not fit what they set: each must be a
// usage or input error naming the option, never a silent truncation, a wrapped value or an
// undefined cast (UBSan: float-cast-overflow), and never an exception the CLI reports as a bug.
#include <gtest/gtest.h>

#include <gdal_priv.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "cli/common_options.hpp"
#include "cli/option_values.hpp"
#include "reclaim/error.hpp"
#include "reclaim/io/rules.hpp"
#include "reclaim/io/scene.hpp"

namespace fs = std::filesystem;
using reclaim::input_error;
using reclaim::usage_error;
using reclaim::cli::OptionValues;

namespace {

class InputLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    GDALAllRegister();
    m_dir = fs::temp_directory_path() / ("reclaim_limits_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  /// The option values of a command with the run and sensor options, from this job file.
  OptionValues job(std::string const& toml) {
    auto const path = m_dir / "job.toml";
    std::ofstream(path) << toml;
    cxxopts::Options options("reclaim", "");
    options.add_options()("job", "", cxxopts::value<std::string>());
    reclaim::cli::add_run_options(options);
    reclaim::cli::add_sensor_options(options);
    char arg0[] = "reclaim";
    char* argv[] = {arg0, nullptr};
    return OptionValues(options, options.parse(1, argv), path);
  }

  /// The message of the input_error that `f` throws ("" when it throws none).
  template <class F>
  static std::string input_error_of(F&& f) {
    try {
      f();
    } catch (input_error const& e) {
      return e.what();
    }
    return "";
  }

  fs::path m_dir;
};

TEST_F(InputLimits, AJobFileIntegerOptionMustBeAWholeNumber) {
  // 2.5 used to become 2 readers silently (a cast), where the command line refuses it.
  auto const r = job("readers = 2.5\n");
  auto const message = input_error_of([&] { (void)reclaim::cli::run_settings_from(r); });
  EXPECT_NE(message.find("job file '" + (m_dir / "job.toml").string() + "'"), std::string::npos) << message;
  EXPECT_NE(message.find("option 'readers'"), std::string::npos) << message;
  EXPECT_NE(message.find("whole number"), std::string::npos) << message;
  auto const s = reclaim::cli::run_settings_from(job("readers = \"3.0e0\"\nthreads = 4\n"));
  EXPECT_EQ(s.readers, 3);
  EXPECT_EQ(s.threads, 4);
}

TEST_F(InputLimits, AJobFileIntegerOutOfRangeIsRefused) {
  // 1e300 and 3e9 do not fit an int: the cast was undefined (INT_MIN on x86, then reported as
  // "--threads must be >= 0", an option the user never gave on the command line).
  for (auto const* toml : {"threads = 1e300\n", "threads = \"3e9\"\n", "threads = 3000000000\n",
                           "threads = -3000000000\n", "threads = nan\n",
                           "threads = \"inf\"\n"}) {
    auto const r = job(toml);
    auto const message = input_error_of([&] { (void)reclaim::cli::run_settings_from(r); });
    EXPECT_NE(message.find("option 'threads'"), std::string::npos) << toml << message;
  }
  EXPECT_EQ(reclaim::cli::run_settings_from(job("threads = 4096\n")).threads, 4096);
}

TEST_F(InputLimits, AMemoryBudgetThatIsNotAFiniteSizeIsRefused) {
  // "1e30", "2e19" and "2e10G" overflowed the cast to size_t: an undefined value as the budget
  // (NaN and infinities never reach it: the unit parser refuses them first).
  for (auto const* text : {"nan", "NaN", "inf", "1e30", "2e19", "2e10G", "-inf"})
    EXPECT_THROW((void)reclaim::cli::parse_bytes(text, "memory-budget"), usage_error) << text;
  EXPECT_EQ(reclaim::cli::parse_bytes("512M", "memory-budget"), std::size_t{512} << 20);
  EXPECT_EQ(reclaim::cli::parse_bytes("1.5K", "memory-budget"), std::size_t{1536});
  EXPECT_EQ(reclaim::cli::parse_bytes("15G", "memory-budget"), std::size_t{15} << 30);
}

TEST_F(InputLimits, ABandNumberTooLargeForAnIntIsOutOfRange) {
  // std::stoi threw std::out_of_range for 99999999999: exit 1, the CLI's "bug" code.
  auto const file = m_dir / "s.tif";
  {
    GDALDatasetUniquePtr ds(GetGDALDriverManager()->GetDriverByName("GTiff")->Create(file.c_str(), 4, 4, 3, GDT_UInt16, nullptr));
    double gt[6] = {500000, 10, 0, 4000000, 0, -10};
    ds->SetGeoTransform(gt);
  }
  reclaim::io::SensorOptions o;
  o.sensor = reclaim::io::Sensor::generic;
  o.scale = 1e-4;
  for (auto const* spec : {"99999999999", "4294967299", "4"}) {
    o.band_specs = {{reclaim::pixel::Band::red, spec}};
    EXPECT_EQ(input_error_of([&] { (void)reclaim::io::resolve_scene("x", file, o); }),
              file.string() + ": has 3 bands, red asks for band " + spec);
  }
  o.band_specs = {{reclaim::pixel::Band::red, "3"}};
  EXPECT_EQ(reclaim::io::resolve_scene("x", file, o).bands[static_cast<int>(reclaim::pixel::Band::red)]->band, 3);
}

TEST_F(InputLimits, ARulesFileNumberBeyondADoubleIsAnInputError) {
  // nlohmann's parser throws out_of_range (not parse_error) for 1e999; it escaped the rules
  // parser, and the CLI reported a bug (exit 1). Found by tests/fuzz/rules_fuzz.
  std::string message;
  try {
    (void)reclaim::io::parse_change_rules(R"({"thresholds": {"ndvi_bare": 1e999}})", reclaim::io::RulesFormat::json,
                                          "r.json");
  } catch (input_error const& e) {
    message = e.what();
  }
  EXPECT_TRUE(message.starts_with("rules file 'r.json': thresholds.ndvi_bare: ")) << message;
  EXPECT_NE(message.find("out of range"), std::string::npos) << message;
}

}  // namespace
