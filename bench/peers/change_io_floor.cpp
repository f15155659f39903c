// change_io_floor: the GDAL I/O a two-epoch change tool cannot avoid, timed in two parts.
//
//   read+decode   every block of the bands the default change rules need (blue, green, red,
//                 NIR, SWIR1 and the quality band) of BOTH epochs, with N threads, each owning
//                 its own GDALDataset per epoch (GDAL handles are not thread-safe), via
//                 ReadBlock: the driver's decode and nothing else.
//   encode+write  the two products with the output options of reclaim's COGs (COG driver,
//                 DEFLATE, PREDICTOR=YES: horizontal for the Byte class raster, floating-point
//                 for dNDVI; BLOCKSIZE=512, NUM_THREADS=ALL_CPUS, no overviews), one after the
//                 other, each closed (flushed) inside the timing.
//
// Between the two (not timed) it computes the products from what it read, with the default
// rules of docs/change.md in double precision, so the rasters it encodes have the same content,
// and compress the same, as the ones a tool writes (and can be compared with them).
// floor = read+decode + encode+write: no tool that reads these bands and writes those files
// through GDAL can take less (unless it overlaps reading with writing).
//
// --read-only (the floor of `reclaim assess`, bench/peers/compare_assess.sh): read+decode only,
// nothing kept, computed or written. The blocks go in the order reclaim's readers take them:
// row-major over the grid, each block of the before scene then the same block of the after
// scene (a reclaim tile reads both epochs of its window), the N threads taking the next block
// pair as they finish one. Memory stays at one block per thread, not both scenes.
//
// usage: change_io_floor --before 2019.tif --after 2025.tif --out-class class.tif
//                        --out-dndvi dndvi.tif [--bands 1,2,3,4,5,7] [--threads 2] [--boa-offset 0]
//        change_io_floor --before 2019.tif --after 2025.tif --read-only [--bands ...] [--threads 2]
//   --bands: blue, green, red, NIR, SWIR1, quality (SCL: classes 3, 8, 9, 10 masked), 1-based,
//   the same in both files. Sentinel-2 rule: reflectance = (DN + boa) * 1e-4, DN 0 or >= 65535
//   invalid.
#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal_priv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string before, after, out_class, out_dndvi;
  std::vector<int> bands{1, 2, 3, 4, 5, 7};
  int threads = 2;
  double boa_offset = 0.0;
  bool read_only = false;
};

[[noreturn]] void fail(std::string const& msg) {
  std::fprintf(stderr, "change_io_floor: %s\n", msg.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("missing value after " + a);
      return argv[++i];
    };
    if (a == "--before") o.before = value();
    else if (a == "--after") o.after = value();
    else if (a == "--out-class") o.out_class = value();
    else if (a == "--out-dndvi") o.out_dndvi = value();
    else if (a == "--threads") o.threads = std::atoi(value().c_str());
    else if (a == "--boa-offset") o.boa_offset = std::strtod(value().c_str(), nullptr);
    else if (a == "--read-only") o.read_only = true;
    else if (a == "--bands") {
      o.bands.clear();
      std::stringstream ss(value());
      for (std::string item; std::getline(ss, item, ',');) o.bands.push_back(std::atoi(item.c_str()));
    } else {
      fail("unknown argument " + a);
    }
  }
  if (o.before.empty() || o.after.empty()) fail("--before and --after are required");
  if (o.read_only && (!o.out_class.empty() || !o.out_dndvi.empty()))
    fail("--read-only writes nothing: drop --out-class and --out-dndvi");
  if (!o.read_only && (o.out_class.empty() || o.out_dndvi.empty()))
    fail("--out-class and --out-dndvi are required (or --read-only)");
  if (o.bands.size() != 6) fail("--bands takes blue,green,red,nir,swir1,quality");
  if (o.threads < 1) fail("--threads must be >= 1");
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

double const kNaN = std::numeric_limits<double>::quiet_NaN();

double nd(double a, double b) {
  double const s = a + b;
  return s == 0.0 ? kNaN : (a - b) / s;
}

struct Epoch {
  double ndvi = kNaN, bsi = kNaN, mndwi = kNaN;
};

// planes: blue, green, red, nir, swir1, quality (UInt16) of one epoch
Epoch epoch_at(std::vector<std::vector<std::uint16_t>> const& planes, std::size_t e, std::size_t i, double boa) {
  Epoch r;
  std::uint16_t const q = planes[e * 6 + 5][i];
  if (q == 3 || q == 8 || q == 9 || q == 10) return r;
  double rho[5];
  for (int b = 0; b < 5; ++b) {
    std::uint16_t const dn = planes[e * 6 + b][i];
    rho[b] = (dn == 0 || dn >= 65535) ? kNaN : (static_cast<double>(dn) + boa) * 1e-4;
  }
  r.ndvi = nd(rho[3], rho[2]);
  r.bsi = nd(rho[4] + rho[2], rho[3] + rho[0]);
  r.mndwi = nd(rho[1], rho[4]);
  return r;
}

