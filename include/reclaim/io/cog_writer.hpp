#pragma once
/** @file
 * @brief Writes each output plane of the pipeline to its own Cloud-Optimized GeoTIFF.
 *
 * Two sinks, chosen by make_cog_sink():
 *
 * - StreamingCogSink (the fast path): GDAL's COG driver runs while the pass runs, one
 *   encoder thread per output, pulling 512 x 512 blocks in file order from an in-memory
 *   store of finished tiles and compressing them on every core. Decode (reader threads)
 *   and encode overlap and nothing touches the disk twice. The store must hold about two
 *   rows of tiles per output (COG blocks are written row by row).
 * - ScratchCogSink (when those rows do not fit the memory budget: very wide rasters,
 *   many outputs, or with overviews): tiles land in an uncompressed raw scratch file next to
 *   the output (width x height x 4 bytes, 1 for class rasters), and finish() converts it with
 *   the COG driver. The free space for every scratch file is checked before the first is made.
 *
 * Both write each COG under a hidden temporary name and rename it when complete: a killed
 * or failed run never leaves a file that looks complete.
 */
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reclaim/tile_source.hpp"

namespace reclaim::io {

struct CogOptions {
  std::string compression = "DEFLATE";  ///< DEFLATE or ZSTD, always with the float predictor
  /// Compression level; 0: automatic (the fastest for Float32 products, whose noise does not
  /// compress further at higher levels; DEFLATE 6 / ZSTD 9 for class rasters).
  int level = 0;
  bool overviews = false;
  int block_size = 512;
  /// The encoders' compression threads (GDAL's NUM_THREADS; its pool is shared by every
  /// encoder); 0: reclaim::available_cpus().
  int threads = 0;
};

struct OutputRaster {
  std::filesystem::path path;
  std::string description;                                   ///< band description
  std::vector<std::pair<std::string, std::string>> metadata;  ///< dataset metadata items
  /// A class raster: written as UInt8 (the plane's float values, which are whole class
  /// numbers; NaN becomes 0 = nodata) with a colour table and category names (index =
  /// class value). Category names live in the .aux.xml beside the COG, where GDAL and QGIS
  /// read them; the colour table is inside the TIFF.
  bool categorical = false;
  std::vector<std::string> category_names;
  std::vector<std::array<std::uint8_t, 4>> colors;  ///< RGBA
  /// The pass's output plane this file holds; -1: its position in the outputs list. Lets a
  /// pass carry planes that only another sink uses (assess: reflectance for the pictures).
  int plane = -1;
  /// Only this window of the grid: a COG of the window's size, georeferenced where the window
  /// lies (a national run's `keep-rasters = "sites"`: the site windows, not the whole unit).
  std::optional<TileWindow> window;
};

/// The plane output k of `outputs` reads.
[[nodiscard]] inline int source_plane(std::vector<OutputRaster> const& outputs, std::size_t k) noexcept {
  return outputs[k].plane >= 0 ? outputs[k].plane : static_cast<int>(k);
}

/// A TileSink that ends in COG files; finish() completes and renames them.
class CogSink : public TileSink {
 public:
  /// Called with the fraction (0..1) of the work finish() has done, from the calling thread.
  using FinishProgress = std::function<void(double)>;
  /// Completes every output (temporary name, then rename); throws io_error on failure.
  virtual void finish(FinishProgress const& progress = {}) = 0;
  /// True when finish() does the encoding itself (after the pass), rather than the last rows.
  [[nodiscard]] virtual bool encodes_in_finish() const noexcept = 0;
  /// "streaming" or "scratch", for logs.
  [[nodiscard]] virtual char const* kind() const noexcept = 0;
};

class ScratchCogSink final : public CogSink {
 public:
  /// Creates the scratch files; throws io_error naming the folder without the free space for
  /// them (io::scratch_bytes), or the file that cannot be created.
  ScratchCogSink(Grid const& grid, std::vector<OutputRaster> outputs, CogOptions options);
  ~ScratchCogSink() override;  ///< removes scratch files; unfinished outputs never appear
  ScratchCogSink(ScratchCogSink const&) = delete;
  ScratchCogSink& operator=(ScratchCogSink const&) = delete;

