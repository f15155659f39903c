// Epoch inventories: the real STAC items of shared/data/real/stac (Earth Search v1 and v0,
// Planetary Computer, USGS Landsat C2 L2) parsed as they are, with the expected band files,
// calibration and masks read from the JSON by hand and from the providers' conventions; CSV
// inventories over GeoTIFFs written here; the filters, the window and every refused input.
#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "reclaim/error.hpp"
#include "reclaim/io/inventory.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using reclaim::input_error;
using reclaim::usage_error;
using reclaim::io::InventoryFilter;
using reclaim::io::InventoryScene;
using reclaim::io::Sensor;
using reclaim::io::SensorOptions;
using reclaim::pixel::Band;

namespace {

fs::path real_stac() {
  char const* env = std::getenv("RECLAIM_REAL_DATA");
  return fs::path(env ? env : RECLAIM_REAL_DATA_DIR) / "stac";
}

#define REQUIRE_REAL_STAC()                                                                               \
  do {                                                                                                    \
    if (!fs::is_directory(real_stac()))                                                                   \
      GTEST_SKIP() << "real STAC items absent: " << real_stac() << " (set RECLAIM_REAL_DATA)";            \
  } while (0)

std::string file_of(InventoryScene const& s, Band b) {
  auto const& ref = s.scene.bands[static_cast<int>(b)];
  return ref ? ref->file.string() : std::string("<none>");
}

reclaim::pixel::BandCalibration const& cal(InventoryScene const& s, Band b) {
  return s.scene.calibration[static_cast<int>(b)];
}

/// Every band of the scene has this calibration.
void expect_calibration(InventoryScene const& s, double scale, double offset, double dn_offset, float nodata) {
  for (int b = 0; b < reclaim::pixel::kBandCount; ++b) {
    auto const& c = s.scene.calibration[b];
    EXPECT_DOUBLE_EQ(c.scale, scale) << s.id << " band " << b;
    EXPECT_DOUBLE_EQ(c.offset, offset) << s.id << " band " << b;
    EXPECT_DOUBLE_EQ(c.dn_offset, dn_offset) << s.id << " band " << b;
    EXPECT_TRUE(c.has_nodata) << s.id;
    EXPECT_EQ(c.nodata, nodata) << s.id;
  }
}

void expect_scl_rule(InventoryScene const& s) {
  // SCL 3 cloud shadow, 8/9 cloud medium/high probability, 10 thin cirrus (the preset); 4 vegetation kept.
  for (float v : {3.f, 8.f, 9.f, 10.f}) EXPECT_TRUE(reclaim::pixel::is_masked(v, s.scene.mask_rule)) << v;
  for (float v : {4.f, 5.f, 6.f, 7.f, 11.f}) EXPECT_FALSE(reclaim::pixel::is_masked(v, s.scene.mask_rule)) << v;
  EXPECT_EQ(s.scene.mask_rule.any_bits, 0u);
}

void expect_qa_pixel_rule(InventoryScene const& s) {
  EXPECT_EQ(s.scene.mask_rule.any_bits, 0x1Fu);  // QA_PIXEL bits 0-4: fill, dilated cloud, cirrus, cloud, shadow
  EXPECT_TRUE(reclaim::pixel::is_masked(float(1u << 3), s.scene.mask_rule));
  EXPECT_FALSE(reclaim::pixel::is_masked(21824.f, s.scene.mask_rule));  // 0x5540: clear land, low confidences
}

SensorOptions plain() { return SensorOptions{}; }

class InventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GDALAllRegister();
    m_dir = fs::temp_directory_path() / ("reclaim_inventory_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  fs::path write(std::string const& name, std::string const& text) {
    fs::path const p = m_dir / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
  fs::path write_json(std::string const& name, json const& doc) { return write(name, doc.dump(1)); }

  static json load(std::string const& name) {
    std::ifstream in(real_stac() / name);
    return json::parse(in);
  }

  /// A small UInt16 GeoTIFF, every band filled with 1000 * band + x.
  void write_tif(fs::path const& path, int bands) {
    auto* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDatasetUniquePtr ds(drv->Create(path.c_str(), 8, 6, bands, GDT_UInt16, nullptr));
    ASSERT_TRUE(ds);
    double gt[6] = {300000, 10, 0, 6100000, 0, -10};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(32755);
    ds->SetSpatialRef(&srs);
    for (int b = 1; b <= bands; ++b) {
      std::vector<std::uint16_t> px(8 * 6);
      for (int i = 0; i < 48; ++i) px[i] = static_cast<std::uint16_t>(1000 * b + i % 8);
      ASSERT_EQ(ds->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, 8, 6, px.data(), 8, 6, GDT_UInt16, 0, 0, nullptr), CE_None);
    }
  }

