// Polygon -> pixel coverage (center, all-touched, exact), GDAL-free.
//
// Everything works in window-relative pixel coordinates, where pixel (c, r) is the unit square
// [c, c+1] x [r, r+1]. Rings are oriented so that the winding number (counted along a ray to
// the left) is +1 inside the outer ring and -1 inside a hole; then
//
//   covered area of cell (c, r) = sum over edges e of  sign_e * integral over the row band of
//                                 clamp(c + 1 - x_e(y), 0, 1) dy
//
// (Green's theorem, the accumulation used by font rasterisers and, in spirit, exactextract).
// Each edge clipped to a row band changes that sum only for the cells its x range spans; to
// their right it adds a constant. So we store per row the differences between consecutive cells
// (a few events per edge and row) and recover coverage with a running sum along the row:
// interior cells come out as runs between events and are never visited one by one.

#include "reclaim/coverage.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "reclaim/error.hpp"

namespace reclaim {

namespace {

/// Fractions this close to 0 or 1 are round-off, not geometry (coverage sums are O(1e-15) off).
constexpr double k_fraction_eps = 1e-12;

/// An edge in window pixel coordinates, y1 < y2; sign is its winding contribution.
struct Edge {
  double x1, y1, x2, y2;
  int sign;
};

struct Event {
  std::int32_t col;
  double delta;
};

struct Crossing {
  double x;
  int sign;
};

void check_grid(Grid const& grid) {
  auto const& gt = grid.geotransform;
  if (gt[2] != 0.0 || gt[4] != 0.0)
    throw input_error("coverage: rotated geotransforms are not supported (north-up grids only)");
  for (double const v : gt)
    if (!std::isfinite(v)) throw input_error("coverage: non-finite geotransform");
  if (gt[1] == 0.0 || gt[5] == 0.0) throw input_error("coverage: zero pixel size in the geotransform");
}

/// Signed area (shoelace) of a ring already in pixel coordinates.
double signed_area(std::vector<Point> const& ring) {
  double twice = 0.0;
  std::size_t const n = ring.size();
  for (std::size_t i = 0; i < n; ++i) {
    Point const& a = ring[i];
    Point const& b = ring[(i + 1) % n];
    twice += a.x * b.y - b.x * a.y;
  }
  return 0.5 * twice;
}

/// Appends the ring's non-horizontal edges, oriented so inside is +1 (outer) or -1 (hole).
void add_ring(Ring const& ring, bool hole, Grid const& grid, TileWindow const& window, std::vector<Edge>& edges) {
  if (ring.size() < 3) return;
  auto const& gt = grid.geotransform;
  // Relative to the window's map origin (exact when it is representable, as on usual grids), so
  // a window at the same map position gives the same fractions whatever grid it belongs to.
  double const ox = gt[0] + gt[1] * static_cast<double>(window.x0);
  double const oy = gt[3] + gt[5] * static_cast<double>(window.y0);
  std::vector<Point> px;
  px.reserve(ring.size());
  for (Point const& p : ring) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) throw input_error("coverage: non-finite polygon vertex");
    px.push_back({(p.x - ox) / gt[1], (p.y - oy) / gt[5]});
  }
  double const area = signed_area(px);
  if (area == 0.0) return;
  // With a ray to the left, a ring of positive shoelace area crosses it going towards -y on
  // its left side, so its edges count -sign(dy); flip that for negative area and for holes.
  int const ring_mult = (area > 0.0 ? -1 : 1) * (hole ? -1 : 1);
  std::size_t const n = px.size();
  for (std::size_t i = 0; i < n; ++i) {
    Point const a = px[i];
    Point const b = px[(i + 1) % n];
    if (a.y == b.y) continue;  // horizontal edges bound no area along a row
    if (a.y < b.y)
      edges.push_back({a.x, a.y, b.x, b.y, ring_mult});
    else
      edges.push_back({b.x, b.y, a.x, a.y, -ring_mult});
  }
}

std::vector<Edge> collect_edges(std::span<Polygon const> parts, Grid const& grid, TileWindow const& window) {
  check_grid(grid);
  std::vector<Edge> edges;
  for (Polygon const& poly : parts) {
    add_ring(poly.outer, false, grid, window, edges);
    for (Ring const& hole : poly.holes) add_ring(hole, true, grid, window, edges);
  }
  return edges;
}

/// Builds maximal spans row by row; runs must be added in increasing column order per row.
class SpanBuilder {
 public:
  explicit SpanBuilder(std::vector<CoverageSpan>& out) : m_out(out) {}

  void add(std::int32_t row, std::int32_t begin, std::int32_t end) {
    if (begin >= end) return;
    if (m_open && m_row == row && m_end == begin) {
      m_end = end;
      return;
    }
    flush();
    m_open = true;
    m_row = row;
    m_begin = begin;
    m_end = end;
  }

  void flush() {
    if (m_open) m_out.push_back({m_row, m_begin, m_end});
    m_open = false;
  }

