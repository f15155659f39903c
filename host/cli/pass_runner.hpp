#pragma once
// What every raster command shares: output options, the memory-budget split, and running
// one pass over a source into COGs with plan/progress/output events.
#include <cxxopts.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/common_options.hpp"
#include "cli/logging.hpp"
#include "reclaim/backend.hpp"
#include "reclaim/io/cog_writer.hpp"
#include "reclaim/io/scene.hpp"
#include "reclaim/scheduler.hpp"

namespace reclaim::cli {

[[nodiscard]] std::string lower(std::string s);

/** @brief Adds the output, sensor and run options to a raster command's own, parses, and
 * prints the help (returning nullopt) for --help. Throws usage_error for a stray argument. */
[[nodiscard]] std::optional<cxxopts::ParseResult> parse_raster_command(cxxopts::Options& options, int argc,
                                                                       char** argv);

/// Adds --out, --compress, --overviews and the index parameters (--savi-l, --fvc-*).
void add_output_options(cxxopts::Options& options);
[[nodiscard]] io::CogOptions cog_options_from(cxxopts::ParseResult const& r);
[[nodiscard]] pixel::IndexParams index_params_from(cxxopts::ParseResult const& r);
/// --out, created; throws usage_error when missing, io_error when it cannot be created.
[[nodiscard]] std::filesystem::path output_folder(cxxopts::ParseResult const& r);

/// The Float32 COG of one index (description, RECLAIM_* metadata).
[[nodiscard]] io::OutputRaster index_output(std::filesystem::path path, pixel::Index index, io::Sensor sensor,
                                            std::filesystem::path const& input);

/// The memory budget split: a quarter for the scheduler's tile buffers, an eighth for GDAL's
/// block cache, the rest for finished tiles waiting for the COG encoders.
struct BudgetSplit {
  std::size_t tiles;
  std::size_t gdal_cache;
  std::size_t encoder_buffer;
};
[[nodiscard]] BudgetSplit split_budget(std::size_t budget) noexcept;

/// A backend, the log and the budget for the passes of one command.
class PassRunner {
 public:
  PassRunner(std::string command, RunSettings const& run, io::CogOptions cog, EventLog& log);
  /// Plans, streams `source` through `pass` into `outputs`, completes the COGs; logs each step.
  /// `also`: a second sink fed the same tiles (per-zone statistics in the same pass).
  RunStats run(std::string const& label, TileSource const& source, PixelPass const& pass,
               std::vector<io::OutputRaster> const& outputs, TileSink* also = nullptr);
  /// The tiles of `pass` over `source` within this command's budget.
  /// `block_tiles`: one source block per tile (finer skipping of tiles no zone meets).
  [[nodiscard]] TilePlan plan(TileSource const& source, PixelPass const& pass, bool block_tiles = false) const;
  /// The pass into any sink (zonal statistics); the caller completes the sink.
  RunStats run_to_sink(std::string const& label, TileSource const& source, PixelPass const& pass, TilePlan const& plan,
                       TileSink& sink);
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
};

}  // namespace reclaim::cli