  /// The exception message of `f`, which must throw E.
  template <class E, class F>
  static std::string message_of(F&& f) {
    try {
      f();
    } catch (E const& e) {
      return e.what();
    } catch (std::exception const& e) {
      ADD_FAILURE() << "wrong exception type: " << e.what();
      return {};
    }
    ADD_FAILURE() << "no exception";
    return {};
  }

  fs::path m_dir;
};

// ---- Earth Search v1 ----------------------------------------------------------------------------

TEST_F(InventoryTest, EarthSearchV1ItemCollection) {
  REQUIRE_REAL_STAC();
  auto const scenes = reclaim::io::read_inventory(real_stac() / "earth-search-v1-39QTA-items.json", plain());
  ASSERT_EQ(scenes.size(), 3u);
  auto const& s = scenes[0];
  EXPECT_EQ(s.id, "S2A_39QTA_20230628_0_L2A");
  EXPECT_EQ(s.datetime, "2023-06-28T07:24:41.632000Z");
  EXPECT_EQ(s.date, "2023-06-28");
  EXPECT_EQ(s.platform, "sentinel-2a");
  ASSERT_TRUE(s.cloud_cover);
  EXPECT_DOUBLE_EQ(*s.cloud_cover, 4.025136);
  ASSERT_TRUE(s.bbox);
  EXPECT_DOUBLE_EQ((*s.bbox)[0], 48.15089336343958);
  EXPECT_DOUBLE_EQ((*s.bbox)[3], 18.983692366107967);
  EXPECT_EQ(s.scene.sensor, Sensor::sentinel2_l2a);
  EXPECT_EQ(s.inventory, real_stac() / "earth-search-v1-39QTA-items.json");
  // The COG assets (keys blue .. swir22), not their "-jp2" twins that carry the same common names.
  std::string const base = "/vsicurl/https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/39/Q/TA/2023/6/"
                           "S2A_39QTA_20230628_0_L2A/";
  EXPECT_EQ(file_of(s, Band::blue), base + "B02.tif");
  EXPECT_EQ(file_of(s, Band::green), base + "B03.tif");
  EXPECT_EQ(file_of(s, Band::red), base + "B04.tif");
  EXPECT_EQ(file_of(s, Band::nir), base + "B08.tif");  // nir (B08), not nir08 (B8A)
  EXPECT_EQ(file_of(s, Band::swir1), base + "B11.tif");
  EXPECT_EQ(file_of(s, Band::swir2), base + "B12.tif");
  for (auto const& b : s.scene.bands) EXPECT_EQ(b->band, 1);
  ASSERT_TRUE(s.scene.mask);
  EXPECT_EQ(s.scene.mask->file.string(), base + "SCL.tif");
  expect_scl_rule(s);
  EXPECT_NE(s.scene.mask_text.find("SCL classes 3,8,9,10"), std::string::npos) << s.scene.mask_text;
  // earthsearch:boa_offset_applied = true, baseline 05.09: the COG DNs already had BOA_ADD_OFFSET
  // added (Element84's convention), so reflectance = DN x 0.0001 (raster:bands scale); neither
  // the -1000 DN offset nor raster:bands' -0.1 is applied again.
  expect_calibration(s, 0.0001, 0.0, 0.0, 0.f);
  EXPECT_TRUE(s.scene.warnings.empty());
  // Two MGRS tiles of one pass share a date; the third item is five days earlier.
  EXPECT_EQ(scenes[1].id, "S2A_39QUA_20230628_0_L2A");
  EXPECT_EQ(scenes[1].date, "2023-06-28");
  EXPECT_EQ(scenes[2].date, "2023-06-23");
  EXPECT_EQ(scenes[2].platform, "sentinel-2b");
  EXPECT_DOUBLE_EQ(*scenes[2].cloud_cover, 0.0);
}

TEST_F(InventoryTest, EarthSearchV1OffsetNotAppliedUsesRasterBandsOffset) {
  REQUIRE_REAL_STAC();
  json doc = load("earth-search-v1-39QTA-items.json");
  doc["features"][0]["properties"]["earthsearch:boa_offset_applied"] = false;
  auto const scenes = reclaim::io::read_inventory(write_json("es.json", doc), plain());
  // DNs as ESA delivered them (+1000): raster:bands scale 0.0001, offset -0.1 = (DN - 1000) / 10000.
  expect_calibration(scenes[0], 0.0001, -0.1, 0.0, 0.f);
}

// ---- Planetary Computer -------------------------------------------------------------------------

