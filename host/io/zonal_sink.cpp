#include "reclaim/io/zonal.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

#include "reclaim/cell_area.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

ZonalSink::ZonalSink(Grid const& grid, std::vector<Zone> const& zones, ZonalOptions options)
    : m_grid(grid), m_zones(zones), m_options(options), m_stats(zones.size()) {
  if (m_options.histograms)
    for (auto& s : m_stats)
      s.histogram.push_back(
          pixel::HistogramAccumulator<kZonalBins>::make(m_options.histogram_lo, m_options.histogram_hi));
}

void ZonalSink::write(TileWindow const& w, float const* planes, int plane_count) {
  RECLAIM_EXPECTS(plane_count >= 1, "zonal sink needs a value plane");
  auto const& gt = m_grid.geotransform;
  // The tile's extent in map units, to skip zones whose bounding box misses it.
  double const x0 = gt[0] + gt[1] * static_cast<double>(w.x0);
  double const x1 = gt[0] + gt[1] * static_cast<double>(w.x0 + w.width);
  double const ya = gt[3] + gt[5] * static_cast<double>(w.y0);
  double const yb = gt[3] + gt[5] * static_cast<double>(w.y0 + w.height);
  double const tx0 = std::min(x0, x1), tx1 = std::max(x0, x1), ty0 = std::min(ya, yb), ty1 = std::max(ya, yb);
  std::vector<double> const row_ha = row_areas_ha(m_grid, w, m_options.geographic);
  for (std::size_t z = 0; z < m_zones.size(); ++z) {
    auto const& zone = m_zones[z];
    if (zone.parts.empty()) continue;
    auto const& b = zone.bbox;
    if (b[2] < tx0 || b[0] > tx1 || b[3] < ty0 || b[1] > ty1) continue;
    ZoneCoverage const cov = cover(std::span<Polygon const>(zone.parts), m_grid, w, m_options.mode);
    auto& s = m_stats[z];
    auto add = [&](std::int32_t row, std::int32_t col, double fraction) {
      float const v = planes[static_cast<std::size_t>(row) * w.width + col];
      double const area = fraction * row_ha[static_cast<std::size_t>(row)] * 1e4;
      s.area_m2.add(area);
      s.values.update(v, fraction);
      if (std::isfinite(v)) {
        s.valid_area_m2.add(area);
        if (!s.histogram.empty()) s.histogram.front().update(v, fraction);
      }
    };
    for (auto const& span : cov.spans)
      for (std::int32_t c = span.col_begin; c < span.col_end; ++c) add(span.row, c, 1.0);
    for (auto const& e : cov.edges) add(e.row, e.col, e.fraction);
  }
}

bool is_zonal_stat(std::string const& name) noexcept {
  static char const* const names[] = {"count", "nodata_count", "area_ha", "valid_area_ha", "sum",    "mean",
                                      "stddev", "min",         "max",     "median",        "coverage"};
  for (auto const* n : names)
    if (name == n) return true;
  if (name.size() >= 2 && name[0] == 'p') {
    char* end = nullptr;
    double const p = std::strtod(name.c_str() + 1, &end);
    return end && *end == '\0' && p >= 0 && p <= 100;
  }
  return false;
}

double zonal_stat(ZoneStats const& s, std::string const& name) {
  auto const& v = s.values;
  if (name == "count") return v.weight();
  if (name == "nodata_count") return v.nodata_weight();
  if (name == "area_ha") return s.area_m2.value() * 1e-4;
  if (name == "valid_area_ha") return s.valid_area_m2.value() * 1e-4;
  if (name == "sum") return v.sum();
  if (name == "mean") return v.mean();
  if (name == "stddev") return v.stddev();
  if (name == "min") return v.min();
  if (name == "max") return v.max();
  if (name == "coverage") {
    double const all = v.weight() + v.nodata_weight();
    return all > 0 ? v.weight() / all : std::numeric_limits<double>::quiet_NaN();
  }
  if (s.histogram.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (name == "median") return s.histogram.front().median();
  return s.histogram.front().percentile(std::strtod(name.c_str() + 1, nullptr));
}

namespace {

std::string csv_field(std::string const& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void write_zonal_csv(fs::path const& path, std::vector<Zone> const& zones, std::vector<std::string> const& attribute_names,
                     std::string const& id_name, std::string const& product, std::vector<std::string> const& stats,
                     std::vector<ZoneStats> const& results) {
  std::string hidden(".");  // built by appending: GCC 12 warns falsely on "." + string
  hidden += path.filename().string();
  hidden += ".tmp";
  fs::path const tmp = path.parent_path() / hidden;
  {
    std::ofstream out(tmp);
    if (!out) throw io_error(path.string() + ": cannot create");
    out << csv_field(id_name);
    for (auto const& a : attribute_names) out << ',' << csv_field(a);
    for (auto const& st : stats) out << ',' << csv_field(product + "_" + st);
    out << '\n';
    out << std::setprecision(17);
    for (std::size_t z = 0; z < zones.size(); ++z) {
      out << csv_field(zones[z].id);
      for (auto const& [name, value] : zones[z].attributes) out << ',' << csv_field(value);
      for (auto const& st : stats) {
        double const v = zonal_stat(results[z], st);
        out << ',';
        if (std::isfinite(v)) out << v;  // empty cell: no data (a zone outside the raster)
      }
      out << '\n';
    }
    out.flush();
    if (!out) throw io_error(path.string() + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw io_error(path.string() + ": cannot rename from " + tmp.string() + " (" + ec.message() + ")");
}

}  // namespace reclaim::io
