#pragma once
// What the national-run commands (plan, run, merge RUN/: national_command.cpp) share with
// `reclaim assess`: its options, and its one implementation run whole, as one unit of a
// national grid, or as the merge of the units' partial results.
#include <cxxopts.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/option_values.hpp"
#include "reclaim/grid.hpp"
#include "reclaim/site_crops.hpp"
#include "reclaim/zonal_work.hpp"

namespace reclaim::cli {

/// assess's own options (the sites, metrics and pictures), besides the change-input options.
void add_assess_options(cxxopts::Options& options);

/// Which rasters the units of a national run write (the plan's `keep-rasters`).
enum class RasterKeep {
  none,   ///< the tables only
  sites,  ///< each site's window (its box and the pictures' margin), cut to the unit
  units,  ///< the unit's whole window
};

/// One unit of a national run: the assessment of a window of the national grid, for the sites
/// that touch it, whose exact accumulators go to a partial file instead of tables.
struct AssessUnit {
  TileWindow window;                  ///< on the grid the job's epochs are read onto
  std::vector<std::size_t> sites;     ///< indices in the sites layer, increasing
  std::filesystem::path partial;      ///< where the accumulators go (zonal partial format)
  RasterKeep keep_rasters = RasterKeep::none;
  /// Where the pieces of the pictures' crops in this window go (io/crop_pieces.hpp), when the
  /// job draws pictures: the merge pastes them into the crops a whole run would capture.
  std::filesystem::path crops;
};

/// The merge of a national run: every site's accumulators merged over the units, and the
/// national rasters (VRTs of the units' COGs) listed in the manifest.
struct AssessMerge {
  std::vector<ProductAccumulators> zonal;  ///< the assess pass's products, then one per --epoch
  std::vector<std::filesystem::path> rasters;
  std::vector<std::string> missing_units;  ///< recorded in summary.json and the manifest (--allow-missing)
  nlohmann::ordered_json run;              ///< the plan and the units, for the manifest
  std::function<void()> write_rasters;     ///< writes `rasters`, once the outputs are claimed
  std::map<std::size_t, Crop> site_crops;  ///< pasted from the units' pieces, by site index
  std::optional<Crop> overview;            ///< likewise (the parts of the grid with units)
};

/// What `reclaim plan` needs of an assessment, checked as `reclaim assess` checks it (bad input
/// fails here, before the plan exists).
struct AssessLayout {
  Grid grid;                                  ///< the grid the epochs are read onto
  std::vector<std::string> site_ids;          ///< in layer order
  std::vector<std::optional<Bounds>> site_bounds;  ///< in the grid's CRS; none without geometry
  /// The window of each site's pictures on the grid (its box and a margin), for the sites that
  /// get pictures; a unit must exist wherever one lies, for the merged pictures to be whole.
  std::vector<std::optional<TileWindow>> picture_windows;
  /// Every site's window on the grid (its box and the pictures' margin, whether it gets
  /// pictures or not): what `keep-rasters = "sites"` writes.
  std::vector<std::optional<TileWindow>> site_windows;
  std::filesystem::path sites_path;
  std::vector<std::filesystem::path> inputs;  ///< the files read (scenes, sites, job), once each
  /// The inventories of the composited epochs (STAC JSON, CSV), once each.
  std::vector<std::filesystem::path> inventories;
  /// Each composited epoch's label and the ids of the scenes it keeps (after the filters).
  std::vector<std::pair<std::string, std::vector<std::string>>> epoch_items;
  std::int32_t planes_read = 0;               ///< input planes per pixel over every pass
  /// Every composited scene's pixels on the grid (each is one observation per pixel to read,
  /// decode, mask and composite): what a unit's estimate counts beside planes_read.
  std::vector<TileWindow> observation_footprints;
  std::vector<bool> observation_warped;  ///< footprint k's scene is warped onto the grid
  std::int32_t observation_planes = 0;  ///< planes one observation reads (bands and mask)
};
[[nodiscard]] AssessLayout assess_layout(OptionValues const& r);

/// `reclaim assess` with parsed options: whole (both null), one unit, or the merge.
/// `command`: the command line, for the manifest.
int run_assess_command(OptionValues const& r, std::vector<std::string> const& command, AssessUnit const* unit,
                       AssessMerge const* merge);

}  // namespace reclaim::cli