TEST_F(InventoryTest, PlanetaryComputerItemCollection) {
  REQUIRE_REAL_STAC();
  auto const scenes = reclaim::io::read_inventory(real_stac() / "site2-2020_jun_jul-35MNM.geojson", plain());
  ASSERT_EQ(scenes.size(), 13u);
  auto const& s = scenes[0];
  EXPECT_EQ(s.id, "S2A_MSIL2A_20200731T080611_R078_T35MNM_20200818T062751");
  EXPECT_EQ(s.datetime, "2020-07-31T08:06:11.024000Z");
  EXPECT_EQ(s.date, "2020-07-31");
  EXPECT_EQ(s.platform, "sentinel-2a");  // "Sentinel-2A"
  EXPECT_DOUBLE_EQ(*s.cloud_cover, 0.004742);
  EXPECT_EQ(s.scene.sensor, Sensor::sentinel2_l2a);
  std::string const base = "/vsicurl/https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/35/M/NM/2020/07/31/"
                           "S2A_MSIL2A_20200731T080611_N0212_R078_T35MNM_20200818T062751.SAFE/GRANULE/"
                           "L2A_T35MNM_A026673_20200731T081835/IMG_DATA/";
  EXPECT_EQ(file_of(s, Band::blue), base + "R10m/T35MNM_20200731T080611_B02_10m.tif");
  EXPECT_EQ(file_of(s, Band::green), base + "R10m/T35MNM_20200731T080611_B03_10m.tif");
  EXPECT_EQ(file_of(s, Band::red), base + "R10m/T35MNM_20200731T080611_B04_10m.tif");
  EXPECT_EQ(file_of(s, Band::nir), base + "R10m/T35MNM_20200731T080611_B08_10m.tif");
  EXPECT_EQ(file_of(s, Band::swir1), base + "R20m/T35MNM_20200731T080611_B11_20m.tif");
  EXPECT_EQ(file_of(s, Band::swir2), base + "R20m/T35MNM_20200731T080611_B12_20m.tif");
  ASSERT_TRUE(s.scene.mask);
  EXPECT_EQ(s.scene.mask->file.string(), base + "R20m/T35MNM_20200731T080611_SCL_20m.tif");
  expect_scl_rule(s);
  // No raster:bands: the preset's 1e-4 and nodata 0; s2:processing_baseline 02.12 < 04.00: no DN offset.
  expect_calibration(s, 0.0001, 0.0, 0.0, 0.f);
  EXPECT_TRUE(s.scene.warnings.empty());
}

TEST_F(InventoryTest, PlanetaryComputerRasterExtensionItem) {
  REQUIRE_REAL_STAC();
  std::string const name = "S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531_raster_ext.json";
  auto const scenes = reclaim::io::read_inventory(real_stac() / name, plain());
  ASSERT_EQ(scenes.size(), 1u);
  auto const& s = scenes[0];
  EXPECT_EQ(s.date, "2019-06-29");
  EXPECT_EQ(s.platform, "sentinel-2b");
  EXPECT_DOUBLE_EQ(*s.cloud_cover, 0.314306);
  std::string const base = "/vsicurl/https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/06/V/VN/2019/06/29/"
                           "S2B_MSIL2A_20190629T212529_N0212_R043_T06VVN_20201006T080531.SAFE/GRANULE/"
                           "L2A_T06VVN_A012081_20190629T212530/IMG_DATA/";
  EXPECT_EQ(file_of(s, Band::red), base + "R10m/T06VVN_20190629T212529_B04_10m.tif");
  EXPECT_EQ(file_of(s, Band::nir), base + "R10m/T06VVN_20190629T212529_B08_10m.tif");
  EXPECT_EQ(s.scene.mask->file.string(), base + "R20m/T06VVN_20190629T212529_SCL_20m.tif");
  // raster:bands gives nodata 0 and no scale; baseline 02.12.
  expect_calibration(s, 0.0001, 0.0, 0.0, 0.f);

  // The same item from baseline 04.00 on: Planetary Computer leaves the DNs as ESA delivers
  // them, so reclaim adds BOA_ADD_OFFSET = -1000 itself.
  json doc = load(name);
  doc["properties"]["s2:processing_baseline"] = "04.00";
  auto const later = reclaim::io::read_inventory(write_json("pc.json", doc), plain());
  expect_calibration(later[0], 0.0001, 0.0, -1000.0, 0.f);
  // --boa-offset wins.
  SensorOptions o;
  o.boa_offset = 0;
  expect_calibration(reclaim::io::read_inventory(write_json("pc.json", doc), o)[0], 0.0001, 0.0, 0.0, 0.f);
}

// ---- Earth Search v0 ----------------------------------------------------------------------------