 private:
  std::vector<CoverageSpan>& m_out;
  bool m_open = false;
  std::int32_t m_row = 0, m_begin = 0, m_end = 0;
};

/// Events of a piece of an edge inside one row band: x runs linearly from lo to hi
/// (0 <= lo <= hi <= width) while y sweeps a height h > 0.
void walk_cells(std::vector<Event>& ev, double lo, double hi, double h, double sign, std::int32_t width) {
  auto c0 = static_cast<std::int32_t>(std::floor(lo));
  if (c0 >= width) return;  // a vertical piece on the window's right edge touches no cell inside
  auto c1 = static_cast<std::int32_t>(std::floor(hi));
  if (c1 > c0 && hi == static_cast<double>(c1)) --c1;  // ends on a cell boundary: nothing in cell c1
  c1 = std::min(c1, width - 1);
  if (c0 == c1) {
    // Mean of a linear x is the midpoint; cells to the right get the whole height.
    double const v = h * (static_cast<double>(c0) + 1.0 - 0.5 * (lo + hi));
    ev.push_back({c0, sign * v});
    if (c0 + 1 < width) ev.push_back({c0 + 1, sign * (h - v)});
    return;
  }
  double const slope = h / (hi - lo);
  double below = 0.0;  // height of the piece left of the current cell
  double prev = 0.0;   // this edge's coverage of the previous cell
  for (std::int32_t c = c0; c <= c1; ++c) {
    double const xl = std::max(lo, static_cast<double>(c));
    double const xr = std::min(hi, static_cast<double>(c) + 1.0);
    double const dy = c == c1 ? h - below : (xr - xl) * slope;  // last cell takes the remainder
    double const v = below + dy * (static_cast<double>(c) + 1.0 - 0.5 * (xl + xr));
    ev.push_back({c, sign * (v - prev)});
    prev = v;
    below += dy;
  }
  if (c1 + 1 < width) ev.push_back({c1 + 1, sign * (h - prev)});
}

/// Events of an edge piece in one row band from x = xa to x = xb, height h, clipped to [0, width].
/// Clamping x into [0, width] leaves every cell inside unchanged: left of 0 counts as fully
/// left of all of them, right of width as right of all of them.
void add_band_piece(std::vector<Event>& ev, double xa, double xb, double h, double sign, std::int32_t width) {
  double const lo = std::min(xa, xb);
  double const hi = std::max(xa, xb);
  double const w = static_cast<double>(width);
  if (lo >= w) return;
  if (hi <= 0.0) {
    ev.push_back({0, sign * h});
    return;
  }
  if (lo >= 0.0 && hi <= w) {
    walk_cells(ev, lo, hi, h, sign, width);
    return;
  }
  double const span = hi - lo;  // > 0 here: the piece crosses 0 or width
  double const a = std::max(lo, 0.0);
  double const b = std::min(hi, w);
  double const h_left = h * ((a - lo) / span);
  double const h_mid = h * ((b - a) / span);
  if (h_left > 0.0) ev.push_back({0, sign * h_left});
  if (h_mid > 0.0) walk_cells(ev, a, b, h_mid, sign, width);
}

ZoneCoverage cover_area(std::vector<Edge> const& edges, TileWindow const& window, CoverageMode mode) {
  ZoneCoverage out;
  std::int32_t const width = window.width;
  std::int32_t const height = window.height;
  double const w = static_cast<double>(width);
  double const hgt = static_cast<double>(height);

  // Rows the edges reach, so a small zone in a big tile costs only its own rows.
  double ymin = std::numeric_limits<double>::infinity(), ymax = -ymin;
  for (Edge const& e : edges) {
    if (e.y2 <= 0.0 || e.y1 >= hgt || std::min(e.x1, e.x2) >= w) continue;
    ymin = std::min(ymin, e.y1);
    ymax = std::max(ymax, e.y2);
  }
  if (!(ymin < ymax)) return out;
  auto const row0 = static_cast<std::int32_t>(std::max(0.0, std::floor(ymin)));
  auto const row1 = static_cast<std::int32_t>(std::min(hgt, std::ceil(ymax)));
  std::vector<std::vector<Event>> rows(static_cast<std::size_t>(std::max(0, row1 - row0)));

  for (Edge const& e : edges) {
    if (e.y2 <= 0.0 || e.y1 >= hgt || std::min(e.x1, e.x2) >= w) continue;
    double const inv = (e.x2 - e.x1) / (e.y2 - e.y1);
    auto const r_begin = static_cast<std::int32_t>(std::max(0.0, std::floor(e.y1)));
    auto const r_end = static_cast<std::int32_t>(std::min(hgt, std::ceil(e.y2)));
    auto const sign = static_cast<double>(e.sign);
    for (std::int32_t r = r_begin; r < r_end; ++r) {
      double const ya = std::max(e.y1, static_cast<double>(r));
      double const yb = std::min(e.y2, static_cast<double>(r) + 1.0);
      if (!(yb > ya)) continue;
      double const xa = ya == e.y1 ? e.x1 : e.x1 + (ya - e.y1) * inv;
      double const xb = yb == e.y2 ? e.x2 : e.x1 + (yb - e.y1) * inv;
      add_band_piece(rows[static_cast<std::size_t>(r - row0)], xa, xb, yb - ya, sign, width);
    }
  }

  SpanBuilder spans(out.spans);
  for (std::int32_t r = row0; r < row1; ++r) {
    auto& ev = rows[static_cast<std::size_t>(r - row0)];
    if (ev.empty()) continue;
    std::sort(ev.begin(), ev.end(), [](Event const& a, Event const& b) { return a.col < b.col; });
    double acc = 0.0;
    std::size_t i = 0;
    while (i < ev.size()) {
      std::int32_t const c = ev[i].col;
      for (; i < ev.size() && ev[i].col == c; ++i) acc += ev[i].delta;
      std::int32_t const next = i < ev.size() ? ev[i].col : width;
      // No edge piece reaches cells c+1 .. next-1, so they share cell c's coverage: whole
      // (interior or exterior) or, where the boundary runs horizontally inside this row band,
      // the same fraction for each of them.
      // Winding leaves [0, 1] only for invalid input (overlapping parts): clamp.
      double const f = std::clamp(acc, 0.0, 1.0);
      if (f >= 1.0 - k_fraction_eps) {
        spans.add(r, c, next);
      } else if (f > k_fraction_eps) {
        if (mode == CoverageMode::exact) {
          for (std::int32_t k = c; k < next; ++k) out.edges.push_back({r, k, f});
        } else {
          spans.add(r, c, next);
        }
      }
    }
  }
  spans.flush();
  return out;
}

