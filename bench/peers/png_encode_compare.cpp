// PNG encoding choices for the report's pictures: GDAL's PNG driver (what reclaim used before)
// against libpng with one fixed row filter and zlib strategy, on the same RGBA pixels.
//
//   g++ -O2 -std=c++20 bench/peers/png_encode_compare.cpp -I/usr/include/gdal -lgdal -lpng -lz -o /tmp/png_encode_compare
//   /tmp/png_encode_compare OUT/pictures/site-000[0-4]*.png
//
// Each argument is read with GDAL as RGBA and encoded once per configuration, in memory; the
// total time and bytes of each configuration are printed. Results:
// bench/results/pictures-png-amd-epyc-2c.md. Not built by CMake: a one-off comparison, kept so
// that it can be rerun on other pictures.
#include <gdal_priv.h>
#include <png.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgba;
};

void append(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<char const*>(data), n);
}

std::size_t libpng_size(Image const& im, int filter, int level, int strategy) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) return 0;
  png_set_write_fn(png, &out, append, nullptr);
  png_set_IHDR(png, info, im.width, im.height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, filter);
  png_set_compression_level(png, level);
  png_set_compression_strategy(png, strategy);
  png_write_info(png, info);
  for (int y = 0; y < im.height; ++y) png_write_row(png, im.rgba.data() + static_cast<std::size_t>(y) * im.width * 4);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out.size();
}

/// As reclaim did before: a MEM dataset copied by GDAL's PNG driver at ZLEVEL=2.
std::size_t gdal_size(Image const& im) {
  auto* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  GDALDatasetUniquePtr src(mem->Create("", im.width, im.height, 4, GDT_Byte, nullptr));
  int bands[4] = {1, 2, 3, 4};
  if (src->RasterIO(GF_Write, 0, 0, im.width, im.height, const_cast<unsigned char*>(im.rgba.data()), im.width,
                    im.height, GDT_Byte, 4, bands, 4, 4 * static_cast<GSpacing>(im.width), 1, nullptr) != CE_None)
    return 0;
  char const* options[] = {"ZLEVEL=2", nullptr};
  GDALDatasetUniquePtr(GetGDALDriverManager()->GetDriverByName("PNG")->CreateCopy(
      "/vsimem/png_encode_compare.png", src.get(), FALSE, const_cast<char**>(options), nullptr, nullptr));
  vsi_l_offset length = 0;
  VSIGetMemFileBuffer("/vsimem/png_encode_compare.png", &length, FALSE);
  VSIUnlink("/vsimem/png_encode_compare.png");
  return static_cast<std::size_t>(length);
}

template <class F>
void report(char const* name, std::vector<Image> const& images, F const& encode) {
  auto const t0 = std::chrono::steady_clock::now();
  std::size_t bytes = 0;
  for (auto const& im : images) bytes += encode(im);
  double const s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-22s %7.3f s %10zu bytes\n", name, s, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  GDALAllRegister();
  std::vector<Image> images;
  for (int a = 1; a < argc; ++a) {
    GDALDatasetUniquePtr ds(GDALDataset::Open(argv[a], GDAL_OF_RASTER));
    if (!ds || ds->GetRasterCount() != 4) {
      std::fprintf(stderr, "%s: not an RGBA picture\n", argv[a]);
      return 2;
    }
    Image im{ds->GetRasterXSize(), ds->GetRasterYSize(), {}};
    im.rgba.resize(static_cast<std::size_t>(im.width) * im.height * 4);
    if (ds->RasterIO(GF_Read, 0, 0, im.width, im.height, im.rgba.data(), im.width, im.height, GDT_Byte, 4, nullptr, 4,
                     4 * static_cast<GSpacing>(im.width), 1, nullptr) != CE_None)
      return 2;
    images.push_back(std::move(im));
  }
  std::printf("%zu pictures\n", images.size());
  report("gdal ZLEVEL=2", images, gdal_size);
  struct Config {
    char const* name;
    int filter, level, strategy;
  };
  for (Config c : {Config{"all filters, level 2", PNG_ALL_FILTERS, 2, Z_DEFAULT_STRATEGY},
                   Config{"none, level 1", PNG_FILTER_NONE, 1, Z_DEFAULT_STRATEGY},
                   Config{"sub, level 1", PNG_FILTER_SUB, 1, Z_DEFAULT_STRATEGY},
                   Config{"up, level 1", PNG_FILTER_UP, 1, Z_DEFAULT_STRATEGY},
                   Config{"paeth, level 1", PNG_FILTER_PAETH, 1, Z_DEFAULT_STRATEGY},
                   Config{"sub, rle", PNG_FILTER_SUB, 1, Z_RLE},
                   Config{"up, rle", PNG_FILTER_UP, 1, Z_RLE},
                   Config{"paeth, rle", PNG_FILTER_PAETH, 1, Z_RLE},
                   Config{"sub, level 2", PNG_FILTER_SUB, 2, Z_DEFAULT_STRATEGY},
                   Config{"up, level 2", PNG_FILTER_UP, 2, Z_DEFAULT_STRATEGY}})
    report(c.name, images, [&](Image const& im) { return libpng_size(im, c.filter, c.level, c.strategy); });
  return 0;
}