TEST_F(InventoryTest, EarthSearchV0BandKeysWithoutEoBands) {
  REQUIRE_REAL_STAC();
  auto const scenes = reclaim::io::read_inventory(real_stac() / "S2A_28QCH_20200714_0_L2A.json", plain());
  ASSERT_EQ(scenes.size(), 1u);
  auto const& s = scenes[0];
  EXPECT_EQ(s.id, "S2A_28QCH_20200714_0_L2A");
  EXPECT_EQ(s.datetime, "2020-07-14T11:55:52Z");
  EXPECT_EQ(s.date, "2020-07-14");
  EXPECT_EQ(s.platform, "sentinel-2a");
  EXPECT_DOUBLE_EQ(*s.cloud_cover, 2.36);
  EXPECT_EQ(s.scene.sensor, Sensor::sentinel2_l2a);
  std::string const base = "/vsicurl/https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/2020/"
                           "S2A_28QCH_20200714_0_L2A/";
  EXPECT_EQ(file_of(s, Band::blue), base + "B02.tif");
  EXPECT_EQ(file_of(s, Band::green), base + "B03.tif");
  EXPECT_EQ(file_of(s, Band::red), base + "B04.tif");
  EXPECT_EQ(file_of(s, Band::nir), base + "B08.tif");
  EXPECT_EQ(file_of(s, Band::swir1), base + "B11.tif");
  EXPECT_EQ(file_of(s, Band::swir2), base + "B12.tif");
  EXPECT_EQ(s.scene.mask->file.string(), base + "SCL.tif");
  expect_scl_rule(s);
  // sentinel:product_id ..._N0214_...: baseline 02.14, no offset.
  expect_calibration(s, 0.0001, 0.0, 0.0, 0.f);
  EXPECT_TRUE(s.scene.warnings.empty());
}

// ---- USGS Landsat Collection 2 Level-2 -----------------------------------------------------------

TEST_F(InventoryTest, UsgsLandsat8And7) {
  REQUIRE_REAL_STAC();
  auto const l8 = reclaim::io::read_inventory(real_stac() / "LC08_L2SP_028030_20200114_20200824_02_T1_SR.json", plain());
  ASSERT_EQ(l8.size(), 1u);
  auto const& s = l8[0];
  EXPECT_EQ(s.date, "2020-01-14");
  EXPECT_EQ(s.datetime, "2020-01-14T17:05:46.732651Z");
  EXPECT_EQ(s.platform, "landsat-8");  // "LANDSAT_8"
  EXPECT_DOUBLE_EQ(*s.cloud_cover, 8.18);
  EXPECT_EQ(s.scene.sensor, Sensor::landsat_c2l2);
  std::string const base = "/vsicurl/https://landsatlook.usgs.gov/data/collection02/level-2/standard/oli-tirs/2020/028/030/"
                           "LC08_L2SP_028030_20200114_20200824_02_T1/LC08_L2SP_028030_20200114_20200824_02_T1_";
  EXPECT_EQ(file_of(s, Band::blue), base + "SR_B2.TIF");
  EXPECT_EQ(file_of(s, Band::green), base + "SR_B3.TIF");
  EXPECT_EQ(file_of(s, Band::red), base + "SR_B4.TIF");
  EXPECT_EQ(file_of(s, Band::nir), base + "SR_B5.TIF");  // nir08
  EXPECT_EQ(file_of(s, Band::swir1), base + "SR_B6.TIF");
  EXPECT_EQ(file_of(s, Band::swir2), base + "SR_B7.TIF");
  EXPECT_EQ(s.scene.mask->file.string(), base + "QA_PIXEL.TIF");
  expect_qa_pixel_rule(s);
  // USGS C2 L2 surface reflectance: 2.75e-5 x DN - 0.2, fill 0.
  expect_calibration(s, 2.75e-5, -0.2, 0.0, 0.f);

  auto const l7 = reclaim::io::read_inventory(real_stac() / "LE07_L2SP_044033_20210329_20210424_02_T1_SR.json", plain());
  ASSERT_EQ(l7.size(), 1u);
  std::string const base7 = "/vsicurl/https://landsatlook.usgs.gov/data/collection02/level-2/standard/etm/2021/044/033/"
                            "LE07_L2SP_044033_20210329_20210424_02_T1/LE07_L2SP_044033_20210329_20210424_02_T1_";
  EXPECT_EQ(l7[0].platform, "landsat-7");
  EXPECT_EQ(l7[0].date, "2021-03-29");
  EXPECT_DOUBLE_EQ(*l7[0].cloud_cover, 0.0);
  EXPECT_EQ(file_of(l7[0], Band::blue), base7 + "SR_B1.TIF");  // ETM+ numbers its bands differently
  EXPECT_EQ(file_of(l7[0], Band::red), base7 + "SR_B3.TIF");
  EXPECT_EQ(file_of(l7[0], Band::nir), base7 + "SR_B4.TIF");
  EXPECT_EQ(file_of(l7[0], Band::swir1), base7 + "SR_B5.TIF");
  EXPECT_EQ(file_of(l7[0], Band::swir2), base7 + "SR_B7.TIF");
  EXPECT_EQ(l7[0].scene.mask->file.string(), base7 + "QA_PIXEL.TIF");
  expect_calibration(l7[0], 2.75e-5, -0.2, 0.0, 0.f);
}

