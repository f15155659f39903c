#pragma once
// GDAL at the I/O boundary: one-time setup, opening with errors that name the file, and
// CPLErr -> exception conversion. Only host/io includes GDAL headers.
#include <gdal_priv.h>

#include <filesystem>
#include <string>

#include "reclaim/grid.hpp"

namespace reclaim::io {

/// Registers drivers once and quiets GDAL's own stderr output (errors become exceptions).
void ensure_gdal_initialized();

/// Opens a raster read-only; throws reclaim::input_error "<path>: <reason>" on failure.
GDALDatasetUniquePtr open_raster(std::filesystem::path const& path);

/// The grid of a dataset (size, geotransform, CRS WKT, band 1's block size).
Grid grid_of(GDALDataset& dataset);

/// GDAL's last error message, or `fallback` when it has none.
std::string last_gdal_error(std::string const& fallback = "unknown GDAL error");

/// True when two WKT strings describe the same CRS (OGRSpatialReference::IsSame).
bool same_crs(std::string const& a, std::string const& b);

}  // namespace reclaim::io
