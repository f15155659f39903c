#pragma once
// What every raster command shares: output options, the memory-budget split, and running
// one pass over a source into COGs with plan/progress/output events.
#include <cxxopts.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/option_values.hpp"
#include "cli/common_options.hpp"
#include "cli/logging.hpp"
#include "reclaim/backend.hpp"
#include "reclaim/io/cog_writer.hpp"
#include "reclaim/io/scene.hpp"
#include "reclaim/scheduler.hpp"
#include "reclaim/zonal_work.hpp"

namespace reclaim::cli {

[[nodiscard]] std::string lower(std::string s);

/** @brief Adds the output, sensor and run options to a raster command's own, parses (with
 * --job), and prints the help (then `help_footer`, returning nullopt) for --help. Throws
 * usage_error for a stray argument. */
[[nodiscard]] std::optional<OptionValues> parse_raster_command(cxxopts::Options& options, int argc, char** argv,
                                                               std::string const& help_footer = {});

/// Adds --out, --compress, --overviews and the index parameters (--savi-l, --fvc-*).
void add_output_options(cxxopts::Options& options);
[[nodiscard]] io::CogOptions cog_options_from(OptionValues const& r);
[[nodiscard]] pixel::IndexParams index_params_from(OptionValues const& r);
/// --out; usage_error when missing. Not created here: claim_outputs creates it once the run is
/// checked, so that a run that cannot start leaves no empty folder.
[[nodiscard]] std::filesystem::path output_folder(OptionValues const& r);

/// The Float32 COG of one index (description, RECLAIM_* metadata: sensor, input, the quality
/// mask and calibration as applied).
[[nodiscard]] io::OutputRaster index_output(std::filesystem::path path, pixel::Index index,
                                            io::SceneSpec const& scene);
/// Logs what resolve_scene assumed rather than was told (io::SceneSpec::warnings).
void log_scene_warnings(EventLog& log, io::SceneSpec const& scene);

/// The memory budget split: a quarter for the scheduler's tile buffers, an eighth for GDAL's
/// block cache, the rest for finished tiles waiting for the COG encoders.
struct BudgetSplit {
  std::size_t tiles;
  std::size_t gdal_cache;
  std::size_t encoder_buffer;
};
[[nodiscard]] BudgetSplit split_budget(std::size_t budget) noexcept;

/** @brief The layout of one pass over the tiles: what it reads, computes and writes. Made once
 * by a command's planning step (with its one tile plan), printed by --dry-run, then run. */
struct PassLayout {
  std::string label;
  TileSource const* source = nullptr;
  PixelPass pass;
  TilePlan plan;                          ///< the one tile plan: crops and zonal items are cut from it
  std::vector<io::OutputRaster> outputs;  ///< COGs (may be empty: zonal statistics only)
  std::vector<std::string> plane_names;   ///< output plane k's name
  ZonalWork const* zonal = nullptr;       ///< per-zone statistics accumulated by the backend workers
  std::vector<TileObserver*> observers;   ///< e.g. picture crops, on the compute threads
  std::vector<std::filesystem::path> tables;  ///< written after the pass (zonal tables, partials, reports)
  std::vector<std::filesystem::path> inputs;  ///< files the command reads (no output may replace one)
  std::size_t crops = 0;                  ///< picture windows captured (for the layout only)
};

/// A backend, the log and the budget for the passes of one command.
class PassRunner {
 public:
  PassRunner(std::string command, RunSettings const& run, io::CogOptions cog, EventLog& log);
  /// The tiles of `pass` over `source` within this command's budget.
  /// `tile_pixels`: the tiles' size wanted, rounded up to whole blocks (smaller tiles: finer
  /// skipping of tiles no site meets; 1: one block per tile); 0: the default (about 1 Mpixel).
  [[nodiscard]] TilePlan plan(TileSource const& source, PixelPass const& pass, std::int64_t tile_pixels = 0) const;
  /// Per-zone work of a pass over `plan` (coverage of every zone once, on the run's threads).
  [[nodiscard]] ZonalWork zonal_work(TilePlan const& plan, std::vector<Zone> const& zones, CoverageMode mode,
                                     bool geographic, std::vector<ZonalProduct> products, bool warn_outside = true) const;
  /// claim_outputs for `folder` and the passes of `layouts` (their COGs, tables and scratch files),
  /// plus `extra` files, with --overwrite; first refuses an output that would replace an input.
  /// A dry run only refuses (the same errors as the run) and claims nothing.
  [[nodiscard]] io::OutputLock claim_outputs(std::filesystem::path const& folder,
                                             std::vector<PassLayout const*> const& layouts,
                                             std::vector<std::filesystem::path> const& extra = {}) const;
  /// Logs the layout (the --dry-run output: stdout in text mode, a "layout" event in JSON).
  void describe(PassLayout const& layout);
  /// Streams the layout's source through its pass into its COGs (completed) and zonal work;
  /// RunStats::zonal holds the zonal results. Logs each step.
  RunStats run(PassLayout const& layout);
  [[nodiscard]] bool dry_run() const noexcept { return m_run.dry_run; }
  [[nodiscard]] int threads() const noexcept;
  /// Logs a step after the passes ("<label>: finishing: <step>"): tables, pictures, the report.
  void finishing(std::string const& label, std::string const& step);
  /// Records a file written by the command (printed by done()).
  void wrote(std::filesystem::path const& path);
  /// Prints the files written (stdout) and the closing event.
  void done();

 private:
  RunSettings m_run;
  io::CogOptions m_cog;
  EventLog& m_log;
  std::unique_ptr<Backend> m_backend;
  BudgetSplit m_budget;
  std::vector<std::filesystem::path> m_written;
  /// Warnings of the planning (zones outside the raster), said once the run is checked (a
  /// refused run prints only its error): by claim_outputs, else by run.
  mutable std::vector<std::string> m_deferred_warnings;
  void say_deferred_warnings() const;
};

}  // namespace reclaim::cli
