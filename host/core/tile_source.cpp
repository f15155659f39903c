#include "reclaim/tile_source.hpp"

#include <algorithm>
#include <string>

#include "reclaim/error.hpp"

namespace reclaim {
namespace {

class MemoryTileReader final : public TileReader {
 public:
  MemoryTileReader(Grid const& grid, std::vector<std::vector<float>> const& planes) : m_grid(grid), m_planes(planes) {}
  void read(TileWindow const& w, float* out) override {
    std::size_t const n = w.pixel_count();
    for (std::size_t k = 0; k < m_planes.size(); ++k) {
      float const* src = m_planes[k].data();
      for (std::int32_t row = 0; row < w.height; ++row) {
        auto const offset = static_cast<std::size_t>((w.y0 + row) * m_grid.width + w.x0);
        std::copy_n(src + offset, w.width, out + k * n + static_cast<std::size_t>(row) * w.width);
      }
    }
  }

 private:
  Grid const& m_grid;
  std::vector<std::vector<float>> const& m_planes;
};

class SyntheticTileReader final : public TileReader {
 public:
  SyntheticTileReader(int planes, SyntheticTileSource::PixelFn const& fn) : m_planes(planes), m_fn(fn) {}
  void read(TileWindow const& w, float* out) override {
    std::size_t const n = w.pixel_count();
    for (int k = 0; k < m_planes; ++k)
      for (std::int32_t row = 0; row < w.height; ++row)
        for (std::int32_t col = 0; col < w.width; ++col)
          out[static_cast<std::size_t>(k) * n + static_cast<std::size_t>(row) * w.width + col] =
              m_fn(k, w.x0 + col, w.y0 + row);
  }

 private:
  int m_planes;
  SyntheticTileSource::PixelFn const& m_fn;
};

class CompositeTileReader final : public TileReader {
 public:
  explicit CompositeTileReader(std::vector<TileSource const*> const& parts) {
    for (auto const* p : parts) {
      m_readers.push_back(p->open_reader());
      m_planes.push_back(p->plane_count());
    }
  }
  void read(TileWindow const& w, float* out) override {
    for (std::size_t k = 0; k < m_readers.size(); ++k) {
      m_readers[k]->read(w, out);
      out += static_cast<std::size_t>(m_planes[k]) * w.pixel_count();
    }
  }

 private:
  std::vector<std::unique_ptr<TileReader>> m_readers;
  std::vector<int> m_planes;
};

}  // namespace

CompositeTileSource::CompositeTileSource(std::vector<TileSource const*> parts) : m_parts(std::move(parts)) {
  RECLAIM_EXPECTS(!m_parts.empty(), "a composite source needs at least one part");
  Grid const& g = m_parts.front()->grid();
  for (auto const* p : m_parts) {
    Grid const& h = p->grid();
    if (h.width != g.width || h.height != g.height || h.geotransform != g.geotransform)
      throw input_error("epochs are on different grids (" + std::to_string(g.width) + " x " +
                        std::to_string(g.height) + " vs " + std::to_string(h.width) + " x " +
                        std::to_string(h.height) + " pixels, or another origin / pixel size)");
    m_plane_count += p->plane_count();
  }
}

std::string CompositeTileSource::name() const {
  std::string out;
  for (auto const* part : m_parts) {
    auto const n = part->name();
    if (!n.empty()) out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}

std::unique_ptr<TileReader> CompositeTileSource::open_reader() const {
  return std::make_unique<CompositeTileReader>(m_parts);
}

MemoryTileSource::MemoryTileSource(Grid grid, std::vector<std::vector<float>> planes)
    : m_grid(std::move(grid)), m_planes(std::move(planes)) {
  for (auto const& p : m_planes)
    RECLAIM_EXPECTS(static_cast<std::int64_t>(p.size()) == m_grid.pixel_count(), "memory plane size != grid size");
}

std::unique_ptr<TileReader> MemoryTileSource::open_reader() const {
  return std::make_unique<MemoryTileReader>(m_grid, m_planes);
}

SyntheticTileSource::SyntheticTileSource(Grid grid, int plane_count, PixelFn fn)
    : m_grid(std::move(grid)), m_plane_count(plane_count), m_fn(std::move(fn)) {}

std::unique_ptr<TileReader> SyntheticTileSource::open_reader() const {
  return std::make_unique<SyntheticTileReader>(m_plane_count, m_fn);
}

MemoryTileSink::MemoryTileSink(Grid const& grid, int plane_count)
    : m_width(grid.width),
      m_planes(static_cast<std::size_t>(plane_count),
               std::vector<float>(static_cast<std::size_t>(grid.pixel_count()), -12345.f)) {}

void MemoryTileSink::write(TileWindow const& w, float const* planes, int plane_count) {
  RECLAIM_EXPECTS(plane_count == static_cast<int>(m_planes.size()), "sink plane count mismatch");
  std::size_t const n = w.pixel_count();
  for (std::size_t k = 0; k < m_planes.size(); ++k)
    for (std::int32_t row = 0; row < w.height; ++row)
      std::copy_n(planes + k * n + static_cast<std::size_t>(row) * w.width, w.width,
                  m_planes[k].data() + (w.y0 + row) * m_width + w.x0);
}

}  // namespace reclaim