// ---- options --------------------------------------------------------------------------------------

TEST_F(InventoryTest, SensorOptionsOnStac) {
  REQUIRE_REAL_STAC();
  fs::path const es = real_stac() / "earth-search-v1-39QTA-items.json";
  SensorOptions bands;
  bands.band_specs[Band::red] = "B04.tif";
  EXPECT_NE(message_of<usage_error>([&] { (void)reclaim::io::read_inventory(es, bands); }).find("--bands red=B04.tif"),
            std::string::npos);
  SensorOptions mask_file;
  mask_file.mask_band = "scl.tif";
  EXPECT_NE(message_of<usage_error>([&] { (void)reclaim::io::read_inventory(es, mask_file); }).find("--mask-band"),
            std::string::npos);

  SensorOptions o;
  o.mask_values = std::vector<std::uint32_t>{8, 9};
  o.nodata = 65535.f;
  auto const s = reclaim::io::read_inventory(es, o)[0];
  EXPECT_TRUE(reclaim::pixel::is_masked(8.f, s.scene.mask_rule));
  EXPECT_FALSE(reclaim::pixel::is_masked(3.f, s.scene.mask_rule));
  EXPECT_EQ(cal(s, Band::red).nodata, 65535.f);

  SensorOptions none;
  none.mask_band = "none";
  auto const unmasked = reclaim::io::read_inventory(es, none)[0];
  EXPECT_FALSE(unmasked.scene.mask);
  EXPECT_EQ(unmasked.scene.mask_text, "none");

  SensorOptions landsat;
  landsat.sensor = Sensor::landsat_c2l2;
  landsat.sensor_given = true;
  std::string const msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(es, landsat); });
  EXPECT_NE(msg.find("item S2A_39QTA_20230628_0_L2A"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--sensor landsat-c2l2"), std::string::npos) << msg;
}

// ---- hrefs ----------------------------------------------------------------------------------------

json local_item(std::string const& id) {
  json item = {{"type", "Feature"},
               {"stac_version", "1.0.0"},
               {"id", id},
               {"collection", "sentinel-2-l2a"},
               {"properties", {{"datetime", "2021-07-14T23:30:00-02:00"}, {"platform", "sentinel-2b"}, {"s2:processing_baseline", "03.01"}}},
               {"assets", json::object()}};
  char const* names[] = {"blue", "green", "red", "nir", "swir16", "swir22"};
  char const* files[] = {"B02.tif", "B03.tif", "B04.tif", "B08.tif", "B11.tif", "B12.tif"};
  for (int b = 0; b < 6; ++b)
    item["assets"][names[b]] = {{"href", std::string("./") + id + "/" + files[b]}, {"eo:bands", {{{"common_name", names[b]}}}}};
  item["assets"]["scl"] = {{"href", id + "/SCL.tif"}};
  return item;
}

TEST_F(InventoryTest, HrefsRelativeAbsoluteAndVirtual) {
  json item = local_item("T1");
  item["assets"]["blue"]["href"] = "s3://sentinel-cogs/x/B02.tif";
  item["assets"]["green"]["href"] = "/vsicurl/https://example.org/B03.tif";
  item["assets"]["swir22"]["href"] = (m_dir / "abs" / "B12.tif").string();
  item["assets"]["swir16"]["href"] = "file://" + (m_dir / "T1" / "B11.tif").string();
  fs::path const json_file = write_json("catalogue/items.json", item);
  for (char const* f : {"B04.tif", "B08.tif", "B11.tif", "SCL.tif"}) {
    fs::create_directories(m_dir / "catalogue" / "T1");
    write_tif(m_dir / "catalogue" / "T1" / f, 1);
  }
  auto const s = reclaim::io::read_inventory(json_file, plain())[0];
  EXPECT_EQ(file_of(s, Band::blue), "/vsis3/sentinel-cogs/x/B02.tif");
  EXPECT_EQ(file_of(s, Band::green), "/vsicurl/https://example.org/B03.tif");
  EXPECT_EQ(fs::path(file_of(s, Band::red)), m_dir / "catalogue" / "T1" / "B04.tif");  // relative to the JSON's folder
  EXPECT_EQ(fs::path(file_of(s, Band::swir1)), m_dir / "T1" / "B11.tif");
  EXPECT_EQ(fs::path(file_of(s, Band::swir2)), m_dir / "abs" / "B12.tif");
  EXPECT_EQ(s.scene.mask->file, m_dir / "catalogue" / "T1" / "SCL.tif");
  // The relative hrefs resolve to files GDAL opens.
  for (Band b : {Band::red, Band::nir}) {
    GDALDatasetUniquePtr ds(GDALDataset::Open(file_of(s, b).c_str(), GDAL_OF_RASTER));
    EXPECT_TRUE(ds) << file_of(s, b);
  }
  // 23:30 at UTC-2 is the next day in UTC.
  EXPECT_EQ(s.date, "2021-07-15");
  EXPECT_EQ(s.datetime, "2021-07-14T23:30:00-02:00");
}

// ---- refused STAC inputs --------------------------------------------------------------------------

TEST_F(InventoryTest, MissingBandAsset) {
  json item = local_item("S2B_X");
  item["assets"].erase("red");
  fs::path const f = write_json("items.json", json{{"type", "FeatureCollection"}, {"features", json::array({item})}});
  std::string const msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(f, plain()); });
  EXPECT_NE(msg.find(f.string() + ": item S2B_X: no asset for band red"), std::string::npos) << msg;
  EXPECT_NE(msg.find("common name red"), std::string::npos) << msg;
  EXPECT_NE(msg.find("B04"), std::string::npos) << msg;
}