ZoneCoverage cover_center(std::vector<Edge> const& edges, TileWindow const& window) {
  ZoneCoverage out;
  std::int32_t const width = window.width;
  std::int32_t const height = window.height;
  double const w = static_cast<double>(width);
  double const hgt = static_cast<double>(height);

  std::vector<std::vector<Crossing>> rows(static_cast<std::size_t>(height));
  for (Edge const& e : edges) {
    if (e.y2 <= 0.0 || e.y1 >= hgt || std::min(e.x1, e.x2) >= w) continue;
    double const inv = (e.x2 - e.x1) / (e.y2 - e.y1);
    auto const r_begin = static_cast<std::int32_t>(std::max(0.0, std::floor(e.y1)));
    auto const r_end = static_cast<std::int32_t>(std::min(hgt, std::ceil(e.y2)));
    for (std::int32_t r = r_begin; r < r_end; ++r) {
      double const yc = static_cast<double>(r) + 0.5;
      // Half-open in y, so a vertex on the scanline is counted once.
      if (yc < e.y1 || yc >= e.y2) continue;
      rows[static_cast<std::size_t>(r)].push_back({e.x1 + (yc - e.y1) * inv, e.sign});
    }
  }

  SpanBuilder spans(out.spans);
  for (std::int32_t r = 0; r < height; ++r) {
    auto& xs = rows[static_cast<std::size_t>(r)];
    if (xs.empty()) continue;
    std::sort(xs.begin(), xs.end(), [](Crossing const& a, Crossing const& b) { return a.x < b.x; });
    int winding = 0;
    std::size_t i = 0;
    while (i < xs.size()) {
      double const x = xs[i].x;
      for (; i < xs.size() && xs[i].x == x; ++i) winding += xs[i].sign;
      if (winding <= 0) continue;
      double const next = i < xs.size() ? xs[i].x : std::numeric_limits<double>::infinity();
      // Centres c + 0.5 in (x, next] are inside: crossings count when strictly left of a centre.
      double const first = std::floor(x - 0.5) + 1.0;
      double const last = std::floor(next - 0.5);
      double const b = std::max(first, 0.0);
      double const e = std::min(last + 1.0, w);
      if (b < e) spans.add(r, static_cast<std::int32_t>(b), static_cast<std::int32_t>(e));
    }
  }
  spans.flush();
  return out;
}

}  // namespace

std::optional<CoverageMode> parse_coverage_mode(std::string_view name) noexcept {
  if (name == "center" || name == "centre") return CoverageMode::center;
  if (name == "all-touched" || name == "all_touched") return CoverageMode::all_touched;
  if (name == "exact") return CoverageMode::exact;
  return std::nullopt;
}

ZoneCoverage cover(std::span<Polygon const> parts, Grid const& grid, TileWindow const& window, CoverageMode mode) {
  std::vector<Edge> const edges = collect_edges(parts, grid, window);
  if (window.width <= 0 || window.height <= 0 || edges.empty()) return {};
  if (mode == CoverageMode::center) return cover_center(edges, window);
  return cover_area(edges, window, mode);
}

ZoneCoverage cover(Polygon const& polygon, Grid const& grid, TileWindow const& window, CoverageMode mode) {
  return cover(std::span<Polygon const>(&polygon, 1), grid, window, mode);
}

}  // namespace reclaim
