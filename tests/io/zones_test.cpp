// Zones from OGR vector sources: files are written here with OGR in a temporary folder, read back
// with reclaim::io::read_zones, and compared with an OGRCoordinateTransformation done in the test.
#include <gtest/gtest.h>

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "reclaim/error.hpp"
#include "reclaim/io/zones.hpp"

namespace fs = std::filesystem;
using reclaim::io::read_zones;
using reclaim::io::Zone;
using reclaim::io::ZoneSource;

namespace {

struct Feature {
  std::string site_id;
  std::string name;
  int year = 0;
  double area = 0.0;
  std::string wkt;  ///< lon/lat; "" for a NULL geometry
};

// Outer rings clockwise and holes counter-clockwise (the Shapefile convention), so no driver
// has a reason to reorder vertices and the comparison can go vertex by vertex.
std::vector<Feature> sample_features() {
  return {
      {"A-1", "north pit", 2019, 12.5,
       "POLYGON ((110.50 38.50, 110.50 38.52, 110.52 38.52, 110.52 38.50, 110.50 38.50))"},
      {"B-2", "south dump", 2021, 7.25,
       "MULTIPOLYGON (((110.60 38.40, 110.60 38.44, 110.64 38.44, 110.64 38.40, 110.60 38.40),"
       "(110.61 38.41, 110.63 38.41, 110.63 38.43, 110.61 38.43, 110.61 38.41)),"
       "((110.70 38.40, 110.70 38.41, 110.71 38.40, 110.70 38.40)))"},
  };
}

std::unique_ptr<OGRGeometry> geometry_from_wkt(std::string const& wkt) {
  OGRGeometry* g = nullptr;
  EXPECT_EQ(OGRGeometryFactory::createFromWkt(wkt.c_str(), nullptr, &g), OGRERR_NONE) << wkt;
  return std::unique_ptr<OGRGeometry>(g);
}

/// Writes features to a new file with the given OGR driver; srs_epsg 0 writes no CRS.
void write_layer(fs::path const& path, char const* driver_name, std::vector<Feature> const& features,
                 int srs_epsg = 4326, char const* layer_name = "sites") {
  GDALAllRegister();
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name);
  ASSERT_NE(driver, nullptr) << driver_name;
  GDALDatasetUniquePtr ds(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  ASSERT_NE(ds, nullptr) << path;
  OGRSpatialReference srs;
  srs.importFromEPSG(srs_epsg == 0 ? 4326 : srs_epsg);
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  bool const shapefile = std::string(driver_name) == "ESRI Shapefile";
  char const* options[] = {"SPATIAL_INDEX=NO", nullptr};  // FlatGeobuf: keep the features in order
  OGRLayer* layer = ds->CreateLayer(layer_name, srs_epsg == 0 ? nullptr : &srs,
                                    shapefile ? wkbPolygon : wkbUnknown,
                                    std::string(driver_name) == "FlatGeobuf" ? const_cast<char**>(options) : nullptr);
  ASSERT_NE(layer, nullptr);
  OGRFieldDefn site_id("site_id", OFTString), name("name", OFTString), year("year", OFTInteger),
      area("area", OFTReal);
  for (OGRFieldDefn* f : {&site_id, &name, &year, &area}) ASSERT_EQ(layer->CreateField(f), OGRERR_NONE);
  for (auto const& f : features) {
    OGRFeatureUniquePtr feat(OGRFeature::CreateFeature(layer->GetLayerDefn()));
    feat->SetField("site_id", f.site_id.c_str());
    feat->SetField("name", f.name.c_str());
    feat->SetField("year", f.year);
    feat->SetField("area", f.area);
    if (!f.wkt.empty()) feat->SetGeometryDirectly(geometry_from_wkt(f.wkt).release());
    ASSERT_EQ(layer->CreateFeature(feat.get()), OGRERR_NONE);
  }
}

std::string wkt_of_epsg(int epsg) {
  OGRSpatialReference srs;
  srs.importFromEPSG(epsg);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  std::string out = wkt ? wkt : "";
  CPLFree(wkt);
  return out;
}

/// The expected rings: the input's vertices, transformed EPSG:4326 -> EPSG:32649 here.
std::vector<reclaim::Polygon> expected_parts(std::string const& wkt) {
  OGRSpatialReference src, dst;
  src.importFromEPSG(4326);
  dst.importFromEPSG(32649);
  src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &dst));
  auto const ring = [&](OGRLinearRing const& r) {
    reclaim::Ring out;
    for (int i = 0; i < r.getNumPoints(); ++i) {
      double x = r.getX(i), y = r.getY(i);
      EXPECT_TRUE(ct->Transform(1, &x, &y));
      out.push_back({x, y});
    }
    return out;
  };
  auto const geom = geometry_from_wkt(wkt);
  std::vector<reclaim::Polygon> parts;
  auto const add = [&](OGRPolygon const& p) {
    reclaim::Polygon poly{ring(*p.getExteriorRing()), {}};
    for (int i = 0; i < p.getNumInteriorRings(); ++i) poly.holes.push_back(ring(*p.getInteriorRing(i)));
    parts.push_back(poly);
  };
  if (wkbFlatten(geom->getGeometryType()) == wkbPolygon) add(*geom->toPolygon());
  else
    for (auto const* p : *geom->toMultiPolygon()) add(*p);
  return parts;
}

