// The per-zone table of zonal statistics and its writers (CSV, GeoPackage, JSON).
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "io/output_file.hpp"
#include "reclaim/error.hpp"
#include "reclaim/io/number_text.hpp"
#include "reclaim/io/zonal.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

namespace {

/// "vegetation loss / new disturbance" -> "vegetation_loss_new_disturbance" (a column-safe name).
std::string slug(std::string const& name) {
  std::string out;
  for (char ch : name) {
    auto const c = static_cast<unsigned char>(ch);
    if (std::isalnum(c)) {
      out += static_cast<char>(std::tolower(c));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

/// The class values that get columns: the named ones, else every class seen in some zone.
std::vector<int> class_columns(ZonalProduct const& product, ProductAccumulators const& acc) {
  std::vector<int> out;
  for (int c = 0; c < static_cast<int>(product.class_names.size()) && c < pixel::ClassAccumulator::kClasses; ++c)
    if (!product.class_names[static_cast<std::size_t>(c)].empty()) out.push_back(c);
  if (!out.empty()) return out;
  for (int c = 0; c < pixel::ClassAccumulator::kClasses; ++c)
    for (auto const& z : acc.classes)
      if (z.m_w[c] != 0) {
        out.push_back(c);
        break;
      }
  return out;
}

std::string class_label(ZonalProduct const& product, int c) {
  if (c < static_cast<int>(product.class_names.size()) && !product.class_names[static_cast<std::size_t>(c)].empty())
    return slug(product.class_names[static_cast<std::size_t>(c)]);
  return "class_" + std::to_string(c);
}

std::string csv_field(std::string const& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool is_text_column(ZonalTable const& t, std::size_t c) {
  for (auto const& row : t.rows)
    if (std::holds_alternative<std::string>(row[c])) return true;
  return false;
}

void write_csv(fs::path const& path, ZonalTable const& t, std::vector<Zone> const& zones) {
  std::ostringstream out;
  out << csv_field(t.id_name);
  for (auto const& a : t.attribute_names) out << ',' << csv_field(a);
  for (auto const& c : t.columns) out << ',' << csv_field(c);
  out << '\n';
  for (std::size_t z = 0; z < zones.size(); ++z) {
    out << csv_field(zones[z].id);
    for (auto const& [name, value] : zones[z].attributes) out << ',' << csv_field(value);
    for (auto const& cell : t.rows[z]) {
      out << ',';
      if (auto const* text = std::get_if<std::string>(&cell)) {
        out << csv_field(*text);
      } else if (double const v = std::get<double>(cell); std::isfinite(v)) {
        out << shortest_text(v);  // an empty cell: no data (e.g. a zone outside the raster)
      }
    }
    out << '\n';
  }
  write_file_atomically(path, out.str());
}

void write_json(fs::path const& path, ZonalTable const& t, std::vector<Zone> const& zones) {
  nlohmann::ordered_json doc;
  doc["id_field"] = t.id_name;
  doc["attributes"] = t.attribute_names;
  doc["columns"] = t.columns;
  auto& list = doc["zones"] = nlohmann::ordered_json::array();
  for (std::size_t z = 0; z < zones.size(); ++z) {
    nlohmann::ordered_json row;
    row["id"] = zones[z].id;
    for (std::size_t a = 0; a < zones[z].attributes.size(); ++a) row[t.attribute_names[a]] = zones[z].attributes[a].second;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      auto const& cell = t.rows[z][c];
      if (auto const* text = std::get_if<std::string>(&cell)) {
        row[t.columns[c]] = *text;
      } else if (double const v = std::get<double>(cell); std::isfinite(v)) {
        row[t.columns[c]] = v;
      } else {
        row[t.columns[c]] = nullptr;  // JSON has no NaN
      }
    }
    list.push_back(std::move(row));
  }
  write_file_atomically(path, doc.dump(1) + "\n");
}

void write_gpkg(fs::path const& path, ZonalTable const& t, std::vector<Zone> const& zones, std::string const& crs_wkt) {
  GDALAllRegister();
  auto* driver = GetGDALDriverManager()->GetDriverByName("GPKG");
  if (!driver) throw io_error(path.string() + ": GDAL has no GeoPackage driver");
  // GeoPackage needs the .gpkg extension, so the temporary name keeps it.
  fs::path const tmp = hidden_temp_path(path, ".tmp.gpkg");
  std::error_code ignored;
  fs::remove(tmp, ignored);
  try {
    GDALDatasetUniquePtr ds(driver->Create(tmp.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    if (!ds) throw io_error(path.string() + ": cannot create GeoPackage (" + CPLGetLastErrorMsg() + ")");
    OGRSpatialReference srs;
    OGRSpatialReference* layer_srs = nullptr;
    if (!crs_wkt.empty() && srs.importFromWkt(crs_wkt.c_str()) == OGRERR_NONE) {
      srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
      layer_srs = &srs;
    }
    // The GeoPackage primary key is a column too ("fid" by default): name it so that it
    // clashes with no column of the table (the id column is "fid" when sites have no id field).
    auto const taken = [&](std::string const& name) {
      auto const same = [&](std::string const& other) { return EQUAL(other.c_str(), name.c_str()); };
      return same(t.id_name) || std::any_of(t.attribute_names.begin(), t.attribute_names.end(), same) ||
             std::any_of(t.columns.begin(), t.columns.end(), same);
    };
    std::string fid_column = "fid";
    for (int k = 1; taken(fid_column); ++k) fid_column = k == 1 ? "gpkg_fid" : "gpkg_fid_" + std::to_string(k);
    CPLStringList layer_options;
    layer_options.SetNameValue("FID", fid_column.c_str());
    auto* layer = ds->CreateLayer(path.stem().c_str(), layer_srs, wkbMultiPolygon, layer_options.List());
    if (!layer) throw io_error(path.string() + ": cannot create layer (" + CPLGetLastErrorMsg() + ")");
    auto add_field = [&](std::string const& name, OGRFieldType type) {
      OGRFieldDefn field(name.c_str(), type);
      if (layer->CreateField(&field) != OGRERR_NONE) throw io_error(path.string() + ": cannot add field " + name);
    };
    add_field(t.id_name, OFTString);
    for (auto const& a : t.attribute_names) add_field(a, OFTString);
    std::vector<bool> text(t.columns.size());
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      text[c] = is_text_column(t, c);
      add_field(t.columns[c], text[c] ? OFTString : OFTReal);
    }
    if (ds->StartTransaction() != OGRERR_NONE) throw io_error(path.string() + ": cannot start a transaction");
    for (std::size_t z = 0; z < zones.size(); ++z) {
      OGRFeature feature(layer->GetLayerDefn());
      int f = 0;
      feature.SetField(f++, zones[z].id.c_str());
      for (auto const& [name, value] : zones[z].attributes) feature.SetField(f++, value.c_str());
      for (std::size_t c = 0; c < t.columns.size(); ++c, ++f) {
        auto const& cell = t.rows[z][c];
        if (auto const* s = std::get_if<std::string>(&cell)) {
          feature.SetField(f, s->c_str());
        } else if (double const v = std::get<double>(cell); std::isfinite(v)) {
          feature.SetField(f, v);
        } else {
          feature.SetFieldNull(f);
        }
      }
      if (!zones[z].parts.empty()) {
        OGRMultiPolygon multi;
        for (auto const& part : zones[z].parts) {
          OGRPolygon poly;
          auto add_ring = [&poly](Ring const& ring) {
            OGRLinearRing r;
            for (auto const& p : ring) r.addPoint(p.x, p.y);
            r.closeRings();
            poly.addRing(&r);
          };
          add_ring(part.outer);
          for (auto const& hole : part.holes) add_ring(hole);
          multi.addGeometry(&poly);
        }
        feature.SetGeometry(&multi);
      }
      if (layer->CreateFeature(&feature) != OGRERR_NONE)
        throw io_error(path.string() + ": cannot write zone " + zones[z].id + " (" + CPLGetLastErrorMsg() + ")");
    }
    if (ds->CommitTransaction() != OGRERR_NONE) throw io_error(path.string() + ": cannot commit");
  } catch (io_error const&) {
    std::string const full = write_failure(tmp, errno, "");  // while the temporary still holds its space
    fs::remove(tmp, ignored);
    if (full.empty()) throw;
    throw io_error(path.string() + ": " + full);
  }
  commit_temp(tmp, path);
}

}  // namespace

ZonalTable zonal_table(std::vector<Zone> const& zones, std::vector<std::string> const& attribute_names,
                       std::string const& id_name, std::vector<ZonalProduct> const& products,
                       std::vector<std::string> const& stats, std::vector<ProductAccumulators> const& results) {
  ZonalTable t;
  t.id_name = id_name;
  t.attribute_names = attribute_names;
  t.rows.assign(zones.size(), {});
  for (std::size_t p = 0; p < products.size(); ++p) {
    auto const& product = products[p];
    auto const& acc = results[p];
    if (!product.categorical) {
      for (auto const& st : stats) {
        t.columns.push_back(product.name + "_" + st);
        for (std::size_t z = 0; z < zones.size(); ++z) t.rows[z].emplace_back(value_stat(acc, z, st));
      }
      continue;
    }
    t.columns.push_back(product.name + "_area_ha");
    for (std::size_t z = 0; z < zones.size(); ++z) t.rows[z].emplace_back(acc.areas[z].area_m2.value() * 1e-4);
    for (int c : class_columns(product, acc)) {
      std::string const label = product.name + "_" + class_label(product, c);
      t.columns.push_back(label + "_ha");
      t.columns.push_back(label + "_fraction");
      for (std::size_t z = 0; z < zones.size(); ++z) {
        t.rows[z].emplace_back(acc.class_ha(z, c));
        t.rows[z].emplace_back(acc.classes[z].fraction(c));
      }
    }
    t.columns.push_back(product.name + "_majority");
    for (std::size_t z = 0; z < zones.size(); ++z) {
      int const m = acc.classes[z].majority();
      t.rows[z].emplace_back(m < 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(m));
    }
  }
  return t;
}

std::vector<std::pair<std::string, std::string>> rename_clashing_attributes(ZonalTable& t) {
  // Compared ignoring case, as GeoPackage (SQLite) compares column names.
  auto const lower = [](std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  std::set<std::string> taken{lower(t.id_name)};
  for (auto const& c : t.columns) taken.insert(lower(c));
  std::vector<std::pair<std::string, std::string>> renamed;
  for (auto& name : t.attribute_names) {
    std::string written = name;
    for (int k = 1; taken.count(lower(written)); ++k)
      written = (k == 1 ? "attr_" : "attr" + std::to_string(k) + "_") + name;
    if (written != name) renamed.emplace_back(name, written);
    taken.insert(lower(written));
    name = written;
  }
  return renamed;
}

void write_zonal_table(fs::path const& path, ZonalTable table, std::vector<Zone> const& zones,
                       std::string const& crs_wkt, std::function<void(std::string const&)> const& warn) {
  RECLAIM_EXPECTS(table.rows.size() == zones.size(), "zonal table rows must match the zones");
  for (auto const& [name, written] : rename_clashing_attributes(table))
    if (warn)
      warn(path.string() + ": zone attribute '" + name + "' has the name of another column; written as '" +
           written + "'");
  std::string ext = path.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw io_error(path.parent_path().string() + ": cannot create output folder (" + ec.message() + ")");
  }
  if (ext == ".csv") return write_csv(path, table, zones);
  if (ext == ".json") return write_json(path, table, zones);
  if (ext == ".gpkg") return write_gpkg(path, table, zones, crs_wkt);
  throw usage_error(path.string() + ": unknown table format (expected .csv, .gpkg or .json)");
}

}  // namespace reclaim::io