// The default rule table of docs/change.md, first match wins.
std::uint8_t classify(Epoch const& b, Epoch const& a) {
  if (std::isnan(b.ndvi) || std::isnan(a.ndvi) || std::isnan(b.bsi) || std::isnan(a.bsi) || std::isnan(b.mndwi) ||
      std::isnan(a.mndwi))
    return 0;
  double const d = a.ndvi - b.ndvi;
  if (b.mndwi > 0.0 || a.mndwi > 0.0) return 6;
  if (d <= -0.15) return 5;
  if (b.ndvi < 0.2 && b.bsi > 0.0 && a.ndvi >= 0.4) return 2;
  if (d >= 0.15 && a.ndvi < 0.4) return 3;
  if (b.ndvi >= 0.4 && a.ndvi >= 0.4) return 4;
  if (b.ndvi < 0.2 && b.bsi > 0.0 && a.ndvi < 0.2 && a.bsi > 0.0) return 1;
  return 255;
}

// --read-only: decode every block of the bands, before then after per block, and keep nothing.
int read_only_floor(Options const& o, std::string const (&paths)[2], int blocks_x, int blocks_y, int block_w,
                    int block_h) {
  int const blocks = blocks_x * blocks_y;
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  auto const t_read = Clock::now();
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < o.threads; ++t) {
      pool.emplace_back([&] {
        DatasetPtr ds[2] = {open_or_fail(paths[0]), open_or_fail(paths[1])};
        std::vector<std::uint16_t> buf(static_cast<std::size_t>(block_w) * block_h);
        for (int k = next++; k < blocks && !failed; k = next++) {
          int const bx = k % blocks_x, by = k / blocks_x;
          for (int e = 0; e < 2; ++e) {
            for (int b : o.bands) {
              if (ds[e]->GetRasterBand(b)->ReadBlock(bx, by, buf.data()) != CE_None) {
                std::fprintf(stderr, "change_io_floor: ReadBlock(%d, %d) failed: %s\n", bx, by, CPLGetLastErrorMsg());
                failed = true;
                return;
              }
            }
          }
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  double const read_s = seconds_since(t_read);
  if (failed) return 4;
  std::printf("read_decode_s %.3f\nfloor_s %.3f\n", read_s, read_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options const o = parse(argc, argv);
  GDALAllRegister();
  std::string const paths[2] = {o.before, o.after};

  int width = 0, height = 0, block_w = 0, block_h = 0;
  double gt[6] = {0, 1, 0, 0, 0, 1};
  bool has_gt = false;
  std::string wkt;
  for (int e = 0; e < 2; ++e) {
    auto ds = open_or_fail(paths[e]);
    if (e == 0) {
      width = ds->GetRasterXSize();
      height = ds->GetRasterYSize();
      has_gt = ds->GetGeoTransform(gt) == CE_None;
      if (auto const* srs = ds->GetSpatialRef()) {
        char* w = nullptr;
        srs->exportToWkt(&w);
        wkt = w ? w : "";
        CPLFree(w);
      }
      ds->GetRasterBand(o.bands[0])->GetBlockSize(&block_w, &block_h);
    } else if (ds->GetRasterXSize() != width || ds->GetRasterYSize() != height) {
      fail("the two epochs differ in size (this floor reads same-grid pairs only)");
    }
    for (int b : o.bands) {
      if (b < 1 || b > ds->GetRasterCount()) fail("band " + std::to_string(b) + " not in " + paths[e]);
      auto* band = ds->GetRasterBand(b);
      int bw = 0, bh = 0;
      band->GetBlockSize(&bw, &bh);
      if (bw != block_w || bh != block_h) fail("bands have different block sizes");
      if (band->GetRasterDataType() != GDT_UInt16) fail("bands must be UInt16");
    }
  }
  int const blocks_x = (width + block_w - 1) / block_w;
  int const blocks_y = (height + block_h - 1) / block_h;
  int const blocks = blocks_x * blocks_y;
  std::size_t const pixels = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  std::printf("change_io_floor: %d x %d, 2 epochs x bands", width, height);
  for (int b : o.bands) std::printf(" %d", b);
  std::printf(" (UInt16, %d x %d blocks), %d read threads%s\n", block_w, block_h, o.threads,
              o.read_only ? ", read only" : "");

  if (o.read_only) return read_only_floor(o, paths, blocks_x, blocks_y, block_w, block_h);

  // ---- read + decode (timed): both epochs, all six bands ----
  std::vector<std::vector<std::uint16_t>> planes(12, std::vector<std::uint16_t>(pixels));
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  auto const t_read = Clock::now();
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < o.threads; ++t) {
      pool.emplace_back([&] {
        DatasetPtr ds[2] = {open_or_fail(paths[0]), open_or_fail(paths[1])};
        std::vector<std::uint16_t> buf(static_cast<std::size_t>(block_w) * block_h);
        for (int k = next++; k < 2 * blocks && !failed; k = next++) {
          int const e = k / blocks, kb = k % blocks;
          int const bx = kb % blocks_x, by = kb / blocks_x;
          int const valid_w = std::min(block_w, width - bx * block_w);
          int const valid_h = std::min(block_h, height - by * block_h);
          for (std::size_t p = 0; p < 6; ++p) {
            if (ds[e]->GetRasterBand(o.bands[p])->ReadBlock(bx, by, buf.data()) != CE_None) {
              std::fprintf(stderr, "change_io_floor: ReadBlock(%d, %d) failed: %s\n", bx, by, CPLGetLastErrorMsg());
              failed = true;
              return;
            }
            auto& plane = planes[static_cast<std::size_t>(e) * 6 + p];
            for (int row = 0; row < valid_h; ++row)
              std::memcpy(plane.data() + static_cast<std::size_t>(by * block_h + row) * width + bx * block_w,
                          buf.data() + static_cast<std::size_t>(row) * block_w,
                          static_cast<std::size_t>(valid_w) * sizeof(std::uint16_t));
          }
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  double const read_s = seconds_since(t_read);
  if (failed) return 4;

  // ---- the payload: class and dNDVI of what was read (not timed) ----
  std::vector<std::uint8_t> cls(pixels);
  std::vector<float> dndvi(pixels);
  {
    unsigned const n = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < n; ++t) {
      pool.emplace_back([&, t] {
        std::size_t const lo = pixels * t / n, hi = pixels * (t + 1) / n;
        for (std::size_t i = lo; i < hi; ++i) {
          Epoch const b = epoch_at(planes, 0, i, o.boa_offset);
          Epoch const a = epoch_at(planes, 1, i, o.boa_offset);
          cls[i] = classify(b, a);
          dndvi[i] = static_cast<float>(a.ndvi - b.ndvi);
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  planes.clear();
  planes.shrink_to_fit();

  auto* mem_driver = GetGDALDriverManager()->GetDriverByName("MEM");
  auto make_mem = [&](GDALDataType type, void* data, double nodata) {
    DatasetPtr mem(mem_driver->Create("", width, height, 1, type, nullptr));
    if (has_gt) mem->SetGeoTransform(gt);
    if (!wkt.empty()) mem->SetProjection(wkt.c_str());
    auto* band = mem->GetRasterBand(1);
    band->SetNoDataValue(nodata);
    if (band->RasterIO(GF_Write, 0, 0, width, height, data, width, height, type, 0, 0, nullptr) != CE_None)
      fail(std::string("MEM write failed: ") + CPLGetLastErrorMsg());
    return mem;
  };
  DatasetPtr mem_class = make_mem(GDT_Byte, cls.data(), 0.0);
  DatasetPtr mem_dndvi = make_mem(GDT_Float32, dndvi.data(), kNaN);
  cls = {};
  dndvi = {};

  // ---- encode + write (timed, close included: that is when the last blocks are flushed) ----
  auto* cog = GetGDALDriverManager()->GetDriverByName("COG");
  if (!cog) fail("no GDAL COG driver");
  CPLStringList co;
  for (char const* kv : {"COMPRESS=DEFLATE", "PREDICTOR=YES", "BLOCKSIZE=512", "NUM_THREADS=ALL_CPUS",
                         "BIGTIFF=IF_SAFER", "OVERVIEWS=NONE"})
    co.AddString(kv);
  auto encode = [&](GDALDataset* src, std::string const& path) {
    VSIUnlink(path.c_str());
    auto const t0 = Clock::now();
    {
      DatasetPtr out(cog->CreateCopy(path.c_str(), src, FALSE, co.List(), nullptr, nullptr));
      if (!out) fail("CreateCopy " + path + " failed: " + CPLGetLastErrorMsg());
    }
    return seconds_since(t0);
  };
  double const class_s = encode(mem_class.get(), o.out_class);
  double const dndvi_s = encode(mem_dndvi.get(), o.out_dndvi);

  std::printf("change_io_floor: wrote %s and %s (COG", o.out_class.c_str(), o.out_dndvi.c_str());
  for (int i = 0; i < co.size(); ++i) std::printf(" %s", co[i]);
  std::printf(")\nread_decode_s %.3f\nencode_class_s %.3f\nencode_dndvi_s %.3f\nencode_write_s %.3f\nfloor_s %.3f\n",
              read_s, class_s, dndvi_s, class_s + dndvi_s, read_s + class_s + dndvi_s);
  return 0;
}
