// reclaim composite: a season of scenes (STAC or CSV inventory) -> per-pixel composite COGs:
// the reflectance of each band, clear_count and NDVI percentiles (docs/composites.md).
#include <cxxopts.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/epoch_inputs.hpp"
#include "cli/pass_runner.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/composite_source.hpp"
#include "reclaim/io/number_text.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

int composite_main(int argc, char** argv) {
  cxxopts::Options options("reclaim composite",
                           "A per-pixel composite of a season of scenes (STAC Item/ItemCollection JSON or CSV "
                           "inventory), one Cloud-Optimized GeoTIFF per band, with clear_count and NDVI percentiles");
  options.add_options()
      ("input", "the inventory, optionally LABEL=PATH (the label prefixes the file names; a year label lets "
                "--window give a season as MM-DD/MM-DD)", cxxopts::value<std::string>())
      ("bands-out", "bands written (comma-separated; default: every band composited)", cxxopts::value<std::string>())
      ("percentiles", "NDVI percentiles of the clear observations also written (e.g. 10,50,90; numpy's linear "
                      "interpolation)", cxxopts::value<std::string>())
      ("target-grid", "a raster whose grid (extent, pixel size, CRS) the composite is made on; default: the first "
                      "scene's grid extended to every scene", cxxopts::value<std::string>());
  add_epoch_options(options);
  auto const parsed = parse_raster_command(options, argc, argv);
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("input")) throw usage_error("--input INVENTORY is required");
  fs::path const out_dir = output_folder(r);
  auto const in = parse_labeled_path(r["input"].as<std::string>());
  if (!io::is_inventory_path(in.path))
    r.refuse("input", "not an inventory (STAC .json/.geojson or .csv): a composite is made of many scenes");
  std::vector<double> percentiles;
  if (r.count("percentiles")) {
    percentiles = r.numbers("percentiles");
    for (double q : percentiles)
      if (!(q >= 0 && q <= 100)) r.refuse("percentiles", "each percentile must lie in [0, 100]");
    if (percentiles.size() > static_cast<std::size_t>(pixel::kMaxCompositePercentiles))
      r.refuse("percentiles", "at most " + std::to_string(pixel::kMaxCompositePercentiles));
  }
  auto const run = run_settings_from(r);
  auto const cog = cog_options_from(r);
  EventLog log(run.log_format, run.quiet);

  auto const epoch = resolve_epoch(in.label, in.path, sensor_options_from(r), r, percentiles);
  // The bands written: those asked for, else every band all scenes have.
  std::uint32_t wanted = 0;
  if (r.count("bands-out")) {
    for (auto const& item : split(without_spaces(r["bands-out"].as<std::string>()), ',')) {
      bool found = false;
      for (int b = 0; b < pixel::kBandCount; ++b)
        if (item == band_name(static_cast<pixel::Band>(b))) {
          wanted |= std::uint32_t{1} << b;
          found = true;
        }
      if (!found) r.refuse("bands-out", "unknown band '" + item + "' (blue, green, red, nir, swir1, swir2)");
    }
  } else {
    for (int b = 0; b < pixel::kBandCount; ++b)
      if (epoch.scene.bands[b]) wanted |= std::uint32_t{1} << b;
  }
  for (int b = 0; b < pixel::kBandCount; ++b)
    if (((wanted >> b) & 1u) && !epoch.scene.bands[b])
      throw input_error(in.path.string() + ": band " + std::string(band_name(static_cast<pixel::Band>(b))) +
                        " is not in every scene");
  std::optional<Grid> target;
  if (r.count("target-grid")) target = io::raster_grid(r["target-grid"].as<std::string>());
  auto const source_ptr = open_epoch(epoch, wanted, target);
  auto const& source = dynamic_cast<io::CompositeEpochSource const&>(*source_ptr);

  // One plane in, one out: the composite is the source; the pass only hands its planes on.
  pixel::BandParams pass;
  pass.plane_count = source.plane_count();
  std::string const prefix = in.label.empty() ? "" : in.label + "_";
  auto const metadata = [&](std::string const& product) {
    std::vector<std::pair<std::string, std::string>> m = {
        {"RECLAIM_PRODUCT", product},
        {"RECLAIM_COMPOSITE", epoch.scene.composite},
        {"RECLAIM_COMPOSITE_RULE", std::string(io::composite_method_name(epoch.composite.method))},
        {"RECLAIM_INPUT", in.path.string()},
        {"RECLAIM_MASK", epoch.scene.mask_text},
        {"RECLAIM_CALIBRATION", "reflectance = " + io::calibration_text(epoch.scene)},
        {"RECLAIM_VERSION", RECLAIM_VERSION}};
    return m;
  };
  std::vector<io::OutputRaster> outputs;
  std::vector<std::string> names(static_cast<std::size_t>(source.plane_count()));
  for (int b = 0; b < pixel::kBandCount; ++b) {
    std::string const band(band_name(static_cast<pixel::Band>(b)));
    names[static_cast<std::size_t>(b)] = band;
    if (!((wanted >> b) & 1u)) continue;
    io::OutputRaster o;
    o.path = out_dir / (prefix + band + ".tif");
    o.description = band + " surface reflectance, " + epoch.scene.composite;
    o.metadata = metadata(band);
    o.plane = b;
    outputs.push_back(std::move(o));
  }
  {
    io::OutputRaster o;
    o.path = out_dir / (prefix + "clear_count.tif");
    o.description = "clear observations per pixel (after masks, one per platform and day)";
    o.metadata = metadata("clear_count");
    o.plane = io::CompositeEpochSource::clear_count_plane();
    names[static_cast<std::size_t>(o.plane)] = "clear_count";
    outputs.push_back(std::move(o));
  }
  for (std::size_t k = 0; k < percentiles.size(); ++k) {
    std::string const name = "ndvi_p" + io::shortest_text(percentiles[k]);
    io::OutputRaster o;
    o.path = out_dir / (prefix + name + ".tif");
    o.description = "NDVI percentile " + io::shortest_text(percentiles[k]) + " of the clear observations";
    o.metadata = metadata(name);
    o.plane = io::CompositeEpochSource::clear_count_plane() + 1 + static_cast<int>(k);
    names[static_cast<std::size_t>(o.plane)] = name;
    outputs.push_back(std::move(o));
  }

  PassRunner runner("composite", run, cog, log);
  PassLayout layout;
  layout.label = in.label.empty() ? "composite" : in.label;
  layout.source = &source;
  layout.inputs = epoch.files();
  if (r.job_path()) layout.inputs.push_back(*r.job_path());
  layout.pass = pass;
  layout.plan = runner.plan(source, pass);
  layout.outputs = outputs;
  layout.plane_names = names;
  auto const claimed = runner.claim_outputs(out_dir, {&layout});
  log_epoch(log, epoch, source);  // once the run is checked: a refused run has only its error
  if (runner.dry_run()) {
    runner.describe(layout);
    return 0;
  }
  runner.run(layout);
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
