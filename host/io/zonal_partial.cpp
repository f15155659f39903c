// Partial zonal results: write, read and merge (format in include/reclaim/io/zonal_partial.hpp).
#include "reclaim/io/zonal_partial.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <span>

#include <nlohmann/json.hpp>

#include "io/output_file.hpp"
#include "reclaim/error.hpp"
#include "reclaim/zonal_io.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::uint32_t kPartialVersion = 3;  // 3: exact sum of w x^2 for the variance
constexpr std::size_t kHeaderChecksumBytes = 64;  // SHA-256 as lower-case hex

void put_u(std::vector<std::uint8_t>& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_blob(std::vector<std::uint8_t>& out, std::vector<std::uint8_t> const& blob) {
  put_u(out, blob.size(), 8);
  out.insert(out.end(), blob.begin(), blob.end());
}

json covered_json(std::vector<CoveredWindow> const& covered) {
  json out = json::array();
  for (auto const& c : covered)
    out.push_back({{"sources", c.sources},
                   {"crs_wkt", c.grid.crs_wkt},
                   {"geotransform", c.grid.geotransform},
                   {"size", {c.grid.width, c.grid.height}},
                   {"window", {c.window.x0, c.window.y0, c.window.width, c.window.height}}});
  return out;
}

std::vector<CoveredWindow> covered_from(json const& doc) {
  std::vector<CoveredWindow> out;
  for (auto const& c : doc) {
    CoveredWindow w;
    w.sources = c.at("sources").get<std::vector<std::string>>();
    w.grid.crs_wkt = c.at("crs_wkt").get<std::string>();
    w.grid.geotransform = c.at("geotransform").get<std::array<double, 6>>();
    auto const size = c.at("size").get<std::array<std::int64_t, 2>>();
    w.grid.width = size[0];
    w.grid.height = size[1];
    auto const window = c.at("window").get<std::array<std::int64_t, 4>>();
    w.window = {0, window[0], window[1], static_cast<std::int32_t>(window[2]), static_cast<std::int32_t>(window[3])};
    out.push_back(std::move(w));
  }
  return out;
}

/// Every product's accumulators, zone by zone: the body of the file.
std::vector<std::uint8_t> accumulator_bytes(ZonalPartial const& p) {
  std::vector<std::uint8_t> out;
  for (std::size_t k = 0; k < p.products.size(); ++k) {
    auto const& acc = p.results[k];
    for (std::size_t z = 0; z < p.zones.size(); ++z) {
      put_blob(out, serialize(acc.values[z]));
      put_blob(out, serialize(acc.areas[z]));
      if (!acc.histograms.empty()) put_blob(out, serialize(acc.histograms[z]));
      if (!acc.classes.empty()) put_blob(out, serialize(acc.classes[z]));
    }
  }
  return out;
}

// The coverage is part of the id, so that two shards that both miss every zone (all-empty
// accumulators) still differ, while a copy of a file, or the same run twice, does not.
std::string content_id_of(std::vector<CoveredWindow> const& covered, std::span<std::uint8_t const> body) {
  std::string bytes = covered_json(covered).dump();
  bytes.append(reinterpret_cast<char const*>(body.data()), body.size());
  return sha256_hex(bytes);
}

json header_of(ZonalPartial const& p, std::string const& content_id) {
  json h;
  h["format"] = "reclaim zonal partial";
  h["id_field"] = p.id_name;
  h["attributes"] = p.attribute_names;
  h["coverage"] = p.coverage;
  h["crs_wkt"] = p.crs_wkt;
  h["zones_path"] = p.zones_path;
  h["covered"] = covered_json(p.covered);
  h["content_id"] = content_id;
  h["stats"] = p.stats;
  auto& zones = h["zones"] = json::array();
  for (auto const& z : p.zones) {
    json attrs = json::array();
    for (auto const& [name, value] : z.attributes) attrs.push_back(value);
    zones.push_back({{"id", z.id}, {"attributes", attrs}});
  }
  auto& products = h["products"] = json::array();
  for (auto const& pr : p.products)
    products.push_back({{"name", pr.name},
                        {"plane", pr.plane},
                        {"categorical", pr.categorical},
                        {"class_names", pr.class_names},
                        {"histograms", pr.histograms},
                        {"histogram_lo", pr.histogram_lo},
                        {"histogram_hi", pr.histogram_hi},
                        {"threshold", pr.threshold ? json(*pr.threshold) : json(nullptr)}});
  auto& units = h["class_unit_m2"] = json::array();
  for (auto const& r : p.results) units.push_back(r.class_unit_m2);
  return h;
}

/// Reads fields of a byte buffer; every problem names the file.
class Cursor {
 public:
  Cursor(std::vector<std::uint8_t> const& bytes, std::string file) : m_bytes(bytes), m_file(std::move(file)) {}
  std::uint64_t u(int n) {
    need(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t{m_bytes[m_pos + static_cast<std::size_t>(i)]} << (8 * i);
    m_pos += static_cast<std::size_t>(n);
    return v;
  }
  std::span<std::uint8_t const> take(std::uint64_t n) {
    need(n);
    std::span<std::uint8_t const> s(m_bytes.data() + m_pos, n);
    m_pos += n;
    return s;
  }
  std::span<std::uint8_t const> blob() { return take(u(8)); }
  bool at_end() const noexcept { return m_pos == m_bytes.size(); }
  std::size_t position() const noexcept { return m_pos; }
  /// The bytes from `start` to the current position.
  std::span<std::uint8_t const> since(std::size_t start) const { return {m_bytes.data() + start, m_pos - start}; }
  [[noreturn]] void fail(std::string const& why) const { throw input_error(m_file + ": " + why); }

 private:
  void need(std::uint64_t n) const {
    if (n > m_bytes.size() - m_pos) fail("truncated zonal partial file");
  }
  std::vector<std::uint8_t> const& m_bytes;
  std::string m_file;
  std::size_t m_pos = 0;
};

}  // namespace

CoveredWindow whole_grid(Grid const& grid, std::vector<std::string> sources) {
  CoveredWindow c;
  c.sources = std::move(sources);
  c.grid = grid;
  c.window = {0, 0, 0, static_cast<std::int32_t>(grid.width), static_cast<std::int32_t>(grid.height)};
  return c;
}

bool covers_common_ground(CoveredWindow const& a, CoveredWindow const& b) {
  if (a.grid.crs_wkt != b.grid.crs_wkt) return false;
  auto const pa = window_bounds(a.grid, a.window), pb = window_bounds(b.grid, b.window);
  auto const& ga = a.grid.geotransform;
  auto const& gb = b.grid.geotransform;
  // Half the smallest pixel: boxes that merely touch (or meet within rounding) do not overlap,
  // while on one lattice a shared pixel overlaps by a whole one.
  double const tolerance =
      0.5 * std::min({std::abs(ga[1]), std::abs(ga[5]), std::abs(gb[1]), std::abs(gb[5])});
  return std::min(pa[2], pb[2]) - std::max(pa[0], pb[0]) > tolerance &&
         std::min(pa[3], pb[3]) - std::max(pa[1], pb[1]) > tolerance;
}

std::string content_id(ZonalPartial const& p) { return content_id_of(p.covered, accumulator_bytes(p)); }

void write_zonal_partial(fs::path const& path, ZonalPartial const& p) {
  auto const body = accumulator_bytes(p);
  std::string const header = header_of(p, content_id_of(p.covered, body)).dump();
  std::vector<std::uint8_t> out;
  for (char ch : {'R', 'Z', 'P', 'T'}) out.push_back(static_cast<std::uint8_t>(ch));
  put_u(out, kPartialVersion, 4);
  put_u(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  std::string const header_sha = sha256_hex(header);
  out.insert(out.end(), header_sha.begin(), header_sha.end());
  out.insert(out.end(), body.begin(), body.end());
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw io_error(path.parent_path().string() + ": cannot create the folder of " + path.string() + " (" +
                           ec.message() + ")");
  }
  write_file_atomically(path, std::string_view(reinterpret_cast<char const*>(out.data()), out.size()));
}

ZonalPartial read_zonal_partial(fs::path const& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw input_error(path.string() + ": cannot open zonal partial file");
  std::vector<std::uint8_t> const bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Cursor c(bytes, path.string());
  auto const magic = c.take(4);
  if (std::memcmp(magic.data(), "RZPT", 4) != 0) c.fail("not a reclaim zonal partial file (bad magic)");
  if (auto const v = c.u(4); v != kPartialVersion)
    c.fail("zonal partial format version " + std::to_string(v) + "; this reclaim reads version " +
           std::to_string(kPartialVersion) + " only (write the partial again with this reclaim)");
  auto const header_bytes = c.blob();
  auto const header_sha = c.take(kHeaderChecksumBytes);
  if (sha256_hex(std::string_view(reinterpret_cast<char const*>(header_bytes.data()), header_bytes.size())) !=
      std::string_view(reinterpret_cast<char const*>(header_sha.data()), header_sha.size()))
    c.fail("header checksum mismatch (corrupt zonal partial file)");
  auto const body_start = c.position();
  ZonalPartial p;
  std::string recorded_id;
  std::vector<double> units;
  try {
    json const h = json::parse(header_bytes.begin(), header_bytes.end());
    p.id_name = h.at("id_field").get<std::string>();
    p.attribute_names = h.at("attributes").get<std::vector<std::string>>();
    p.coverage = h.at("coverage").get<std::string>();
    p.crs_wkt = h.at("crs_wkt").get<std::string>();
    p.zones_path = h.at("zones_path").get<std::string>();
    p.covered = covered_from(h.at("covered"));
    recorded_id = h.at("content_id").get<std::string>();
    p.stats = h.at("stats").get<std::vector<std::string>>();
    for (auto const& z : h.at("zones")) {
      Zone zone;
      zone.id = z.at("id").get<std::string>();
      auto const values = z.at("attributes").get<std::vector<std::string>>();
      if (values.size() != p.attribute_names.size()) c.fail("zone " + zone.id + " has the wrong attribute count");
      for (std::size_t i = 0; i < values.size(); ++i) zone.attributes.emplace_back(p.attribute_names[i], values[i]);
      p.zones.push_back(std::move(zone));
    }
    for (auto const& pr : h.at("products")) {
      ZonalProduct product;
      product.name = pr.at("name").get<std::string>();
      product.plane = pr.at("plane").get<int>();
      product.categorical = pr.at("categorical").get<bool>();
      product.class_names = pr.at("class_names").get<std::vector<std::string>>();
      product.histograms = pr.at("histograms").get<bool>();
      product.histogram_lo = pr.at("histogram_lo").get<double>();
      product.histogram_hi = pr.at("histogram_hi").get<double>();
      if (pr.contains("threshold") && !pr.at("threshold").is_null()) product.threshold = pr.at("threshold").get<double>();
      p.products.push_back(std::move(product));
    }
    units = h.at("class_unit_m2").get<std::vector<double>>();
  } catch (json::exception const& e) {
    c.fail(std::string("bad partial header (") + e.what() + ")");
  }
  if (units.size() != p.products.size()) c.fail("bad partial header (class units do not match the products)");
  for (std::size_t k = 0; k < p.products.size(); ++k) {
    auto const& product = p.products[k];
    auto acc = ProductAccumulators::make(product, p.zones.size());
    acc.class_unit_m2 = units[k];
    try {
      for (std::size_t z = 0; z < p.zones.size(); ++z) {
        acc.values[z] = deserialize_value(c.blob());
        acc.areas[z] = deserialize_area(c.blob());
        if (!acc.histograms.empty()) acc.histograms[z] = deserialize_histogram<kZonalBins>(c.blob());
        if (!acc.classes.empty()) acc.classes[z] = deserialize_class(c.blob());
      }
    } catch (input_error const& e) {
      c.fail(e.what());
    }
    p.results.push_back(std::move(acc));
  }
  if (!c.at_end()) c.fail("trailing bytes after the last accumulator");
  if (content_id_of(p.covered, c.since(body_start)) != recorded_id)
    c.fail("the accumulators do not match the header's content id (corrupt zonal partial file)");
  return p;
}

namespace {

/// A partial is merged once: refuses repeats (a file twice, or a copy) and shards that share ground.
void refuse_double_counting(std::vector<ZonalPartial> const& parts, std::vector<std::string> const& names) {
  std::map<std::string, std::size_t> first_with_id;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto const [seen, fresh] = first_with_id.emplace(content_id(parts[i]), i);
    if (!fresh)
      throw input_error(names[i] + ": holds the same results as " + names[seen->second] +
                        " (the same content id); a partial is merged once");
  }
  for (std::size_t i = 0; i < parts.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      for (auto const& a : parts[i].covered)
        for (auto const& b : parts[j].covered)
          if (covers_common_ground(a, b)) {
            auto const source = [](CoveredWindow const& c) { return c.sources.empty() ? "?" : c.sources.front(); };
            throw input_error(names[i] + ": overlaps " + names[j] + " (" + source(a) + " and " + source(b) +
                              " cover common ground); merged shards must not overlap");
          }
}

}  // namespace

ZonalPartial merge_zonal_partials(std::vector<ZonalPartial> const& parts, std::vector<std::string> const& names) {
  RECLAIM_EXPECTS(!parts.empty() && parts.size() == names.size(), "merge needs named partials");
  ZonalPartial out = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto const& p = parts[i];
    auto fail = [&](std::string const& what, std::string const& fix = "partials must come from the same zones and "
                                                                       "options") {
      throw input_error(names[i] + ": " + what + " differ from " + names.front() + "'s; " + fix);
    };
    if (p.zones.size() != out.zones.size()) fail("zone counts");
    for (std::size_t z = 0; z < p.zones.size(); ++z)
      if (p.zones[z].id != out.zones[z].id) fail("zone ids (zone " + std::to_string(z) + ")");
    if (p.coverage != out.coverage) fail("coverage modes");
    if (p.stats != out.stats) fail("statistics");
    if (p.products.size() != out.products.size()) fail("products");
    for (std::size_t k = 0; k < p.products.size(); ++k) {
      auto const &a = p.products[k], &b = out.products[k];
      // zonal names its product after the raster's file stem, and shards are different files.
      if (a.name != b.name)
        throw input_error(names[i] + ": product '" + a.name + "' is '" + b.name + "' in " + names.front() +
                          "; give every shard the same --name (zonal) or the same input labels (indices, change)");
      if (a.categorical != b.categorical || a.histograms != b.histograms || a.threshold != b.threshold)
        fail("products");
      if (a.histograms && (a.histogram_lo != b.histogram_lo || a.histogram_hi != b.histogram_hi))
        fail("histogram ranges", "pass the same --histogram-range to every shard");
    }
  }
  refuse_double_counting(parts, names);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    for (std::size_t k = 0; k < parts[i].products.size(); ++k) out.results[k].merge(parts[i].results[k]);
    out.covered.insert(out.covered.end(), parts[i].covered.begin(), parts[i].covered.end());
  }
  return out;
}

}  // namespace reclaim::io