TEST_F(InventoryTest, MissingMaskAssetWarns) {
  json item = local_item("S2B_Y");
  item["assets"].erase("scl");
  auto const s = reclaim::io::read_inventory(write_json("items.json", item), plain())[0];
  EXPECT_FALSE(s.scene.mask);
  ASSERT_EQ(s.scene.warnings.size(), 1u);
  EXPECT_NE(s.scene.warnings[0].find("no SCL asset: not cloud-masked"), std::string::npos) << s.scene.warnings[0];
}

TEST_F(InventoryTest, NoBaselineWarns) {
  json item = local_item("S2B_Z");
  item["properties"].erase("s2:processing_baseline");
  auto const s = reclaim::io::read_inventory(write_json("items.json", item), plain())[0];
  EXPECT_DOUBLE_EQ(cal(s, Band::red).dn_offset, 0.0);
  ASSERT_EQ(s.scene.warnings.size(), 1u);
  EXPECT_NE(s.scene.warnings[0].find("no s2:processing_baseline"), std::string::npos) << s.scene.warnings[0];
}

TEST_F(InventoryTest, InvalidJson) {
  fs::path const f = write("broken.json", "{\"type\": \"Feature\", \"id\": ");
  std::string const msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(f, plain()); });
  EXPECT_NE(msg.find(f.string() + ": not valid JSON"), std::string::npos) << msg;
  std::string const absent = message_of<input_error>([&] { (void)reclaim::io::read_inventory(m_dir / "none.json", plain()); });
  EXPECT_NE(absent.find("none.json: no such file"), std::string::npos) << absent;
}

TEST_F(InventoryTest, NonStacJson) {
  fs::path const poly = write_json("poly.json", json{{"type", "Polygon"}, {"coordinates", json::array()}});
  std::string msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(poly, plain()); });
  EXPECT_NE(msg.find("poly.json: not a STAC Item or ItemCollection"), std::string::npos) << msg;
  json feature = {{"type", "Feature"}, {"properties", {{"name", "pit"}}}, {"geometry", nullptr}};
  json zones = {{"type", "FeatureCollection"}, {"features", json::array({feature})}};
  fs::path const plain_geojson = write_json("zones.geojson", zones);
  msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(plain_geojson, plain()); });
  EXPECT_NE(msg.find("zones.geojson: feature 1: not a STAC item (no \"assets\" object)"), std::string::npos) << msg;
  fs::path const array = write("list.json", "[1, 2]");
  msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(array, plain()); });
  EXPECT_NE(msg.find("not a STAC Item or ItemCollection"), std::string::npos) << msg;
}

TEST_F(InventoryTest, StacCollectionIsNotAnInventory) {
  REQUIRE_REAL_STAC();
  std::string const msg = message_of<input_error>(
      [&] { (void)reclaim::io::read_inventory(real_stac() / "sentinel-2-l2a.collection.json", plain()); });
  EXPECT_NE(msg.find("a STAC Collection, not an Item or ItemCollection"), std::string::npos) << msg;
}

TEST_F(InventoryTest, InventoryPaths) {
  EXPECT_TRUE(reclaim::io::is_inventory_path("a/items.json"));
  EXPECT_TRUE(reclaim::io::is_inventory_path("items.GeoJSON"));
  EXPECT_TRUE(reclaim::io::is_inventory_path("scenes.csv"));
  EXPECT_FALSE(reclaim::io::is_inventory_path("scene.tif"));
  EXPECT_FALSE(reclaim::io::is_inventory_path("S2A.SAFE"));
  std::string const msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory("scene.tif", plain()); });
  EXPECT_NE(msg.find("scene.tif: not an inventory"), std::string::npos) << msg;
}

// ---- CSV -----------------------------------------------------------------------------------------

