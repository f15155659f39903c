// reclaim: subcommand dispatch and the mapping of errors to documented exit codes.
#include <cxxopts.hpp>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <exception>
#include <string>

#include "reclaim/io/cog_writer.hpp"
#include "cli/commands.hpp"
#include "reclaim/error.hpp"
#include "reclaim/interrupt.hpp"

namespace {

constexpr int kExitInternal = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInput = 3;
constexpr int kExitIo = 4;
constexpr int kExitCuda = 5;

void print_usage() {
  std::puts(
      "reclaim " RECLAIM_VERSION ": mine-rehabilitation verification from satellite imagery\n"
      "\n"
      "usage: reclaim <command> [options]   (reclaim <command> --help for its options)\n"
      "\n"
      "commands:\n"
      "  assess    the rehabilitation assessment: two epochs + sites -> metrics, grades, pictures, report\n"
      "  indices   spectral indices (NDVI, EVI, ...) of one or more scenes, as Cloud-Optimized GeoTIFFs\n"
      "  composite a per-pixel composite (median, max-NDVI, medoid) of a season of scenes (STAC, CSV inventory)\n"
      "  change    change classes (revegetated, still bare, ...) and dNDVI between two epochs\n"
      "  trend     per-pixel trend (Theil-Sen, Mann-Kendall), year of recovery over many epochs\n"
      "  zonal     per-site statistics of a value or class raster (exact coverage): CSV, GeoPackage, JSON\n"
      "  merge     merge partial zonal results (zonal --partial) from shards exactly into one table, or the\n"
      "            units of a national run (merge RUN/)\n"
      "  plan      cut a national assessment (a job file) into units of work: RUN/plan.json\n"
      "  run       run units of a plan (--unit I, --units I-J, --shard K/N, or the Slurm array index)\n"
      "  synth     write the built-in demo data (a Sentinel-2-like scene pair and mine sites; --national: the\n"
      "            national demo, scenes in two UTM zones, inventories, sites by province and a job)\n"
      "\n"
      "exit codes: 0 ok, 1 internal error, 2 usage error, 3 bad input, 4 I/O failure or outputs held by another\n"
      "run, 5 CUDA error, 130/143 stopped by SIGINT/SIGTERM");
}

char const* signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

int fail(int code, std::string const& message) {
  std::fprintf(stderr, "reclaim: error: %s\n", message.c_str());
  return code;
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_usage();
    return argc < 2 ? kExitUsage : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::puts("reclaim " RECLAIM_VERSION);
    return 0;
  }
  std::string const command = argv[1];
  try {
    if (command == "assess") return reclaim::cli::assess_main(argc - 1, argv + 1);
    if (command == "indices") return reclaim::cli::indices_main(argc - 1, argv + 1);
    if (command == "composite") return reclaim::cli::composite_main(argc - 1, argv + 1);
    if (command == "change") return reclaim::cli::change_main(argc - 1, argv + 1);
    if (command == "trend") return reclaim::cli::trend_main(argc - 1, argv + 1);
    if (command == "zonal") return reclaim::cli::zonal_main(argc - 1, argv + 1);
    if (command == "merge") return reclaim::cli::merge_main(argc - 1, argv + 1);
    if (command == "synth") return reclaim::cli::synth_main(argc - 1, argv + 1);
    if (command == "plan") return reclaim::cli::plan_main(argc - 1, argv + 1);
    if (command == "run") return reclaim::cli::run_main(argc - 1, argv + 1);
    print_usage();
    return fail(kExitUsage, "unknown command '" + command + "'");
  } catch (reclaim::usage_error const& e) {
    return fail(kExitUsage, e.what());
  } catch (cxxopts::exceptions::exception const& e) {
    return fail(kExitUsage, e.what());
  } catch (reclaim::input_error const& e) {
    return fail(kExitInput, e.what());
  } catch (reclaim::io_error const& e) {
    return fail(kExitIo, e.what());
  } catch (reclaim::cuda_error const& e) {
    return fail(kExitCuda, e.what());
  } catch (reclaim::interrupted_error const& e) {
    // 128 + N, as a shell reports a process killed by signal N; the temporaries are gone by now.
    return fail(128 + e.signal, std::string("interrupted by ") + signal_name(e.signal) +
                                    ": stopped, temporary files removed");
  } catch (std::filesystem::filesystem_error const& e) {
    // A file-system call without its own message (every known one has one): still an I/O
    // failure naming the path, not a bug.
    return fail(kExitIo, e.path1().string() + ": " + e.code().message());
  } catch (std::exception const& e) {
    return fail(kExitInternal, std::string("internal error: ") + e.what());
  }
}

int main(int argc, char** argv) {
  int const code = dispatch(argc, argv);
  if (reclaim::io::encoders_abandoned()) {
    // A COG encoder thread is stuck inside GDAL (~StreamingCogSink): static destructors would
    // wait on it or tear GDAL down under it. Everything this run wrote is settled by now.
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code);
  }
  return code;
}
