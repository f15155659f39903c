// Partial zonal results: write, read and merge (format in include/reclaim/io/zonal_partial.hpp).
#include "reclaim/io/zonal_partial.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "io/output_file.hpp"
#include "reclaim/error.hpp"
#include "reclaim/zonal_io.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::uint32_t kPartialVersion = 1;

void put_u(std::vector<std::uint8_t>& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_blob(std::vector<std::uint8_t>& out, std::vector<std::uint8_t> const& blob) {
  put_u(out, blob.size(), 8);
  out.insert(out.end(), blob.begin(), blob.end());
}

json header_of(ZonalPartial const& p) {
  json h;
  h["format"] = "reclaim zonal partial";
  h["id_field"] = p.id_name;
  h["attributes"] = p.attribute_names;
  h["coverage"] = p.coverage;
  h["crs_wkt"] = p.crs_wkt;
  h["zones_path"] = p.zones_path;
  h["sources"] = p.sources;
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

void write_zonal_partial(fs::path const& path, ZonalPartial const& p) {
  std::vector<std::uint8_t> out;
  for (char ch : {'R', 'Z', 'P', 'T'}) out.push_back(static_cast<std::uint8_t>(ch));
  put_u(out, kPartialVersion, 4);
  std::string const header = header_of(p).dump();
  put_u(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  for (std::size_t k = 0; k < p.products.size(); ++k) {
    auto const& acc = p.results[k];
    for (std::size_t z = 0; z < p.zones.size(); ++z) {
      put_blob(out, serialize(acc.values[z]));
      put_blob(out, serialize(acc.areas[z]));
      if (!acc.histograms.empty()) put_blob(out, serialize(acc.histograms[z]));
      if (!acc.classes.empty()) put_blob(out, serialize(acc.classes[z]));
    }
  }
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  write_file_atomically(path, std::string_view(reinterpret_cast<char const*>(out.data()), out.size()));
}

ZonalPartial read_zonal_partial(fs::path const& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw input_error(path.string() + ": cannot open zonal partial file");
  std::vector<std::uint8_t> const bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Cursor c(bytes, path.string());
  auto const magic = c.take(4);
  if (std::memcmp(magic.data(), "RZPT", 4) != 0) c.fail("not a reclaim zonal partial file (bad magic)");
  if (auto const v = c.u(4); v != kPartialVersion) c.fail("unsupported partial format version " + std::to_string(v));
  auto const header_bytes = c.blob();
  ZonalPartial p;
  try {
    json const h = json::parse(header_bytes.begin(), header_bytes.end());
    p.id_name = h.at("id_field").get<std::string>();
    p.attribute_names = h.at("attributes").get<std::vector<std::string>>();
    p.coverage = h.at("coverage").get<std::string>();
    p.crs_wkt = h.at("crs_wkt").get<std::string>();
    p.zones_path = h.at("zones_path").get<std::string>();
    p.sources = h.at("sources").get<std::vector<std::string>>();
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
  } catch (json::exception const& e) {
    c.fail(std::string("bad partial header (") + e.what() + ")");
  }
  std::vector<double> units;
  try {
    units = json::parse(header_bytes.begin(), header_bytes.end()).at("class_unit_m2").get<std::vector<double>>();
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
  return p;
}

ZonalPartial merge_zonal_partials(std::vector<ZonalPartial> const& parts, std::vector<std::string> const& names) {
  RECLAIM_EXPECTS(!parts.empty() && parts.size() == names.size(), "merge needs named partials");
  ZonalPartial out = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto const& p = parts[i];
    auto fail = [&](std::string const& what) {
      throw input_error(names[i] + ": " + what + " differ from " + names.front() + "'s; partials must come from the "
                        "same zones and options");
    };
    if (p.zones.size() != out.zones.size()) fail("zone counts");
    for (std::size_t z = 0; z < p.zones.size(); ++z)
      if (p.zones[z].id != out.zones[z].id) fail("zone ids (zone " + std::to_string(z) + ")");
    if (p.coverage != out.coverage) fail("coverage modes");
    if (p.stats != out.stats) fail("statistics");
    if (p.products.size() != out.products.size()) fail("products");
    for (std::size_t k = 0; k < p.products.size(); ++k) {
      auto const &a = p.products[k], &b = out.products[k];
      if (a.name != b.name || a.categorical != b.categorical || a.histograms != b.histograms ||
          a.threshold != b.threshold)
        fail("products");
      if (a.histograms && (a.histogram_lo != b.histogram_lo || a.histogram_hi != b.histogram_hi))
        fail("histogram ranges (pass the same --histogram-range to every shard)");
    }
    for (std::size_t k = 0; k < p.products.size(); ++k) out.results[k].merge(p.results[k]);
    out.sources.insert(out.sources.end(), p.sources.begin(), p.sources.end());
  }
  return out;
}

}  // namespace reclaim::io
