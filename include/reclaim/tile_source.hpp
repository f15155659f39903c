#pragma once
/** @file
 * @brief Where tiles come from and where they go: the scheduler's two ends.
 *
 * A tile is a set of float planes, plane k of a w x h window at `planes + k * w * h`
 * (row-major, no padding). Sources hold no per-thread state themselves: each reader
 * thread opens its own TileReader (for GDAL: its own dataset handles).
 */
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reclaim/grid.hpp"

namespace reclaim {

class TileReader {
 public:
  virtual ~TileReader() = default;
  /// Fills plane_count() planes of the window into `planes` (w * h floats each).
  virtual void read(TileWindow const& window, float* planes) = 0;
};

class TileSource {
 public:
  virtual ~TileSource() = default;
  [[nodiscard]] virtual Grid const& grid() const = 0;
  [[nodiscard]] virtual int plane_count() const = 0;
  /// A reader owned by one thread; called once per reader thread.
  [[nodiscard]] virtual std::unique_ptr<TileReader> open_reader() const = 0;
  /// What it reads, for messages (the input files); empty when it is not files.
  [[nodiscard]] virtual std::string name() const { return {}; }
};

/// Receives computed tiles from the single writer thread, in any order.
class TileSink {
 public:
  virtual ~TileSink() = default;
  virtual void write(TileWindow const& window, float const* planes, int plane_count) = 0;
};

/// Sees each computed tile on the compute thread that made it, concurrently and in any order:
/// light per-tile work that must not queue behind the writer thread (picture crops).
class TileObserver {
 public:
  virtual ~TileObserver() = default;
  /// A computed tile: its output planes, and the input planes they were computed from (the
  /// planes are `window.pixel_count()` floats apart).
  virtual void observe(TileWindow const& window, float const* planes, int plane_count, float const* inputs,
                       int input_count) = 0;
};

/// A sink that keeps nothing (passes whose results are only zonal statistics).
class NullTileSink final : public TileSink {
 public:
  void write(TileWindow const&, float const*, int) override {}
};

/** @brief A whole raster held in memory (tests, benchmarks, GPU checks without GDAL). */
class MemoryTileSource final : public TileSource {
 public:
  /// planes: plane_count rasters of grid.width * grid.height floats each.
  MemoryTileSource(Grid grid, std::vector<std::vector<float>> planes);
  [[nodiscard]] Grid const& grid() const override { return m_grid; }
  [[nodiscard]] int plane_count() const override { return static_cast<int>(m_planes.size()); }
  [[nodiscard]] std::unique_ptr<TileReader> open_reader() const override;

 private:
  Grid m_grid;
  std::vector<std::vector<float>> m_planes;
};

/** @brief Pixels computed on demand from (plane, x, y): arbitrarily large rasters with no
 * storage, for scheduler tests and memory-bound checks. */
class SyntheticTileSource final : public TileSource {
 public:
  using PixelFn = std::function<float(int plane, std::int64_t x, std::int64_t y)>;
  SyntheticTileSource(Grid grid, int plane_count, PixelFn fn);
  [[nodiscard]] Grid const& grid() const override { return m_grid; }
  [[nodiscard]] int plane_count() const override { return m_plane_count; }
  [[nodiscard]] std::unique_ptr<TileReader> open_reader() const override;

 private:
  Grid m_grid;
  int m_plane_count;
  PixelFn m_fn;
};

/** @brief The planes of several sources on one grid, one source after the other: the
 * epochs of a multi-epoch pass read as one tile. Each reader opens one reader per part.
 * Throws reclaim::input_error when the parts' grids differ in size or georeferencing. */
class CompositeTileSource final : public TileSource {
 public:
  explicit CompositeTileSource(std::vector<TileSource const*> parts);
  [[nodiscard]] Grid const& grid() const override { return m_parts.front()->grid(); }
  [[nodiscard]] int plane_count() const override { return m_plane_count; }
  [[nodiscard]] std::unique_ptr<TileReader> open_reader() const override;
  [[nodiscard]] std::string name() const override;  ///< the parts' names, ", " between

 private:
  std::vector<TileSource const*> m_parts;
  int m_plane_count = 0;
};

/** @brief Collects output planes into whole in-memory rasters (tests, benchmarks). */
class MemoryTileSink final : public TileSink {
 public:
  MemoryTileSink(Grid const& grid, int plane_count);
  void write(TileWindow const& window, float const* planes, int plane_count) override;
  [[nodiscard]] std::vector<float> const& plane(int k) const { return m_planes.at(static_cast<std::size_t>(k)); }

 private:
  std::int64_t m_width;
  std::vector<std::vector<float>> m_planes;
};

}  // namespace reclaim
