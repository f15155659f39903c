#include "reclaim/io/zones.hpp"

#include <cpl_error.h>
#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <unordered_map>

#include "io/gdal_util.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace {

/// Collects the first message GDAL/GEOS reports while alive (thread-local handler stack), so
/// IsValid's reason ("Self-intersection at or near point ...") can be quoted in the warning.
class ErrorCapture {
 public:
  ErrorCapture() { CPLPushErrorHandlerEx(&ErrorCapture::handle, this); }
  ~ErrorCapture() { CPLPopErrorHandler(); }
  ErrorCapture(ErrorCapture const&) = delete;
  ErrorCapture& operator=(ErrorCapture const&) = delete;

  [[nodiscard]] std::string message() const {
    std::string msg = m_message;
    for (char const* prefix : {"GEOS warning: ", "GEOS error: "})
      if (msg.rfind(prefix, 0) == 0) msg.erase(0, std::char_traits<char>::length(prefix));
    return msg;
  }

 private:
  static void CPL_STDCALL handle(CPLErr, CPLErrorNum, char const* msg) {
    auto* self = static_cast<ErrorCapture*>(CPLGetErrorHandlerUserData());
    if (self && self->m_message.empty() && msg) self->m_message = msg;
  }
  std::string m_message;
};

struct CtDeleter {
  void operator()(OGRCoordinateTransformation* ct) const { OGRCoordinateTransformation::DestroyCT(ct); }
};
using CtPtr = std::unique_ptr<OGRCoordinateTransformation, CtDeleter>;

/// An opened layer and the index of its id field (-1: use the FID).
struct OpenLayer {
  GDALDatasetUniquePtr dataset;
  OGRLayer* layer = nullptr;
  int id_index = -1;
};