void expect_ring_near(reclaim::Ring const& got, reclaim::Ring const& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].x, want[i].x, 1e-6) << "vertex " << i;
    EXPECT_NEAR(got[i].y, want[i].y, 1e-6) << "vertex " << i;
  }
}

std::string attribute(Zone const& z, std::string const& key) {
  for (auto const& [k, v] : z.attributes)
    if (k == key) return v;
  ADD_FAILURE() << "zone " << z.id << " has no attribute " << key;
  return {};
}

class ZonesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    m_dir = fs::temp_directory_path() / ("reclaim_zones_test_" + std::to_string(rd()));
    fs::create_directories(m_dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }
  fs::path m_dir;
  std::string const m_utm49 = wkt_of_epsg(32649);
  std::vector<std::string> m_warnings;
  std::function<void(std::string const&)> m_warn = [this](std::string const& w) { m_warnings.push_back(w); };
};

struct DriverCase {
  char const* driver;
  char const* file;
};
void PrintTo(DriverCase const& c, std::ostream* os) { *os << c.driver; }

class ZonesRoundTrip : public ZonesTest, public ::testing::WithParamInterface<DriverCase> {};

TEST_P(ZonesRoundTrip, IdsAttributesAndReprojectedRings) {
  auto const features = sample_features();
  fs::path const path = m_dir / GetParam().file;
  write_layer(path, GetParam().driver, features);
  ZoneSource src{path, std::nullopt, std::string("site_id"), false};
  auto const zones = read_zones(src, m_utm49, m_warn);
  EXPECT_TRUE(m_warnings.empty()) << m_warnings.front();
  ASSERT_EQ(zones.size(), features.size());
  EXPECT_EQ(reclaim::io::zone_attribute_names(src), (std::vector<std::string>{"name", "year", "area"}));

  std::map<std::string, Zone const*> by_id;
  for (auto const& z : zones) by_id[z.id] = &z;
  for (auto const& f : features) {
    ASSERT_EQ(by_id.count(f.site_id), 1u) << f.site_id;
    Zone const& z = *by_id[f.site_id];
    ASSERT_EQ(z.attributes.size(), 3u);
    EXPECT_EQ(z.attributes[0].first, "name");
    EXPECT_EQ(z.attributes[1].first, "year");
    EXPECT_EQ(z.attributes[2].first, "area");
    EXPECT_EQ(attribute(z, "name"), f.name);
    EXPECT_EQ(std::stoi(attribute(z, "year")), f.year);
    EXPECT_DOUBLE_EQ(std::stod(attribute(z, "area")), f.area);  // Shapefile pads reals with zeros
    EXPECT_FALSE(z.repaired);

    auto const want = expected_parts(f.wkt);
    ASSERT_EQ(z.parts.size(), want.size()) << f.site_id;
    double xmin = 1e300, ymin = 1e300, xmax = -1e300, ymax = -1e300;
    for (std::size_t p = 0; p < want.size(); ++p) {
      expect_ring_near(z.parts[p].outer, want[p].outer);
      ASSERT_EQ(z.parts[p].holes.size(), want[p].holes.size()) << f.site_id << " part " << p;
      for (std::size_t h = 0; h < want[p].holes.size(); ++h) expect_ring_near(z.parts[p].holes[h], want[p].holes[h]);
      for (auto const& pt : want[p].outer) {
        xmin = std::min(xmin, pt.x), ymin = std::min(ymin, pt.y);
        xmax = std::max(xmax, pt.x), ymax = std::max(ymax, pt.y);
      }
    }
    EXPECT_NEAR(z.bbox[0], xmin, 1e-6);
    EXPECT_NEAR(z.bbox[1], ymin, 1e-6);
    EXPECT_NEAR(z.bbox[2], xmax, 1e-6);
    EXPECT_NEAR(z.bbox[3], ymax, 1e-6);
  }
  // B-2: a multipolygon whose first part has one hole; the hole is inside the outer ring's bbox.
  Zone const& b = *by_id["B-2"];
  ASSERT_EQ(b.parts.size(), 2u);
  EXPECT_EQ(b.parts[0].holes.size(), 1u);
  EXPECT_TRUE(b.parts[1].holes.empty());
}

