// A GeoTIFF read through the tile source (io::GdalTileSource): band b of the file as spectral
// band b (the last band when it has fewer), band 7 as the quality band, every tile of the grid
// read and calibrated. Grids over 512 x 512 are skipped (memory, not parsing). Read twice: from
// /vsimem/ (always through GDAL) and from a real file (where io::DirectTiff reads the tiles it
// takes); the two must give the same bits, or fail alike.
#include "fuzz_common.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/scene.hpp"

#include <gdal_priv.h>
#include <cpl_vsi.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  reclaim::fuzz::quiet_gdal();
  return 0;
}

namespace {

/// Every tile of `name` read through the tile source, planes one after the other; false when
/// the file is skipped (not a raster, too big).
bool read_all(char const* name, std::vector<float>& all) {
  int count = 0;
  {
    GDALDatasetUniquePtr ds(GDALDataset::Open(name, GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!ds || ds->GetRasterCount() < 1 || ds->GetRasterCount() > 64) return false;
    if (static_cast<std::int64_t>(ds->GetRasterXSize()) * ds->GetRasterYSize() > 512 * 512) return false;
    count = ds->GetRasterCount();
  }
  reclaim::io::SceneSpec scene;
  scene.label = "fuzz";
  scene.input = name;
  for (int b = 0; b < reclaim::pixel::kBandCount; ++b) {
    scene.bands[b] = reclaim::io::BandRef{name, std::min(b + 1, count)};
    scene.calibration[b].scale = 1e-4;
    scene.calibration[b].has_nodata = true;
  }
  if (count >= 7) {
    scene.mask = reclaim::io::BandRef{name, 7};
    scene.mask_rule.add_class(3);
    scene.mask_rule.any_bits = 0x10;
  }
  reclaim::io::GdalTileSource const source(scene, (1u << reclaim::pixel::kBandCount) - 1u);
  auto const& grid = source.grid();
  auto reader = source.open_reader();
  constexpr std::int64_t kTile = 128;
  std::vector<float> planes;
  std::int64_t id = 0;
  for (std::int64_t y = 0; y < grid.height; y += kTile)
    for (std::int64_t x = 0; x < grid.width; x += kTile) {
      reclaim::TileWindow const w{id++, x, y, static_cast<std::int32_t>(std::min(kTile, grid.width - x)),
                                  static_cast<std::int32_t>(std::min(kTile, grid.height - y))};
      planes.assign(w.pixel_count() * static_cast<std::size_t>(source.plane_count()), 0.f);
      reader->read(w, planes.data());
      all.insert(all.end(), planes.begin(), planes.end());
    }
  return true;
}

/// Whether read_all(name) completes (false: skipped or a reclaim error, as the CLI reports it).
bool read_clean(char const* name, std::vector<float>& all) {
  bool done = false;
  reclaim::fuzz::expect_clean([&] { done = read_all(name, all); });
  return done;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  char const* const name = "/vsimem/fuzz.tif";
  VSILFILE* f = VSIFileFromMemBuffer(name, const_cast<GByte*>(data), static_cast<vsi_l_offset>(size), FALSE);
  if (!f) return 0;
  VSIFCloseL(f);
  std::vector<float> through_gdal, direct;
  bool const gdal_done = read_clean(name, through_gdal);
  VSIUnlink(name);

  auto const file = reclaim::fuzz::scratch_dir() / "fuzz.tif";
  if (FILE* out = std::fopen(file.c_str(), "wb")) {
    bool const written = std::fwrite(data, 1, size, out) == size;
    if (std::fclose(out) == 0 && written) {
      bool const direct_done = read_clean(file.c_str(), direct);
      // Through GDAL both times, or tiles read directly: the same values, bit for bit.
      if (gdal_done && direct_done &&
          (through_gdal.size() != direct.size() ||
           std::memcmp(through_gdal.data(), direct.data(), direct.size() * sizeof(float)) != 0)) {
        std::fprintf(stderr, "fuzz: the direct GeoTIFF reads differ from GDAL's\n");
        std::abort();
      }
    }
  }
  return 0;
}
