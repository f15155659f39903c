// io_floor: the GDAL I/O a raster-index tool cannot avoid, timed in two parts.
//
//   read+decode   every block of the requested bands, with N threads, each owning its own
//                 GDALDataset (GDAL handles are not thread-safe), via ReadBlock: the
//                 driver's decode and nothing else (no resampling, no type conversion).
//   encode+write  one Float32 band of the same size, written with the output options of
//                 reclaim's COGs (COG driver, DEFLATE, floating-point predictor,
//                 NUM_THREADS=ALL_CPUS, no overviews), closed (flushed) inside the timing.
//
// Between the two (not timed) it computes Sentinel-2 NDVI from the bands it read, so the
// raster it encodes has the same content, and compresses the same, as the index a tool
// writes. floor = read+decode + encode+write: no tool that reads these bands and writes
// that file through GDAL can take less (unless it overlaps reading with writing).
//
// usage: io_floor --input scene.tif --out floor.tif [--bands 3,4,7] [--threads 2]
//                 [--boa-offset -1000] [--driver COG] [--co KEY=VALUE ...]
//   --bands: red, NIR, and optionally an SCL band (classes 3, 8, 9, 10 masked), 1-based.
#include <gdal_priv.h>
#include <cpl_conv.h>
#include <cpl_string.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string input;
  std::string out;
  std::vector<int> bands{3, 4, 7};
  int threads = 2;
  float boa_offset = -1000.f;
  std::string driver = "COG";
  std::vector<std::string> creation_options;
};

[[noreturn]] void fail(std::string const& msg) {
  std::fprintf(stderr, "io_floor: %s\n", msg.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  bool user_co = false;
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("missing value after " + a);
      return argv[++i];
    };
    if (a == "--input") {
      o.input = value();
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--bands") {
      o.bands.clear();
      std::stringstream ss(value());
      for (std::string item; std::getline(ss, item, ',');) o.bands.push_back(std::atoi(item.c_str()));
    } else if (a == "--threads") {
      o.threads = std::atoi(value().c_str());
    } else if (a == "--boa-offset") {
      o.boa_offset = std::strtof(value().c_str(), nullptr);
    } else if (a == "--driver") {
      o.driver = value();
    } else if (a == "--co") {
      if (!user_co) o.creation_options.clear();
      user_co = true;
      o.creation_options.push_back(value());
    } else {
      fail("unknown argument " + a);
    }
  }
  if (o.input.empty() || o.out.empty()) fail("--input and --out are required");
  if (o.bands.size() < 2 || o.bands.size() > 3) fail("--bands takes red,nir[,scl]");
  if (o.threads < 1) fail("--threads must be >= 1");
  if (!user_co) o.creation_options = {"COMPRESS=DEFLATE", "PREDICTOR=FLOATING_POINT", "NUM_THREADS=ALL_CPUS",
                                      "OVERVIEWS=NONE", "BIGTIFF=IF_SAFER"};
  return o;
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct DatasetCloser {
  void operator()(GDALDataset* ds) const noexcept { GDALClose(GDALDataset::ToHandle(ds)); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

DatasetPtr open_or_fail(std::string const& path) {
  DatasetPtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!ds) fail("cannot open " + path + ": " + CPLGetLastErrorMsg());
  return ds;
}

}  // namespace