INSTANTIATE_TEST_SUITE_P(Drivers, ZonesRoundTrip,
                         ::testing::Values(DriverCase{"GPKG", "zones.gpkg"}, DriverCase{"GeoJSON", "zones.geojson"},
                                           DriverCase{"ESRI Shapefile", "zones.shp"},
                                           DriverCase{"FlatGeobuf", "zones.fgb"}),
                         [](auto const& case_info) {
                           std::string n = case_info.param.driver;
                           return n == "ESRI Shapefile" ? std::string("Shapefile") : n;
                         });

TEST_F(ZonesTest, FidIsTheIdWithoutIdFieldAndEveryFieldIsAnAttribute) {
  fs::path const path = m_dir / "zones.gpkg";
  write_layer(path, "GPKG", sample_features());
  ZoneSource src{path, std::string("sites"), std::nullopt, false};
  auto const zones = read_zones(src, m_utm49, m_warn);
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0].id, "1");  // GeoPackage FIDs start at 1
  EXPECT_EQ(zones[1].id, "2");
  ASSERT_EQ(zones[0].attributes.size(), 4u);
  EXPECT_EQ(zones[0].attributes[0], (std::pair<std::string, std::string>{"site_id", "A-1"}));
  EXPECT_EQ(reclaim::io::zone_attribute_names(src), (std::vector<std::string>{"site_id", "name", "year", "area"}));
}

TEST_F(ZonesTest, BowTieIsRepairedIntoTwoPartsWithAWarningAndRejectedUnderStrict) {
  fs::path const path = m_dir / "bowtie.gpkg";
  std::string const bowtie = "POLYGON ((110.50 38.50, 110.52 38.52, 110.52 38.50, 110.50 38.52, 110.50 38.50))";
  write_layer(path, "GPKG", {{"X-9", "bow tie", 2020, 1.0, bowtie}});
  ZoneSource src{path, std::nullopt, std::string("site_id"), false};
  auto const zones = read_zones(src, m_utm49, m_warn);
  ASSERT_EQ(zones.size(), 1u);
  EXPECT_TRUE(zones[0].repaired);
  ASSERT_EQ(zones[0].parts.size(), 2u);
  for (auto const& part : zones[0].parts) {
    EXPECT_EQ(part.outer.size(), 4u);  // a closed triangle
    EXPECT_TRUE(part.holes.empty());
  }
  // The repaired parts span the same box as the input's vertices.
  auto const input = expected_parts(bowtie);
  double xmin = 1e300, xmax = -1e300;
  for (auto const& pt : input[0].outer) xmin = std::min(xmin, pt.x), xmax = std::max(xmax, pt.x);
  EXPECT_NEAR(zones[0].bbox[0], xmin, 1e-6);
  EXPECT_NEAR(zones[0].bbox[2], xmax, 1e-6);
  ASSERT_EQ(m_warnings.size(), 1u);
  EXPECT_NE(m_warnings[0].find("bowtie.gpkg: feature X-9: invalid geometry repaired"), std::string::npos)
      << m_warnings[0];

  src.strict = true;
  try {
    read_zones(src, m_utm49, m_warn);
    FAIL() << "strict accepted an invalid geometry";
  } catch (reclaim::input_error const& e) {
    EXPECT_NE(std::string(e.what()).find("feature X-9: invalid geometry"), std::string::npos) << e.what();
  }
}

