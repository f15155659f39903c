// A job file (JSON or TOML, chosen by the first byte) through io::read_document and the option
// layer (cli::OptionValues), then read as a scene command reads it: the sensor and band-map
// options, the run options, the manifest's parameter list.
#include "fuzz_common.hpp"
#include "cli/common_options.hpp"
#include "cli/option_values.hpp"

namespace {

cxxopts::Options command_options() {
  cxxopts::Options options("reclaim indices", "fuzz");
  options.add_options("Input and output")
      ("input", "scene", cxxopts::value<std::vector<std::string>>())
      ("index", "indices", cxxopts::value<std::string>()->default_value("ndvi"))
      ("out", "folder", cxxopts::value<std::string>())
      ("compress-level", "level", cxxopts::value<std::string>()->default_value("0"))
      ("savi-l", "SAVI L", cxxopts::value<std::string>()->default_value("0.5"))
      ("overviews", "overviews");
  reclaim::cli::add_sensor_options(options);
  reclaim::cli::add_run_options(options);
  options.add_options("Run")("job", "job file", cxxopts::value<std::string>());
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view const text(reinterpret_cast<char const*>(data) + 1, size - 1);
  auto const path = reclaim::fuzz::write_input((data[0] & 1) ? "job.toml" : "job.json", text);
  reclaim::fuzz::expect_clean([&] {
    auto options = command_options();
    char arg0[] = "reclaim";
    char* argv[] = {arg0, nullptr};
    reclaim::cli::OptionValues const r(options, options.parse(1, argv), path);
    if (r.count("input")) (void)r["input"].as<std::vector<std::string>>();
    if (r.count("out")) (void)r["out"].as<std::string>();
    (void)r.integer("compress-level", 0, 12);  // numbers are read as the commands read them
    (void)r["overviews"].as<bool>();
    (void)r.number_in("savi-l", 0.0, 1.0);
    (void)r["index"].as<std::string>();
    (void)reclaim::cli::run_settings_from(r);
    (void)reclaim::cli::sensor_options_from(r);
    (void)r.to_json().dump();
  });
  return 0;
}
