#pragma once
/** @file
 * @brief Pieces of picture crops, for national runs: a unit captures the part of each site's
 * picture crop (and of the overview) that falls in its window of the grid, on the crop's own
 * sample lattice; the merge pastes the units' pieces into whole crops and draws the pictures a
 * single `reclaim assess` would draw, sample for sample (docs/national.md, "Pictures").
 *
 * File format, version 1 (little-endian): "RCRP" | u32 version = 1 | u64 piece count | per
 * piece: u64 key | i32 crop window x0, y0, width, height | i32 step | i32 crop width, height
 * (samples) | i32 piece column, row (in samples), width, height | u32 planes | planes x width x
 * height float32 | then 64 bytes: the SHA-256 (lower-case hex) of everything before it.
 */
#include <cstdint>
#include <filesystem>
#include <limits>
#include <vector>

#include "reclaim/site_crops.hpp"

namespace reclaim::io {

/// The key of the overview's pieces (a site's pieces carry its index in the sites layer).
inline constexpr std::uint64_t kOverviewCropKey = std::numeric_limits<std::uint64_t>::max();

struct CropPiece {
  std::uint64_t key = 0;
  TileWindow crop_window;   ///< the whole crop's window on the national grid
  std::int32_t step = 1;
  std::int32_t crop_width = 0, crop_height = 0;  ///< the whole crop's samples
  std::int32_t column = 0, row = 0;              ///< where this piece starts, in samples
  Crop piece;  ///< its samples (window: on the unit's grid; width x height; planes)
};

/// Writes the pieces atomically (hidden temporary, renamed when complete).
void write_crop_pieces(std::filesystem::path const& path, std::vector<CropPiece> const& pieces);

/// Reads them back; input_error naming the file when it is damaged or inconsistent.
[[nodiscard]] std::vector<CropPiece> read_crop_pieces(std::filesystem::path const& path);

/// Pastes a piece into its whole crop (allocated NaN on the first piece).
void paste_crop_piece(Crop& whole, CropPiece const& piece);

}  // namespace reclaim::io
