#pragma once
/** @file
 * @brief Reads the tiles of a plain tiled GeoTIFF straight from its bytes, for the readers of
 * GdalTileSource: libtiff for the directory and the raw tiles, libdeflate to inflate them, and
 * one loop per row that undoes the predictor and converts to float.
 *
 * Why: reading through GDAL, libtiff undoes the predictor with a loop that reloads each value
 * it has just stored (horAcc16, fpAcc), then GDAL copies the block into its cache and converts
 * it. In the bench's zonal statistics of a Float32 NDVI COG that was a third of the CPU time,
 * in the NDVI pass 8 %. Here the running sum stays in a register and the conversion is the
 * same loop; the values are GDAL's bit for bit (tests/io/direct_tiff_test.cpp).
 *
 * Only what it reads exactly as GDAL does: a local, little-endian, tiled TIFF, one sample per
 * pixel or band-interleaved, no compression or DEFLATE, predictor none, horizontal (integers)
 * or floating point (Float32), samples Byte, UInt16, Int16 or Float32, and windows that start
 * on a tile corner. Everything else (and any tile it cannot read: sparse, short, corrupt)
 * goes through GDAL as before. RECLAIM_DIRECT_TIFF=0 turns it off (benchmarks compare both).
 */
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "reclaim/grid.hpp"

class GDALDataset;
struct tiff;
struct libdeflate_decompressor;

namespace reclaim::io {

class DirectTiff {
 public:
  /// The reader for `file` (open in GDAL as `ds`), or null when it is not such a TIFF or
  /// RECLAIM_DIRECT_TIFF=0.
  static std::unique_ptr<DirectTiff> open(std::filesystem::path const& file, GDALDataset& ds);
  ~DirectTiff();
  DirectTiff(DirectTiff const&) = delete;
  DirectTiff& operator=(DirectTiff const&) = delete;

  /** @brief Band `band` (1-based) of window `w` as float, w.width values per row, into `out`.
   * False when this reader cannot give it exactly (a window off the tile corners, a sparse or
   * unreadable tile): the caller reads it through GDAL instead; `out` may then hold anything. */
  bool read(int band, TileWindow const& w, float* out);

  /// Whether the environment allows the direct path (RECLAIM_DIRECT_TIFF is not "0").
  static bool enabled() noexcept;

 private:
  DirectTiff() = default;
  bool decode_tile(std::uint32_t tile);

  tiff* m_tif = nullptr;
  libdeflate_decompressor* m_inflate = nullptr;
  std::uint32_t m_width = 0, m_height = 0;            ///< image size
  std::uint32_t m_tile_width = 0, m_tile_height = 0;  ///< tile size
  int m_bands = 1;
  bool m_separate = false;  ///< band-interleaved: one tile per band
  int m_compression = 1;
  int m_predictor = 1;
  int m_format = 1;  ///< SAMPLEFORMAT: 1 unsigned, 2 signed, 3 IEEE float
  int m_bits = 8;
  std::vector<std::uint8_t> m_raw;   ///< one compressed tile
  std::vector<std::uint8_t> m_tile;  ///< one inflated tile, predictor not yet undone
};

}  // namespace reclaim::io
