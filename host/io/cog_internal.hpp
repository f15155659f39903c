#pragma once
// Shared by the two COG sinks.
#include <gdal_priv.h>

#include <filesystem>

#include "reclaim/io/cog_writer.hpp"

namespace reclaim::io {

/// Applies an output's band metadata (nodata, description, classes) to a GDAL band.
void describe_band(GDALRasterBand& band, OutputRaster const& out);

/// COG CreateCopy of `source` (tiles compressed on all cores) to a temporary name, then
/// rename to `path`. Throws io_error naming `path` on failure and removes the temporary.
/// `progress` (optional) sees GDAL's fraction done.
void write_cog(GDALDataset& source, std::filesystem::path const& path, CogOptions const& options,
               CogSink::FinishProgress const& progress = {});

}  // namespace reclaim::io
