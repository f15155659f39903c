#include "io/gdal_util.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_spatialref.h>

#include <mutex>

#include "reclaim/error.hpp"
#include "reclaim/io/gdal_runtime.hpp"

namespace reclaim::io {

void ensure_gdal_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    // Errors are turned into exceptions that name the file; GDAL's own printing would
    // duplicate them. Warnings are dropped for the same reason.
    CPLSetErrorHandler(CPLQuietErrorHandler);
  });
}

void configure_gdal(std::size_t cache_bytes) {
  ensure_gdal_initialized();
  GDALSetCacheMax64(static_cast<GIntBig>(cache_bytes));
}

std::string last_gdal_error(std::string const& fallback) {
  char const* msg = CPLGetLastErrorMsg();
  return (msg && *msg) ? std::string(msg) : fallback;
}

GDALDatasetUniquePtr open_raster(std::filesystem::path const& path) {
  ensure_gdal_initialized();
  std::error_code ec;
  bool const virtual_file = path.string().rfind("/vsi", 0) == 0;  // /vsimem/, /vsizip/, ...
  if (!virtual_file && !std::filesystem::exists(path, ec))
    throw input_error(path.string() + ": no such file or directory");
  CPLErrorReset();
  GDALDatasetUniquePtr ds(
      GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, nullptr, nullptr));
  if (!ds) {
    if (!virtual_file && std::filesystem::is_directory(path, ec))
      throw input_error(path.string() + ": is a folder, not a raster file");
    if (!virtual_file && std::filesystem::file_size(path, ec) == 0 && !ec)
      throw input_error(path.string() + ": is empty (0 bytes), not a raster");
    throw input_error(path.string() + ": not a readable raster (" + last_gdal_error("unknown format") + ")");
  }
  if (ds->GetRasterCount() < 1) throw input_error(path.string() + ": raster has no bands");
  return ds;
}

Grid grid_of(GDALDataset& ds) {
  Grid g;
  g.width = ds.GetRasterXSize();
  g.height = ds.GetRasterYSize();
  if (ds.GetGeoTransform(g.geotransform.data()) != CE_None) g.geotransform = {0, 1, 0, 0, 0, 1};
  if (auto const* srs = ds.GetSpatialRef()) {
    char* wkt = nullptr;
    char const* options[] = {"FORMAT=WKT2_2018", nullptr};
    if (srs->exportToWkt(&wkt, options) == OGRERR_NONE && wkt) g.crs_wkt = wkt;
    CPLFree(wkt);
  }
  int bx = 0, by = 0;
  ds.GetRasterBand(1)->GetBlockSize(&bx, &by);
  g.block_width = bx;
  g.block_height = by;
  return g;
}

bool same_crs(std::string const& a, std::string const& b) {
  if (a == b) return true;
  if (a.empty() || b.empty()) return false;
  OGRSpatialReference sa, sb;
  if (sa.importFromWkt(a.c_str()) != OGRERR_NONE || sb.importFromWkt(b.c_str()) != OGRERR_NONE) return false;
  return sa.IsSame(&sb) != 0;
}

}  // namespace reclaim::io
