#pragma once
/** @file
 * @brief Writes each output plane of the pipeline to its own Cloud-Optimized GeoTIFF.
 *
 * During the pass, tiles land in an uncompressed tiled scratch GeoTIFF next to the output
 * (any order, no encode cost on the writer thread). finish() then lets GDAL's COG driver
 * lay out the final file (IFDs first, optional overviews) compressing tiles on every core,
 * writes it under a temporary name and renames it: a killed run never leaves a file that
 * looks complete.
 */
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "reclaim/tile_source.hpp"

namespace reclaim::io {

struct CogOptions {
  std::string compression = "DEFLATE";  ///< DEFLATE or ZSTD, always with the float predictor
  bool overviews = false;
  int block_size = 512;
};

struct OutputRaster {
  std::filesystem::path path;
  std::string description;                                   ///< band description
  std::vector<std::pair<std::string, std::string>> metadata;  ///< dataset metadata items
};

class CogTileSink final : public TileSink {
 public:
  /// Creates the scratch files; throws io_error naming the file that cannot be created.
  CogTileSink(Grid const& grid, std::vector<OutputRaster> outputs, CogOptions options);
  ~CogTileSink() override;  ///< removes scratch files; unfinished outputs never appear
  CogTileSink(CogTileSink const&) = delete;
  CogTileSink& operator=(CogTileSink const&) = delete;

  void write(TileWindow const& window, float const* planes, int plane_count) override;
  /// Converts every scratch file to its final COG (temporary name, then rename).
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace reclaim::io