std::string join_names(std::vector<std::string> const& names) {
  std::string out;
  for (auto const& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

OpenLayer open_layer(ZoneSource const& src) {
  ensure_gdal_initialized();
  std::string const file = src.path.string();
  std::error_code ec;
  bool const virtual_file = file.rfind("/vsi", 0) == 0;
  if (!virtual_file && !std::filesystem::exists(src.path, ec))
    throw input_error(file + ": no such file or directory");
  CPLErrorReset();
  OpenLayer out;
  out.dataset.reset(GDALDataset::FromHandle(GDALOpenEx(
      file.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, nullptr, nullptr, nullptr)));
  if (!out.dataset)
    throw input_error(file + ": not a readable vector source (" + last_gdal_error("unknown format") + ")");
  int const layer_count = out.dataset->GetLayerCount();
  if (layer_count < 1) throw input_error(file + ": has no vector layers");
  if (src.layer) {
    out.layer = out.dataset->GetLayerByName(src.layer->c_str());
    if (!out.layer) {
      std::vector<std::string> names;
      for (int i = 0; i < layer_count; ++i) names.emplace_back(out.dataset->GetLayer(i)->GetName());
      throw input_error(file + ": no layer '" + *src.layer + "' (layers: " + join_names(names) + ")");
    }
  } else {
    out.layer = out.dataset->GetLayer(0);
  }
  if (src.id_field) {
    OGRFeatureDefn const* defn = out.layer->GetLayerDefn();
    out.id_index = defn->GetFieldIndex(src.id_field->c_str());
    if (out.id_index < 0) {
      std::vector<std::string> names;
      for (int i = 0; i < defn->GetFieldCount(); ++i) names.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
      throw input_error(file + ": layer '" + out.layer->GetName() + "' has no field '" + *src.id_field +
                        "' (fields: " + join_names(names) + ")");
    }
  }
  return out;
}

/// The transformation from the layer's CRS to the target; null when none is needed.
/// GeoPackage has no "no CRS": it stores srs_id 0 / -1, which OGR reads back as these
/// placeholders. They say nothing about where the coordinates are, so they count as no CRS.
bool is_undefined_crs(OGRSpatialReference const& srs) {
  char const* name = srs.GetName();
  if (!name) return false;
  std::string const n = name;
  return n == "Undefined geographic SRS" || n == "Undefined cartesian SRS" || n == "Undefined Cartesian SRS";
}

CtPtr make_transform(OGRLayer& layer, std::string const& target_wkt, std::string const& file) {
  OGRSpatialReference const* layer_srs = layer.GetSpatialRef();
  if (layer_srs && is_undefined_crs(*layer_srs)) layer_srs = nullptr;
  std::string const where = file + ": layer '" + layer.GetName() + "'";
  if (!layer_srs && target_wkt.empty()) return nullptr;
  if (!layer_srs)
    throw input_error(where + " has no CRS, so its zones cannot be placed on the raster (assign one, e.g. "
                              "ogr2ogr -a_srs)");
  if (target_wkt.empty())
    throw input_error(where + " has a CRS but the raster has none, so the zones cannot be reprojected onto it");
  // Traditional GIS order (x = easting/longitude) on both sides: OGR geometries carry (x, y)
  // whatever the CRS's authority axis order is.
  OGRSpatialReference src_srs(*layer_srs);
  src_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReference dst_srs;
  if (dst_srs.importFromWkt(target_wkt.c_str()) != OGRERR_NONE)
    throw input_error(file + ": the raster's CRS is not valid WKT");
  dst_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  if (src_srs.IsSame(&dst_srs)) return nullptr;
  CPLErrorReset();
  CtPtr ct(OGRCreateCoordinateTransformation(&src_srs, &dst_srs));
  if (!ct)
    throw input_error(where + ": no transformation from its CRS to the raster's (" +
                      last_gdal_error("unknown reason") + ")");
  return ct;
}

Ring ring_of(OGRLinearRing const& ring) {
  Ring out;
  out.reserve(static_cast<std::size_t>(ring.getNumPoints()));
  for (int i = 0; i < ring.getNumPoints(); ++i) out.push_back(Point{ring.getX(i), ring.getY(i)});
  return out;
}

void append_polygon(OGRPolygon const& poly, std::vector<Polygon>& parts) {
  if (poly.IsEmpty() || !poly.getExteriorRing()) return;
  Polygon p;
  p.outer = ring_of(*poly.getExteriorRing());
  for (int i = 0; i < poly.getNumInteriorRings(); ++i) {
    Ring hole = ring_of(*poly.getInteriorRing(i));
    if (!hole.empty()) p.holes.push_back(std::move(hole));
  }
  parts.push_back(std::move(p));
}

/// Appends the polygonal content of g. Collections (only MakeValid's output) are flattened and
/// their points/lines dropped (counted in dropped). False when g itself is not polygonal.
bool collect_polygons(OGRGeometry const& g, bool allow_collection, std::vector<Polygon>& parts, int& dropped) {
  switch (wkbFlatten(g.getGeometryType())) {
    case wkbPolygon:
      append_polygon(*g.toPolygon(), parts);
      return true;
    case wkbMultiPolygon:
      for (OGRPolygon const* poly : *g.toMultiPolygon()) append_polygon(*poly, parts);
      return true;
    case wkbGeometryCollection:
      if (!allow_collection) return false;
      for (OGRGeometry const* member : *g.toGeometryCollection())
        if (!collect_polygons(*member, true, parts, dropped)) ++dropped;
      return true;
    default:
      return false;
  }
}

std::array<double, 4> bbox_of(std::vector<Polygon> const& parts) {
  if (parts.empty()) return {0.0, 0.0, 0.0, 0.0};
  double const inf = std::numeric_limits<double>::infinity();
  std::array<double, 4> b{inf, inf, -inf, -inf};
  for (auto const& p : parts)  // holes lie inside the outer ring
    for (auto const& pt : p.outer) {
      b[0] = std::min(b[0], pt.x);
      b[1] = std::min(b[1], pt.y);
      b[2] = std::max(b[2], pt.x);
      b[3] = std::max(b[3], pt.y);
    }
  if (b[0] > b[2]) return {0.0, 0.0, 0.0, 0.0};
  return b;
}

}  // namespace

std::vector<std::string> zone_attribute_names(ZoneSource const& src) {
  OpenLayer const ol = open_layer(src);
  OGRFeatureDefn const* defn = ol.layer->GetLayerDefn();
  std::vector<std::string> names;
  for (int i = 0; i < defn->GetFieldCount(); ++i)
    if (i != ol.id_index) names.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
  return names;
}

std::vector<Zone> read_zones(ZoneSource const& src, std::string const& target_crs_wkt,
                             std::function<void(std::string const&)> const& warn) {
  auto const say = [&](std::string const& msg) {
    if (warn) warn(msg);
  };
  OpenLayer ol = open_layer(src);
  std::string const file = src.path.string();
  OGRLayer& layer = *ol.layer;
  if (!src.layer && ol.dataset->GetLayerCount() > 1)
    say(file + ": " + std::to_string(ol.dataset->GetLayerCount()) + " layers; reading the first, '" +
        layer.GetName() + "' (choose one with --layer)");
  CtPtr const ct = make_transform(layer, target_crs_wkt, file);

  OGRFeatureDefn const* defn = layer.GetLayerDefn();
  int const field_count = defn->GetFieldCount();
  std::vector<Zone> zones;
  if (auto const n = layer.GetFeatureCount(FALSE); n > 0) zones.reserve(static_cast<std::size_t>(n));
  std::unordered_map<std::string, int> seen_ids;

  layer.ResetReading();
  for (auto const& feature : layer) {
    Zone zone;
    if (ol.id_index >= 0 && feature->IsFieldSetAndNotNull(ol.id_index)) {
      zone.id = feature->GetFieldAsString(ol.id_index);
    } else {
      zone.id = std::to_string(feature->GetFID());
      if (ol.id_index >= 0)
        say(file + ": feature " + zone.id + ": field '" + *src.id_field + "' is NULL; using the FID as its id");
    }
    std::string const what = file + ": feature " + zone.id;
    if (++seen_ids[zone.id] == 2) say(file + ": zone id '" + zone.id + "' appears more than once");
    zone.attributes.reserve(static_cast<std::size_t>(field_count));
    for (int i = 0; i < field_count; ++i) {
      if (i == ol.id_index) continue;
      zone.attributes.emplace_back(defn->GetFieldDefn(i)->GetNameRef(),
                                   feature->IsFieldSetAndNotNull(i) ? feature->GetFieldAsString(i) : "");
    }

    OGRGeometry const* source_geom = feature->GetGeometryRef();
    if (!source_geom || source_geom->IsEmpty()) {
      say(what + ": empty geometry; kept as a zone with no pixels");
      zones.push_back(std::move(zone));
      continue;
    }
    std::unique_ptr<OGRGeometry> geom(source_geom->hasCurveGeometry(TRUE) ? source_geom->getLinearGeometry()
                                                                          : source_geom->clone());
    if (!geom) throw input_error(what + ": cannot linearise its curved geometry");
    auto const type = wkbFlatten(geom->getGeometryType());
    if (type != wkbPolygon && type != wkbMultiPolygon)
      throw input_error(what + ": geometry type " + OGRGeometryTypeToName(geom->getGeometryType()) +
                        " is not a zone (expected Polygon or MultiPolygon)");
    geom->flattenTo2D();

    if (ct) {
      CPLErrorReset();
      if (geom->transform(ct.get()) != OGRERR_NONE) {
        std::string const reason = last_gdal_error("outside the CRS's area of use");
        if (src.strict) throw input_error(what + ": cannot be reprojected to the raster's CRS (" + reason + ")");
        say(what + ": cannot be reprojected to the raster's CRS (" + reason + "); kept as a zone with no pixels");
        zones.push_back(std::move(zone));
        continue;
      }
    }

    // Validity is judged in the raster's CRS, where coverage is computed.
    std::string reason;
    bool valid = false;
    {
      ErrorCapture capture;
      valid = geom->IsValid() != 0;
      reason = capture.message();
    }
    int dropped = 0;
    if (valid) {
      collect_polygons(*geom, false, zone.parts, dropped);
    } else {
      std::string const why = reason.empty() ? "" : " (" + reason + ")";
      if (src.strict) throw input_error(what + ": invalid geometry" + why);
      CPLErrorReset();
      std::unique_ptr<OGRGeometry> fixed(geom->MakeValid());
      if (!fixed)
        throw input_error(what + ": invalid geometry" + why + " that MakeValid could not repair (" +
                          last_gdal_error("GDAL built without GEOS?") + ")");
      collect_polygons(*fixed, true, zone.parts, dropped);
      zone.repaired = true;
      std::string msg = what + ": invalid geometry repaired" + why;
      if (dropped > 0) msg += "; " + std::to_string(dropped) + " non-polygonal part(s) dropped";
      if (zone.parts.empty()) msg += "; nothing polygonal is left, kept as a zone with no pixels";
      say(msg);
    }
    zone.bbox = bbox_of(zone.parts);
    zones.push_back(std::move(zone));
  }
  // An empty layer would give an empty table and report with exit 0: nothing was assessed.
  if (zones.empty()) throw input_error(file + ": layer '" + layer.GetName() + "' has no features (no zones)");
  return zones;
}

}  // namespace reclaim::io
