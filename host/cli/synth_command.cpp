// reclaim synth: writes the demo data (a Sentinel-2-L2A-like scene pair and mine sites), or with
// --national the national demo (scenes in two UTM zones, inventories, sites by province, a job).
#include <cxxopts.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "reclaim/error.hpp"
#include "reclaim/synth/synth.hpp"

namespace reclaim::cli {

int synth_main(int argc, char** argv) {
  synth::SynthOptions defaults;
  cxxopts::Options options("reclaim synth",
                           "Write a synthetic Sentinel-2 L2A scene pair (DIR/<year>.tif, 7 bands: B02 B03 B04 B08 "
                           "B11 B12 SCL) and mine-site polygons (DIR/sites.gpkg); deterministic for a seed. With "
                           "--national: the national demo (docs/national.md)");
  options.add_options()
      ("out", "output folder (created if missing)", cxxopts::value<std::string>())
      ("width", "scene width in 10 m pixels", cxxopts::value<std::int32_t>()->default_value(std::to_string(defaults.width)))
      ("height", "scene height in 10 m pixels", cxxopts::value<std::int32_t>()->default_value(std::to_string(defaults.height)))
      ("seed", "random seed", cxxopts::value<std::uint64_t>()->default_value(std::to_string(defaults.seed)))
      ("before-year", "year of the first epoch", cxxopts::value<int>()->default_value(std::to_string(defaults.before_year)))
      ("after-year", "year of the second epoch", cxxopts::value<int>()->default_value(std::to_string(defaults.after_year)))
      ("national", "the national demo instead: 4 scenes per epoch in UTM 49N and 50N (DIR/scenes/YEAR/), the "
                   "epochs' CSV inventories (DIR/YEAR.csv), sites with a province field, a target grid "
                   "(DIR/grid.tif) and a job for reclaim plan (DIR/national.toml)")
      ("h,help", "this help");
  add_overwrite_option(options);

  synth::SynthOptions o = defaults;
  bool overwrite = false;
  bool national = false;
  try {
    auto const r = options.parse(argc, argv);
    if (r.count("help")) {
      std::puts(options.help().c_str());
      return 0;
    }
    if (!r.unmatched().empty()) throw usage_error("synth: unexpected argument '" + r.unmatched().front() + "'");
    if (!r.count("out")) throw usage_error("synth: --out DIR is required");
    o.out_dir = r["out"].as<std::string>();
    o.width = r["width"].as<std::int32_t>();
    o.height = r["height"].as<std::int32_t>();
    o.seed = r["seed"].as<std::uint64_t>();
    o.before_year = r["before-year"].as<int>();
    o.after_year = r["after-year"].as<int>();
    overwrite = r.count("overwrite") > 0;
    national = r.count("national") > 0;
    if (national && (r.count("width") || r.count("height")))
      throw usage_error("synth: --national has a fixed layout; --width and --height do not apply");
  } catch (cxxopts::exceptions::exception const& e) {
    throw usage_error(std::string("synth: ") + e.what());
  }
  if (o.width < 1 || o.height < 1)
    throw usage_error("synth: --width and --height must be at least 1 (got " + std::to_string(o.width) + " x " +
                      std::to_string(o.height) + ")");

  if (national) {
    synth::NationalOptions n;
    n.out_dir = o.out_dir;
    n.seed = o.seed;
    n.before_year = o.before_year;
    n.after_year = o.after_year;
    auto const planned = synth::national_demo_paths(n);
    auto const claimed = claim_outputs({n.out_dir, planned.files(), 0}, overwrite);
    synth::NationalOutputs const out = synth::write_national_demo(n);
    for (auto const& f : out.files()) std::printf("%s\n", f.string().c_str());
    return 0;
  }

  auto const paths = synth::demo_scene_paths(o);
  auto const claimed = claim_outputs({o.out_dir, {paths.before, paths.after, paths.sites}, 0}, overwrite);
  synth::SynthOutputs const out = synth::write_demo_scene(o);
  std::printf("%s\n%s\n%s\n", out.before.string().c_str(), out.after.string().c_str(), out.sites.string().c_str());
  return 0;
}

}  // namespace reclaim::cli