TEST_F(InventoryTest, CsvInventory) {
  // Seven bands: blue .. swir2 then SCL (resolve_scene's documented default order).
  fs::create_directories(m_dir / "scenes");
  write_tif(m_dir / "scenes" / "s2_0601.tif", 7);
  write_tif(m_dir / "scenes" / "ls_0605.tif", 7);
  fs::path const csv = write("inv.csv",
                             "path,datetime,sensor,cloud_cover,platform\n"
                             "scenes/s2_0601.tif,2019-06-01T10:00:00Z,sentinel2-l2a,12.5,Sentinel-2A\n"
                             "\n"
                             "\"scenes/ls_0605.tif\",2019-06-05,landsat-c2l2,,LANDSAT_8\n");
  auto const scenes = reclaim::io::read_inventory(csv, plain());
  ASSERT_EQ(scenes.size(), 2u);
  auto const& s2 = scenes[0];
  EXPECT_EQ(s2.id, "scenes/s2_0601.tif");
  EXPECT_EQ(s2.date, "2019-06-01");
  EXPECT_EQ(s2.platform, "sentinel-2a");
  EXPECT_DOUBLE_EQ(*s2.cloud_cover, 12.5);
  EXPECT_EQ(s2.inventory, csv);
  EXPECT_EQ(s2.scene.sensor, Sensor::sentinel2_l2a);
  for (int b = 0; b < 6; ++b) {
    ASSERT_TRUE(s2.scene.bands[b]);
    EXPECT_EQ(s2.scene.bands[b]->file, m_dir / "scenes" / "s2_0601.tif");
    EXPECT_EQ(s2.scene.bands[b]->band, b + 1);
  }
  ASSERT_TRUE(s2.scene.mask);
  EXPECT_EQ(s2.scene.mask->band, 7);
  expect_scl_rule(s2);
  EXPECT_DOUBLE_EQ(cal(s2, Band::red).scale, 1e-4);
  auto const& ls = scenes[1];
  EXPECT_EQ(ls.date, "2019-06-05");
  EXPECT_FALSE(ls.cloud_cover);
  EXPECT_EQ(ls.platform, "landsat-8");
  EXPECT_EQ(ls.scene.sensor, Sensor::landsat_c2l2);
  expect_calibration(ls, 2.75e-5, -0.2, 0.0, 0.f);
  expect_qa_pixel_rule(ls);
}

TEST_F(InventoryTest, CsvErrors) {
  fs::create_directories(m_dir / "scenes");
  write_tif(m_dir / "scenes" / "a.tif", 7);
  auto expect_error = [&](std::string const& name, std::string const& text, std::string const& needle) {
    fs::path const f = write(name, text);
    std::string const msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(f, plain()); });
    EXPECT_NE(msg.find(f.string() + ": " + needle), std::string::npos) << msg;
  };
  expect_error("no_sensor.csv", "path,datetime\nscenes/a.tif,2019-06-01\n", "no 'sensor' column");
  expect_error("unknown.csv", "path,datetime,sensor,cloud\nscenes/a.tif,2019-06-01,landsat,3\n",
               "column 'cloud' is not one of");
  expect_error("bad_date.csv", "path,datetime,sensor\nscenes/a.tif,2019-06-01,landsat\nscenes/a.tif,2019-02-30,landsat\n",
               "row 3: datetime '2019-02-30' is not an ISO 8601 date");
  expect_error("bad_sensor.csv", "path,datetime,sensor\nscenes/a.tif,2019-06-01,modis\n", "row 2: sensor 'modis' is not");
  expect_error("bad_cloud.csv", "path,datetime,sensor,cloud_cover\nscenes/a.tif,2019-06-01,landsat,lots\n",
               "row 2: cloud_cover 'lots' is not a percentage");
  expect_error("fields.csv", "path,datetime,sensor\nscenes/a.tif,2019-06-01\n", "row 2: 2 fields, the header has 3");
  expect_error("missing.csv", "path,datetime,sensor\nscenes/nope.tif,2019-06-01,landsat\n", "row 2: ");
  expect_error("empty.csv", "", "empty");
  // The missing file is named as well.
  fs::path const f = m_dir / "missing.csv";
  std::string const msg = message_of<input_error>([&] { (void)reclaim::io::read_inventory(f, plain()); });
  EXPECT_NE(msg.find("nope.tif"), std::string::npos) << msg;
  // A band file cannot be every row's band.
  SensorOptions o;
  o.band_specs[Band::red] = "red.tif";
  fs::path const ok = write("ok.csv", "path,datetime,sensor\nscenes/a.tif,2019-06-01,landsat\n");
  EXPECT_NE(message_of<usage_error>([&] { (void)reclaim::io::read_inventory(ok, o); }).find("--bands red=red.tif"),
            std::string::npos);
}

// ---- filters, window, dates -----------------------------------------------------------------------

