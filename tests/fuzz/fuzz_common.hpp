#pragma once
// What every fuzz target shares: the CLI's contract for bad input. A parser may refuse its
// input only with the errors main() maps to exit 2, 3 or 4 (docs/cli.md); any other exception
// would exit 1, which is a bug, so the target aborts and libFuzzer keeps the input.
#include <cxxopts.hpp>
#include <gdal.h>
#include <cpl_error.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>

#include <unistd.h>

#include "reclaim/error.hpp"

namespace reclaim::fuzz {

template <class F>
void expect_clean(F&& run) {
  try {
    run();
  } catch (usage_error const&) {
  } catch (input_error const&) {
  } catch (io_error const&) {
  } catch (cxxopts::exceptions::exception const&) {  // main(): a usage error, exit 2
  } catch (std::exception const& e) {
    std::fprintf(stderr, "fuzz: %s escaped (the CLI would exit 1): %s\n", typeid(e).name(), e.what());
    std::abort();
  }
}

/// A folder of this process's own (fuzzers run in parallel with -jobs), made once.
inline std::filesystem::path scratch_dir() {
  static std::filesystem::path const dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("reclaim-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

/// Writes the input to a file of that name in scratch_dir() (the parsers under test read paths).
inline std::filesystem::path write_input(std::string const& name, std::string_view bytes) {
  auto const path = scratch_dir() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

inline void quiet_gdal() {
  GDALAllRegister();
  CPLSetErrorHandler(CPLQuietErrorHandler);
}

}  // namespace reclaim::fuzz