int main(int argc, char** argv) {
  Options const o = parse(argc, argv);
  GDALAllRegister();

  int width = 0, height = 0, block_w = 0, block_h = 0;
  std::string type_name;
  {
    auto ds = open_or_fail(o.input);
    width = ds->GetRasterXSize();
    height = ds->GetRasterYSize();
    for (int b : o.bands)
      if (b < 1 || b > ds->GetRasterCount()) fail("band " + std::to_string(b) + " not in " + o.input);
    auto* band = ds->GetRasterBand(o.bands[0]);
    band->GetBlockSize(&block_w, &block_h);
    type_name = GDALGetDataTypeName(band->GetRasterDataType());
    for (int b : o.bands) {
      int bw = 0, bh = 0;
      ds->GetRasterBand(b)->GetBlockSize(&bw, &bh);
      if (bw != block_w || bh != block_h) fail("bands have different block sizes");
      if (ds->GetRasterBand(b)->GetRasterDataType() != band->GetRasterDataType()) fail("bands differ in type");
    }
  }
  GDALDataType const type = GDALGetDataTypeByName(type_name.c_str());
  int const type_size = GDALGetDataTypeSizeBytes(type);
  int const blocks_x = (width + block_w - 1) / block_w;
  int const blocks_y = (height + block_h - 1) / block_h;
  std::size_t const pixels = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  std::printf("io_floor: %s: %d x %d, bands", o.input.c_str(), width, height);
  for (int b : o.bands) std::printf(" %d", b);
  std::printf(" (%s, %d x %d blocks), %d read threads\n", type_name.c_str(), block_w, block_h, o.threads);

  // ---- read + decode (timed) ----
  std::vector<std::vector<unsigned char>> planes(o.bands.size(),
                                                 std::vector<unsigned char>(pixels * static_cast<std::size_t>(type_size)));
  std::atomic<int> next_block{0};
  std::atomic<bool> failed{false};
  auto const t_read = Clock::now();
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < o.threads; ++t) {
      pool.emplace_back([&] {
        auto ds = open_or_fail(o.input);
        std::vector<unsigned char> buf(static_cast<std::size_t>(block_w) * block_h * type_size);
        for (int k = next_block++; k < blocks_x * blocks_y && !failed; k = next_block++) {
          int const bx = k % blocks_x, by = k / blocks_x;
          int const valid_w = std::min(block_w, width - bx * block_w);
          int const valid_h = std::min(block_h, height - by * block_h);
          for (std::size_t p = 0; p < o.bands.size(); ++p) {
            if (ds->GetRasterBand(o.bands[p])->ReadBlock(bx, by, buf.data()) != CE_None) {
              std::fprintf(stderr, "io_floor: ReadBlock(%d, %d) failed: %s\n", bx, by, CPLGetLastErrorMsg());
              failed = true;
              return;
            }
            for (int row = 0; row < valid_h; ++row) {
              std::size_t const dst = (static_cast<std::size_t>(by * block_h + row) * width + bx * block_w) * type_size;
              std::memcpy(planes[p].data() + dst, buf.data() + static_cast<std::size_t>(row) * block_w * type_size,
                          static_cast<std::size_t>(valid_w) * type_size);
            }
          }
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  double const read_s = seconds_since(t_read);
  if (failed) return 4;

  // ---- the payload: Sentinel-2 NDVI of what was read (not timed) ----
  std::vector<float> red(pixels), nir(pixels), scl;
  GDALCopyWords64(planes[0].data(), type, type_size, red.data(), GDT_Float32, 4, static_cast<GPtrDiff_t>(pixels));
  GDALCopyWords64(planes[1].data(), type, type_size, nir.data(), GDT_Float32, 4, static_cast<GPtrDiff_t>(pixels));
  if (o.bands.size() == 3) {
    scl.resize(pixels);
    GDALCopyWords64(planes[2].data(), type, type_size, scl.data(), GDT_Float32, 4, static_cast<GPtrDiff_t>(pixels));
  }
  planes.clear();
  planes.shrink_to_fit();
  float const nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float>& ndvi = red;  // in place
  for (std::size_t i = 0; i < pixels; ++i) {
    float const dr = red[i], dn = nir[i];
    bool const masked = !scl.empty() && (scl[i] == 3.f || scl[i] == 8.f || scl[i] == 9.f || scl[i] == 10.f);
    if (masked || dr == 0.f || dn == 0.f || dr >= 65535.f || dn >= 65535.f) {
      ndvi[i] = nan;
      continue;
    }
    float const r = (dr + o.boa_offset) * 1e-4f, n = (dn + o.boa_offset) * 1e-4f;
    float const s = n + r;
    ndvi[i] = s == 0.f ? nan : (n - r) / s;
  }
  nir = {};
  scl = {};

  auto* mem_driver = GetGDALDriverManager()->GetDriverByName("MEM");
  DatasetPtr mem(mem_driver->Create("", width, height, 1, GDT_Float32, nullptr));
  {
    auto src = open_or_fail(o.input);
    double gt[6];
    if (src->GetGeoTransform(gt) == CE_None) mem->SetGeoTransform(gt);
    if (auto const* srs = src->GetSpatialRef()) mem->SetSpatialRef(srs);
  }
  auto* mem_band = mem->GetRasterBand(1);
  mem_band->SetNoDataValue(static_cast<double>(nan));
  if (mem_band->RasterIO(GF_Write, 0, 0, width, height, ndvi.data(), width, height, GDT_Float32, 0, 0, nullptr) !=
      CE_None)
    fail(std::string("MEM write failed: ") + CPLGetLastErrorMsg());
  ndvi = {};

  // ---- encode + write (timed, close included: that is when the last blocks are flushed) ----
  auto* driver = GetGDALDriverManager()->GetDriverByName(o.driver.c_str());
  if (!driver) fail("no GDAL driver " + o.driver);
  CPLStringList co;
  for (auto const& kv : o.creation_options) co.AddString(kv.c_str());
  VSIUnlink(o.out.c_str());
  auto const t_write = Clock::now();
  {
    DatasetPtr out(driver->CreateCopy(o.out.c_str(), mem.get(), FALSE, co.List(), nullptr, nullptr));
    if (!out) fail("CreateCopy " + o.out + " failed: " + CPLGetLastErrorMsg());
  }
  double const write_s = seconds_since(t_write);

  std::printf("io_floor: write %s with %s", o.out.c_str(), o.driver.c_str());
  for (auto const& kv : o.creation_options) std::printf(" %s", kv.c_str());
  std::printf("\nread_decode_s %.3f\nencode_write_s %.3f\nfloor_s %.3f\n", read_s, write_s, read_s + write_s);
  return 0;
}