  void write(TileWindow const& window, float const* planes, int plane_count) override;
  void finish(FinishProgress const& progress = {}) override;
  [[nodiscard]] char const* kind() const noexcept override { return "scratch"; }
  [[nodiscard]] bool encodes_in_finish() const noexcept override { return true; }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

class StreamingCogSink final : public CogSink {
 public:
  /** @brief Starts one COG encoder thread per output.
   * @param buffer_bytes soft cap on finished tiles held for the encoders; the writer
   *        blocks above it unless every encoder is waiting for a tile (never deadlocks) */
  StreamingCogSink(TilePlan const& plan, std::vector<OutputRaster> outputs, CogOptions options,
                   std::size_t buffer_bytes);
  ~StreamingCogSink() override;  ///< aborts unfinished encoders, removes temporary files
  StreamingCogSink(StreamingCogSink const&) = delete;
  StreamingCogSink& operator=(StreamingCogSink const&) = delete;

  void write(TileWindow const& window, float const* planes, int plane_count) override;
  void finish(FinishProgress const& progress = {}) override;
  [[nodiscard]] char const* kind() const noexcept override { return "streaming"; }
  [[nodiscard]] bool encodes_in_finish() const noexcept override { return false; }
  /// Most bytes the tile store held at once (for logs and tests).
  [[nodiscard]] std::size_t peak_buffer_bytes() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> m_impl;
};

/// Outputs with a window (OutputRaster::window): one ScratchCogSink per window, each given the
/// part of every tile that falls in its window. The windows of a sink should not overlap (the
/// caller merges them): a pixel in two windows is encoded twice.
class WindowedCogSink final : public CogSink {
 public:
  /// Creates the windows' folders and scratch files; throws io_error as ScratchCogSink does.
  WindowedCogSink(Grid const& grid, std::vector<OutputRaster> outputs, CogOptions options);
  ~WindowedCogSink() override;
  WindowedCogSink(WindowedCogSink const&) = delete;
  WindowedCogSink& operator=(WindowedCogSink const&) = delete;

  void write(TileWindow const& window, float const* planes, int plane_count) override;
  void finish(FinishProgress const& progress = {}) override;
  [[nodiscard]] char const* kind() const noexcept override { return "windowed"; }
  [[nodiscard]] bool encodes_in_finish() const noexcept override { return true; }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// True once a StreamingCogSink left an encoder thread stuck inside GDAL while stopping (see
/// ~StreamingCogSink): the process must then end with std::_Exit, not run static destructors.
[[nodiscard]] bool encoders_abandoned() noexcept;

/// Bytes a StreamingCogSink needs for `plan` to make progress: the tile rows one row of
/// COG blocks spans, plus one row in flight, for every output.
[[nodiscard]] std::size_t streaming_buffer_bytes(TilePlan const& plan, int outputs, CogOptions const& options);

/// Whether make_cog_sink chooses the ScratchCogSink: overviews (the COG driver reads its source
/// twice), or a streaming buffer over `budget_bytes`.
[[nodiscard]] bool needs_scratch(TilePlan const& plan, std::vector<OutputRaster> const& outputs,
                                 CogOptions const& options, std::size_t budget_bytes);

/// Bytes of the scratch files a ScratchCogSink writes for `outputs` over `grid`.
[[nodiscard]] std::uintmax_t scratch_bytes(Grid const& grid, std::vector<OutputRaster> const& outputs);

/// WindowedCogSink for outputs with windows; else StreamingCogSink when its buffer fits in
/// `budget_bytes` (and no overviews), else ScratchCogSink.
[[nodiscard]] std::unique_ptr<CogSink> make_cog_sink(TilePlan const& plan, std::vector<OutputRaster> outputs,
                                                     CogOptions const& options, std::size_t budget_bytes);

}  // namespace reclaim::io
