// A window of an epoch source read as a grid of its own (a unit of a national run).
#include <memory>
#include <string>

#include "reclaim/error.hpp"
#include "reclaim/io/epoch_source.hpp"

namespace reclaim::io {

namespace {

class WindowReader final : public TileReader {
 public:
  WindowReader(std::unique_ptr<TileReader> inner, TileWindow const& window)
      : m_inner(std::move(inner)), m_window(window) {}
  void read(TileWindow const& w, float* planes) override {
    TileWindow shifted = w;
    shifted.x0 += m_window.x0;
    shifted.y0 += m_window.y0;
    m_inner->read(shifted, planes);
  }

 private:
  std::unique_ptr<TileReader> m_inner;
  TileWindow m_window;
};

}  // namespace

WindowEpochSource::WindowEpochSource(std::unique_ptr<EpochSource> inner, TileWindow const& window)
    : m_inner(std::move(inner)), m_window(window) {
  Grid const& g = m_inner->grid();
  if (window.x0 < 0 || window.y0 < 0 || window.width <= 0 || window.height <= 0 ||
      window.x0 + window.width > g.width || window.y0 + window.height > g.height)
    throw usage_error("window " + std::to_string(window.x0) + "," + std::to_string(window.y0) + "," +
                      std::to_string(window.width) + "x" + std::to_string(window.height) + " is not inside the " +
                      std::to_string(g.width) + "x" + std::to_string(g.height) + " grid of " + m_inner->name());
  m_grid = g;
  m_grid.width = window.width;
  m_grid.height = window.height;
  m_grid.geotransform = window_geotransform(g, window);
}

std::unique_ptr<TileReader> WindowEpochSource::open_reader() const {
  return std::make_unique<WindowReader>(m_inner->open_reader(), m_window);
}

}  // namespace reclaim::io