TEST_F(ZonesTest, EmptyAndNullGeometriesAreKeptWithNoParts) {
  fs::path const path = m_dir / "empty.gpkg";
  auto features = sample_features();
  features.insert(features.begin() + 1, Feature{"E-0", "empty", 2000, 0.0, "POLYGON EMPTY"});
  features.push_back(Feature{"N-0", "null", 2000, 0.0, ""});
  write_layer(path, "GPKG", features);
  auto const zones = read_zones({path, std::nullopt, std::string("site_id"), false}, m_utm49, m_warn);
  ASSERT_EQ(zones.size(), 4u);
  EXPECT_EQ(zones[0].id, "A-1");
  EXPECT_EQ(zones[1].id, "E-0");
  EXPECT_EQ(zones[2].id, "B-2");
  EXPECT_EQ(zones[3].id, "N-0");
  for (int i : {1, 3}) {
    EXPECT_TRUE(zones[i].parts.empty());
    EXPECT_EQ(zones[i].bbox, (std::array<double, 4>{0, 0, 0, 0}));
    EXPECT_EQ(attribute(zones[i], "year"), "2000");
  }
  EXPECT_EQ(zones[0].parts.size(), 1u);
  EXPECT_EQ(m_warnings.size(), 2u);
}

TEST_F(ZonesTest, DuplicateIdsWarn) {
  fs::path const path = m_dir / "dup.geojson";
  auto features = sample_features();
  features[1].site_id = features[0].site_id;
  write_layer(path, "GeoJSON", features);
  auto const zones = read_zones({path, std::nullopt, std::string("site_id"), false}, m_utm49, m_warn);
  EXPECT_EQ(zones.size(), 2u);
  ASSERT_EQ(m_warnings.size(), 1u);
  EXPECT_NE(m_warnings[0].find("'A-1' appears more than once"), std::string::npos) << m_warnings[0];
}

/// The message of the input_error fn throws ("" and a test failure when it throws nothing).
template <class Fn>
std::string input_error_of(Fn&& fn) {
  try {
    fn();
  } catch (reclaim::input_error const& e) {
    return e.what();
  }
  ADD_FAILURE() << "no reclaim::input_error";
  return {};
}

TEST_F(ZonesTest, ALayerWithoutFeaturesIsAnInputErrorNamingFileAndLayer) {
  fs::path const path = m_dir / "none.gpkg";
  write_layer(path, "GPKG", {});
  auto const msg = input_error_of([&] { read_zones({path, std::nullopt, std::nullopt, false}, m_utm49, m_warn); });
  EXPECT_NE(msg.find(path.string() + ": layer 'sites' has no features"), std::string::npos) << msg;
}

