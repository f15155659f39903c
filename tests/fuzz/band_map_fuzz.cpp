// The band-map options (--sensor, --bands, --mask-band, --mask-values, --mask-bits, --scale,
// ...; docs/sensors.md) as the command line gives them, one argument per line, resolved
// against a 7-band file, a product folder, or no --input. The fuzzer works in a folder of its
// own: arguments naming other folders ('/') are skipped.
#include "fuzz_common.hpp"
#include "cli/common_options.hpp"
#include "cli/option_values.hpp"
#include "reclaim/io/scene.hpp"

#include <gdal_priv.h>

#include <vector>

namespace fs = std::filesystem;

namespace {

void write_raster(fs::path const& path, int size, int bands, char const* description) {
  auto* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  GDALDatasetUniquePtr ds(drv->Create(path.c_str(), size, size, bands, GDT_UInt16, nullptr));
  double gt[6] = {500000, 10.0 * 8 / size, 0, 4000000, 0, -10.0 * 8 / size};
  ds->SetGeoTransform(gt);
  if (description) ds->GetRasterBand(1)->SetDescription(description);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  reclaim::fuzz::quiet_gdal();
  auto const dir = reclaim::fuzz::scratch_dir();
  fs::current_path(dir);
  write_raster("s.tif", 8, 7, nullptr);
  write_raster("b.tif", 4, 1, nullptr);
  fs::create_directories("prod");
  for (char const* name : {"T_B02_10m.tif", "T_B03_10m.tif", "T_B04_10m.tif", "T_B08_10m.tif", "T_B11_20m.tif",
                           "T_SCL_20m.tif", "LC09_SR_B4.TIF", "LC09_QA_PIXEL.TIF"})
    write_raster(fs::path("prod") / name, 8, 1, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0 || size > 4096) return 0;
  std::string const input = data[0] % 3 == 0 ? "s.tif" : data[0] % 3 == 1 ? "prod" : "";
  std::vector<std::string> args{"reclaim"};
  std::string token;
  for (std::size_t i = 1; i <= size; ++i) {
    if (i == size || data[i] == '\n') {
      if (token.find('/') != std::string::npos) return 0;
      args.push_back(token);
      token.clear();
    } else {
      token.push_back(static_cast<char>(data[i]));
    }
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  reclaim::fuzz::expect_clean([&] {
    cxxopts::Options options("reclaim indices", "fuzz");
    reclaim::cli::add_sensor_options(options);
    auto parsed = options.parse(static_cast<int>(argv.size() - 1), argv.data());
    reclaim::cli::OptionValues const r(options, std::move(parsed), std::nullopt);
    auto const scene = reclaim::io::resolve_scene("fuzz", input, reclaim::cli::sensor_options_from(r));
    (void)reclaim::io::scene_files(scene);
  });
  return 0;
}
