#pragma once
// Options shared by every command that reads scenes (indices now; change and assess later).
#include <cxxopts.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/option_values.hpp"
#include "cli/logging.hpp"
#include "io/output_file.hpp"
#include "reclaim/io/scene.hpp"

namespace reclaim::cli {

/// Adds the sensor / band-map options (--sensor, --bands, --mask-*, --scale, ...).
void add_sensor_options(cxxopts::Options& options);
[[nodiscard]] io::SensorOptions sensor_options_from(OptionValues const& result);

/// Adds --device, --memory-budget, --readers, --threads, --log-format, --quiet, --dry-run, --overwrite.
void add_run_options(cxxopts::Options& options);
/// Adds --overwrite alone (commands without the run options: merge, synth).
void add_overwrite_option(cxxopts::Options& options);

struct RunSettings {
  std::string device = "auto";
  std::size_t memory_budget = std::size_t{512} << 20;
  int readers = 2;
  int threads = 0;
  LogFormat log_format = LogFormat::text;
  bool quiet = false;
  bool dry_run = false;  ///< plan and print the layout, write nothing
  bool overwrite = false;  ///< replace outputs of an earlier run (refused otherwise)
};
[[nodiscard]] RunSettings run_settings_from(OptionValues const& result);

/// The non-empty items of a `sep`-separated list ("a,,b" -> {"a", "b"}).
[[nodiscard]] std::vector<std::string> split(std::string const& text, char sep);
/// `text` without its spaces ("a, b" -> "a,b"), for comma lists given with spaces.
[[nodiscard]] std::string without_spaces(std::string text);
/// The whole text as a number; usage_error "--<option> <text>: not a number" otherwise.
/// usage_error when an output would replace an input (the same file, by any path): an input is
/// never overwritten, as GDAL refuses too.
void refuse_overwriting_inputs(std::vector<std::filesystem::path> const& outputs,
                               std::vector<std::filesystem::path> const& inputs);

/// What a run is about to write: its --out folder (empty for zonal and merge, whose --out is a
/// file), every file, and the uncompressed scratch its COG writer puts beside the outputs (the
/// largest pass's: each pass removes its own).
struct OutputClaim {
  std::filesystem::path folder;
  std::vector<std::filesystem::path> files;
  std::uintmax_t scratch_bytes = 0;
};

/// The file whose presence says a run in that folder finished (assess writes it last).
inline constexpr char kManifestName[] = "manifest.json";

/// usage_error naming the first of `outputs` that exists, unless `overwrite`: a finished run's
/// outputs are never replaced by mistake. Checked by --dry-run too.
void refuse_existing_outputs(std::vector<std::filesystem::path> const& outputs, bool overwrite);

/** @brief Claims a run's outputs once it is checked and before its first write; held until the
 * returned lock is destroyed. Creates the folder, locks it and the files outside it
 * (io::lock_outputs: io_error when another run holds them), refuses an existing output unless
 * `overwrite` (refuse_existing_outputs), checks the free space for the scratch files (io_error),
 * then removes the folder's manifest.json when this run replaces any file (before anything
 * else is written: a run that fails then never leaves an old manifest beside new files). A
 * folder it created is removed again when a check fails, so a run that cannot start leaves
 * nothing behind. */
[[nodiscard]] io::OutputLock claim_outputs(OutputClaim const& claim, bool overwrite);

/// "512M", "2G", "65536" (bytes; K/M/G are powers of 1024). Throws usage_error.
[[nodiscard]] std::size_t parse_bytes(std::string const& text, std::string const& option);

}  // namespace reclaim::cli