TEST_F(InventoryTest, FilterRealItemCollection) {
  REQUIRE_REAL_STAC();
  auto scenes = reclaim::io::read_inventory(real_stac() / "site2-2020_jun_jul-35MNM.geojson", plain());
  InventoryFilter f = reclaim::io::parse_window("2020-06-01/2020-06-30");
  f.max_cloud = 5;
  std::vector<std::string> dropped;
  auto const kept = reclaim::io::filter_inventory(scenes, f, &dropped);
  // June items (from the JSON): 06-01 6.477739 %, 06-06 0.973945, 06-11 1.206609, 06-16 0.020833,
  // 06-21 1.042966, 06-26 5.859933: four at or under 5 %, oldest first.
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[0].date, "2020-06-06");
  EXPECT_EQ(kept[1].date, "2020-06-11");
  EXPECT_EQ(kept[2].date, "2020-06-16");
  EXPECT_EQ(kept[3].date, "2020-06-21");
  EXPECT_EQ(dropped.size(), 9u);
  bool saw_cloud = false, saw_after = false;
  for (auto const& d : dropped) {
    saw_cloud = saw_cloud || d.find("cloud cover 6.477739% above the maximum 5%") != std::string::npos;
    saw_after = saw_after || d.find("after the window end 2020-06-30") != std::string::npos;
  }
  EXPECT_TRUE(saw_cloud && saw_after);

  InventoryFilter by_platform;
  by_platform.platforms = {"SENTINEL-2B"};
  auto const b = reclaim::io::filter_inventory(kept, by_platform);
  ASSERT_EQ(b.size(), 2u);  // 06-06 and 06-16 are Sentinel-2B
  EXPECT_EQ(b[0].date, "2020-06-06");
  EXPECT_EQ(b[1].date, "2020-06-16");
}

TEST_F(InventoryTest, FilterKeepsUnknownCloudAndSortsByInstant) {
  std::vector<InventoryScene> s(3);
  s[0].id = "b";
  s[0].datetime = "2020-01-02T08:00:00+02:00";  // 06:00 UTC
  s[1].id = "a";
  s[1].datetime = "2020-01-02T07:00:00Z";
  s[2].id = "c";
  s[2].datetime = "2020-01-02T06:00:00Z";
  for (auto& x : s) x.date = *reclaim::io::utc_date(x.datetime);
  InventoryFilter f;
  f.max_cloud = 10;
  auto const kept = reclaim::io::filter_inventory(s, f);
  ASSERT_EQ(kept.size(), 3u);  // no cloud cover: kept
  EXPECT_EQ(kept[0].id, "b");   // 06:00 UTC, ties broken by id
  EXPECT_EQ(kept[1].id, "c");
  EXPECT_EQ(kept[2].id, "a");
}

TEST(InventoryWindow, ParsesAndRefuses) {
  auto const w = reclaim::io::parse_window("2019-06-01/2019-09-30");
  EXPECT_EQ(*w.start, "2019-06-01");
  EXPECT_EQ(*w.end, "2019-09-30");
  auto const open = reclaim::io::parse_window("2019-06-01/..");
  EXPECT_EQ(*open.start, "2019-06-01");
  EXPECT_FALSE(open.end);
  EXPECT_EQ(reclaim::io::parse_window("2020-02-29/2020-02-29").start, "2020-02-29");
  EXPECT_THROW((void)reclaim::io::parse_window("2019-09-30/2019-06-01"), input_error);
  EXPECT_THROW((void)reclaim::io::parse_window("2019-02-29/2019-03-01"), input_error);
  EXPECT_THROW((void)reclaim::io::parse_window("2019-06-01"), input_error);
  EXPECT_THROW((void)reclaim::io::parse_window("2019-6-1/2019-09-30"), input_error);
  EXPECT_THROW((void)reclaim::io::parse_window("../.."), input_error);
  try {
    (void)reclaim::io::parse_window("2019-09-30/2019-06-01");
  } catch (input_error const& e) {
    EXPECT_NE(std::string(e.what()).find("the start 2019-09-30 is after the end 2019-06-01"), std::string::npos) << e.what();
  }
}

TEST(InventoryDates, UtcDate) {
  EXPECT_EQ(reclaim::io::utc_date("2020-07-14T11:55:52Z"), "2020-07-14");
  EXPECT_EQ(reclaim::io::utc_date("2020-12-31T23:30:00-01:00"), "2021-01-01");
  EXPECT_EQ(reclaim::io::utc_date("2020-03-01T00:30:00+05:30"), "2020-02-29");
  EXPECT_EQ(reclaim::io::utc_date("2019-06-01"), "2019-06-01");
  EXPECT_EQ(reclaim::io::utc_date("2019-06-01T10:00:00.123456Z"), "2019-06-01");
  EXPECT_FALSE(reclaim::io::utc_date("2019-13-01"));
  EXPECT_FALSE(reclaim::io::utc_date("yesterday"));
  EXPECT_FALSE(reclaim::io::utc_date("2019-06-01T25:00:00Z"));
}

}  // namespace