TEST_F(ZonesTest, BadSourcesAreInputErrorsNamingTheFile) {
  fs::path const gpkg = m_dir / "zones.gpkg";
  write_layer(gpkg, "GPKG", sample_features());
  auto msg = input_error_of([&] { read_zones({gpkg, std::nullopt, std::string("mine_id"), false}, m_utm49, m_warn); });
  EXPECT_NE(msg.find(gpkg.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("'mine_id'"), std::string::npos) << msg;
  msg = input_error_of([&] { reclaim::io::zone_attribute_names({gpkg, std::nullopt, std::string("mine_id"), false}); });
  EXPECT_NE(msg.find("'mine_id'"), std::string::npos) << msg;

  msg = input_error_of([&] { read_zones({gpkg, std::string("pits"), std::nullopt, false}, m_utm49, m_warn); });
  EXPECT_NE(msg.find(gpkg.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("'pits'"), std::string::npos) << msg;

  fs::path const missing = m_dir / "nope.gpkg";
  msg = input_error_of([&] { read_zones({missing, std::nullopt, std::nullopt, false}, m_utm49, m_warn); });
  EXPECT_NE(msg.find(missing.string()), std::string::npos) << msg;

  fs::path const text = m_dir / "notes.txt";
  std::ofstream(text) << "not a vector file\n";
  msg = input_error_of([&] { read_zones({text, std::nullopt, std::nullopt, false}, m_utm49, m_warn); });
  EXPECT_NE(msg.find(text.string()), std::string::npos) << msg;
}

TEST_F(ZonesTest, NonPolygonalGeometryIsAnInputErrorNamingTheFeature) {
  fs::path const path = m_dir / "points.gpkg";
  write_layer(path, "GPKG", {{"P-1", "shaft", 2019, 0.0, "POINT (110.5 38.5)"}});
  auto const msg =
      input_error_of([&] { read_zones({path, std::nullopt, std::string("site_id"), false}, m_utm49, m_warn); });
  EXPECT_NE(msg.find("feature P-1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Point"), std::string::npos) << msg;
}

class ZonesWithoutCrs : public ZonesTest, public ::testing::WithParamInterface<DriverCase> {};

// GeoPackage stores an "Undefined geographic SRS"; a Shapefile without .prj has none at all.
TEST_P(ZonesWithoutCrs, LayerWithoutCrsNeedsATargetWithoutCrs) {
  fs::path const path = m_dir / GetParam().file;
  write_layer(path, GetParam().driver, sample_features(), 0);
  ZoneSource src{path, std::nullopt, std::string("site_id"), false};
  auto const msg = input_error_of([&] { read_zones(src, m_utm49, m_warn); });
  EXPECT_NE(msg.find("no CRS"), std::string::npos) << msg;
  auto const zones = read_zones(src, "", m_warn);  // both CRS-less: coordinates as stored
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_DOUBLE_EQ(zones[0].parts[0].outer[1].x, 110.50);
  EXPECT_DOUBLE_EQ(zones[0].parts[0].outer[1].y, 38.52);
}

INSTANTIATE_TEST_SUITE_P(Drivers, ZonesWithoutCrs,
                         ::testing::Values(DriverCase{"GPKG", "nocrs.gpkg"}, DriverCase{"ESRI Shapefile", "nocrs.shp"}),
                         [](auto const& case_info) {
                           std::string n = case_info.param.driver;
                           return n == "ESRI Shapefile" ? std::string("Shapefile") : n;
                         });

TEST_F(ZonesTest, CurvedPolygonIsLinearised) {
  fs::path const path = m_dir / "curve.gpkg";
  write_layer(path, "GPKG",
              {{"C-1", "round pit", 2019, 0.0,
                "CURVEPOLYGON (CIRCULARSTRING (110.50 38.50, 110.52 38.50, 110.50 38.50))"}});
  auto const zones = read_zones({path, std::nullopt, std::string("site_id"), false}, m_utm49, m_warn);
  ASSERT_EQ(zones.size(), 1u);
  ASSERT_EQ(zones[0].parts.size(), 1u);
  EXPECT_GT(zones[0].parts[0].outer.size(), 8u);  // a circle, as many short segments
}

TEST_F(ZonesTest, RealMineBoundariesReprojectToUtm49) {
  char const* env = std::getenv("RECLAIM_REAL_DATA");
  fs::path const path = fs::path(env ? env : RECLAIM_REAL_DATA_DIR) / "mine-boundaries/gem_mine_boundaries_polygons.gpkg";
  if (!fs::exists(path)) GTEST_SKIP() << "real data absent: " << path << " (set RECLAIM_REAL_DATA)";
  auto const zones = read_zones({path, std::string("mine_boundaries"), std::nullopt, false}, m_utm49, m_warn);
  ASSERT_EQ(zones.size(), 333u);
  int repaired = 0;
  for (auto const& z : zones) {
    EXPECT_FALSE(z.parts.empty()) << "zone " << z.id;
    EXPECT_LT(z.bbox[0], z.bbox[2]) << "zone " << z.id;
    EXPECT_LT(z.bbox[1], z.bbox[3]) << "zone " << z.id;
    repaired += z.repaired ? 1 : 0;
  }
  // One warning per repaired zone (the file has no duplicate FIDs and no empty geometries).
  EXPECT_EQ(static_cast<std::size_t>(repaired), m_warnings.size());
  EXPECT_GT(repaired, 0);  // the file holds self-intersecting rings (ogrinfo -sql ST_IsValid finds 4)
  for (auto const& w : m_warnings) std::cout << "  warning: " << w << "\n";
}

}  // namespace
