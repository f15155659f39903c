// composite_io_floor: the read+decode floor of a season of scenes, the GDAL work a composite
// cannot avoid: every block of band 1 of every file given, decoded once, with N threads.
//
// The (file, block) pairs are handed out from one counter, so the threads share the files as
// they share the blocks; each thread opens its own GDALDataset per file (GDAL handles are not
// thread-safe) and reads with ReadBlock: the driver's decode and nothing else (no resampling,
// no type conversion, no copy into a larger raster). Nothing is kept: each block overwrites the
// thread's buffer (a checksum of it is printed so the reads cannot be optimised away).
//
// usage: composite_io_floor [--threads 2] FILE...
// prints: read_decode_s <seconds>, files, blocks, bytes decoded.
#include <gdal_priv.h>
#include <cpl_conv.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void fail(std::string const& msg) {
  std::fprintf(stderr, "composite_io_floor: %s\n", msg.c_str());
  std::exit(2);
}

struct DatasetCloser {
  void operator()(GDALDataset* ds) const noexcept { GDALClose(GDALDataset::ToHandle(ds)); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

DatasetPtr open_or_fail(std::string const& path) {
  DatasetPtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!ds) fail("cannot open " + path + ": " + CPLGetLastErrorMsg());
  return ds;
}

struct FileInfo {
  std::string path;
  int blocks_x = 0, blocks_y = 0, block_bytes = 0;
  std::int64_t first = 0;  // index of the file's first block in the global numbering
};

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  std::vector<FileInfo> files;
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    if (a == "--threads") {
      if (i + 1 >= argc) fail("missing value after --threads");
      threads = std::atoi(argv[++i]);
    } else {
      files.push_back({a});
    }
  }
  if (files.empty()) fail("no files");
  if (threads < 1) fail("--threads must be >= 1");
  GDALAllRegister();

  std::int64_t total_blocks = 0, total_bytes = 0;
  for (auto& f : files) {
    auto ds = open_or_fail(f.path);
    auto* band = ds->GetRasterBand(1);
    int bw = 0, bh = 0;
    band->GetBlockSize(&bw, &bh);
    f.blocks_x = (ds->GetRasterXSize() + bw - 1) / bw;
    f.blocks_y = (ds->GetRasterYSize() + bh - 1) / bh;
    f.block_bytes = bw * bh * GDALGetDataTypeSizeBytes(band->GetRasterDataType());
    f.first = total_blocks;
    total_blocks += static_cast<std::int64_t>(f.blocks_x) * f.blocks_y;
    total_bytes += static_cast<std::int64_t>(ds->GetRasterXSize()) * ds->GetRasterYSize() *
                   GDALGetDataTypeSizeBytes(band->GetRasterDataType());
  }

  std::atomic<std::int64_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<std::uint64_t> checksum{0};
  auto const t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        std::vector<DatasetPtr> open(files.size());
        std::vector<unsigned char> buf;
        std::uint64_t sum = 0;
        std::size_t f = 0;
        for (std::int64_t k = next++; k < total_blocks && !failed; k = next++) {
          while (f + 1 < files.size() && k >= files[f + 1].first) ++f;  // k only grows per thread
          auto const& file = files[f];
          if (!open[f]) open[f] = open_or_fail(file.path);
          if (f > 0 && open[f - 1]) open[f - 1].reset();  // done with the previous file
          buf.resize(static_cast<std::size_t>(file.block_bytes));
          std::int64_t const b = k - file.first;
          if (open[f]->GetRasterBand(1)->ReadBlock(static_cast<int>(b % file.blocks_x),
                                                   static_cast<int>(b / file.blocks_x), buf.data()) != CE_None) {
            std::fprintf(stderr, "composite_io_floor: %s: ReadBlock failed: %s\n", file.path.c_str(),
                         CPLGetLastErrorMsg());
            failed = true;
            return;
          }
          sum += buf[buf.size() / 2];
        }
        checksum += sum;
      });
    }
    for (auto& th : pool) th.join();
  }
  double const s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (failed) return 4;
  std::printf("composite_io_floor: %zu files, %lld blocks, %.1f MB decoded, %d threads (checksum %llu)\n",
              files.size(), static_cast<long long>(total_blocks), total_bytes / 1048576.0, threads,
              static_cast<unsigned long long>(checksum.load()));
  std::printf("read_decode_s %.3f\n", s);
  return 0;
}
