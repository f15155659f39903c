#include "io/direct_tiff.hpp"

#include <gdal_priv.h>
#include <libdeflate.h>
#include <tiffio.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace reclaim::io {
namespace {

/// libtiff's messages about a file we only try to read fast are not the user's business: the
/// GDAL path that takes over says what is wrong, once.
int quiet(TIFF*, void*, char const*, char const*, va_list) { return 1; }

template <class T>
T load(std::uint8_t const* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Predictor none: the first `n` integer samples of a row, as float.
template <class T>
void convert_row(std::uint8_t const* row, float* out, std::uint32_t n) noexcept {
  for (std::uint32_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<T>(row + i * sizeof(T)));
}

/// Horizontal predictor (TIFF 6.0, section 14): each sample is stored as its difference from the
/// one before, modulo 2^bits; the running sum is kept in a register (U unsigned), then read as T.
template <class T, class U>
void horizontal_row(std::uint8_t const* row, float* out, std::uint32_t n) noexcept {
  U sum = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    sum = static_cast<U>(sum + load<U>(row + i * sizeof(U)));
    T value;
    std::memcpy(&value, &sum, sizeof value);
    out[i] = static_cast<float>(value);
  }
}

/// Floating-point predictor (Adobe TIFF Technical Note 3): a row of `width` Float32 samples is
/// stored as four byte planes, most significant first, then differenced byte by byte along the
/// whole row. Undone in place (the running sum needs every byte of the row), then the first `n`
/// samples are assembled.
void floating_point_row(std::uint8_t* row, std::uint32_t width, float* out, std::uint32_t n) noexcept {
  std::uint8_t sum = 0;
  for (std::uint32_t i = 0; i < 4 * width; ++i) {
    sum = static_cast<std::uint8_t>(sum + row[i]);
    row[i] = sum;
  }
  std::uint8_t const* b3 = row;  // most significant byte
  std::uint8_t const* b2 = row + width;
  std::uint8_t const* b1 = row + 2 * width;
  std::uint8_t const* b0 = row + 3 * width;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t const bits = (std::uint32_t{b3[i]} << 24) | (std::uint32_t{b2[i]} << 16) |
                               (std::uint32_t{b1[i]} << 8) | std::uint32_t{b0[i]};
    std::memcpy(out + i, &bits, sizeof bits);
  }
}

}  // namespace

bool DirectTiff::enabled() noexcept {
  char const* v = std::getenv("RECLAIM_DIRECT_TIFF");
  return !(v && std::string(v) == "0");
}

std::unique_ptr<DirectTiff> DirectTiff::open(std::filesystem::path const& file, GDALDataset& ds) {
  if (!enabled()) return nullptr;
  auto* driver = ds.GetDriver();
  if (!driver || std::string(driver->GetDescription()) != "GTiff") return nullptr;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return nullptr;  // /vsicurl/, /vsizip/, ...

  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, quiet, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(options, quiet, nullptr);
  // "m": read() the tiles instead of mapping the file, whose pages would count in the process's
  // resident memory as they are touched (a 10980 x 10980 scene pair: 1.5 GB).
  TIFF* tif = TIFFOpenExt(file.c_str(), "rm", options);
  TIFFOpenOptionsFree(options);
  if (!tif) return nullptr;
  std::unique_ptr<DirectTiff> d(new DirectTiff());
  d->m_tif = tif;

  std::uint32_t width = 0, height = 0, tw = 0, th = 0;
  std::uint16_t spp = 1, planar = PLANARCONFIG_CONTIG, compression = 1, predictor = 1, format = 1, bits = 8,
                fill = FILLORDER_MSB2LSB;
  if (!TIFFIsTiled(tif) || TIFFIsByteSwapped(tif) || !TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) ||
      !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height) || !TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) ||
      !TIFFGetField(tif, TIFFTAG_TILELENGTH, &th))
    return nullptr;
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  // The predictor belongs to the codecs (libtiff registers the tag with them): none without one.
  if (compression != COMPRESSION_NONE) TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &predictor);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &fill);

  // Tiles of at most 64 Mpixel (a corrupt directory must not make us allocate gigabytes).
  bool const layout_ok = tw > 0 && th > 0 && tw <= 65536 && th <= 65536 &&
                         std::uint64_t{tw} * th <= (std::uint64_t{1} << 26) && (spp == 1 || planar == PLANARCONFIG_SEPARATE) && fill == FILLORDER_MSB2LSB;
  bool const codec_ok = compression == COMPRESSION_NONE || compression == COMPRESSION_ADOBE_DEFLATE ||
                        compression == COMPRESSION_DEFLATE;
  bool const integer = format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_INT;
  bool const sample_ok = (format == SAMPLEFORMAT_UINT && (bits == 8 || bits == 16)) ||
                         (format == SAMPLEFORMAT_INT && bits == 16) || (format == SAMPLEFORMAT_IEEEFP && bits == 32);
  bool const predictor_ok = predictor == PREDICTOR_NONE || (predictor == PREDICTOR_HORIZONTAL && integer) ||
                            (predictor == PREDICTOR_FLOATINGPOINT && format == SAMPLEFORMAT_IEEEFP);
  // GDAL must see the same image (its first directory, the same bands, blocks and type).
  GDALDataType const want = bits == 8 ? GDT_Byte : bits == 32 ? GDT_Float32 : format == SAMPLEFORMAT_INT ? GDT_Int16 : GDT_UInt16;
  bool gdal_ok = ds.GetRasterXSize() == static_cast<int>(width) && ds.GetRasterYSize() == static_cast<int>(height) &&
                 ds.GetRasterCount() == spp;
  for (int b = 1; gdal_ok && b <= ds.GetRasterCount(); ++b) {
    auto* band = ds.GetRasterBand(b);
    int bx = 0, by = 0;
    band->GetBlockSize(&bx, &by);
    gdal_ok = band->GetRasterDataType() == want && bx == static_cast<int>(tw) && by == static_cast<int>(th);
  }
  if (!layout_ok || !codec_ok || !sample_ok || !predictor_ok || !gdal_ok) return nullptr;

  d->m_width = width;
  d->m_height = height;
  d->m_tile_width = tw;
  d->m_tile_height = th;
  d->m_bands = spp;
  d->m_separate = spp > 1;
  d->m_compression = compression;
  d->m_predictor = predictor;
  d->m_format = format;
  d->m_bits = bits;
  if (compression != COMPRESSION_NONE && !(d->m_inflate = libdeflate_alloc_decompressor())) return nullptr;
  d->m_tile.resize(static_cast<std::size_t>(tw) * th * (bits / 8));
  return d;
}

DirectTiff::~DirectTiff() {
  if (m_inflate) libdeflate_free_decompressor(m_inflate);
  if (m_tif) TIFFClose(m_tif);
}

bool DirectTiff::decode_tile(std::uint32_t tile) {
  std::uint64_t const stored = TIFFGetStrileByteCount(m_tif, tile);
  if (stored == 0 || stored > (std::uint64_t{1} << 31)) return false;  // sparse (GDAL fills it) or absurd
  std::size_t const expected = m_tile.size();
  if (m_compression == COMPRESSION_NONE) {
    if (stored < expected) return false;
    return TIFFReadRawTile(m_tif, tile, m_tile.data(), static_cast<tmsize_t>(expected)) == static_cast<tmsize_t>(expected);
  }
  m_raw.resize(static_cast<std::size_t>(stored));
  if (TIFFReadRawTile(m_tif, tile, m_raw.data(), static_cast<tmsize_t>(stored)) != static_cast<tmsize_t>(stored))
    return false;
  std::size_t got = 0;
  return libdeflate_zlib_decompress(m_inflate, m_raw.data(), m_raw.size(), m_tile.data(), expected, &got) ==
             LIBDEFLATE_SUCCESS &&
         got == expected;
}

bool DirectTiff::read(int band, TileWindow const& w, float* out) {
  if (band < 1 || band > m_bands || w.x0 < 0 || w.y0 < 0 || w.x0 % m_tile_width != 0 || w.y0 % m_tile_height != 0 ||
      w.x0 + w.width > m_width || w.y0 + w.height > m_height)
    return false;
  std::size_t const bytes = static_cast<std::size_t>(m_bits / 8);
  std::size_t const row_bytes = static_cast<std::size_t>(m_tile_width) * bytes;
  auto const sample = static_cast<std::uint16_t>(m_separate ? band - 1 : 0);
  for (std::int64_t oy = w.y0; oy < w.y0 + w.height; oy += m_tile_height)
    for (std::int64_t ox = w.x0; ox < w.x0 + w.width; ox += m_tile_width) {
      if (!decode_tile(TIFFComputeTile(m_tif, static_cast<std::uint32_t>(ox), static_cast<std::uint32_t>(oy), 0, sample)))
        return false;
      auto const rows = static_cast<std::uint32_t>(std::min<std::int64_t>(m_tile_height, w.y0 + w.height - oy));
      auto const cols = static_cast<std::uint32_t>(std::min<std::int64_t>(m_tile_width, w.x0 + w.width - ox));
      for (std::uint32_t r = 0; r < rows; ++r) {
        std::uint8_t* row = m_tile.data() + r * row_bytes;
        float* dst = out + static_cast<std::size_t>(oy - w.y0 + r) * static_cast<std::size_t>(w.width) +
                     static_cast<std::size_t>(ox - w.x0);
        if (m_predictor == PREDICTOR_FLOATINGPOINT) {
          floating_point_row(row, m_tile_width, dst, cols);
        } else if (m_predictor == PREDICTOR_HORIZONTAL) {
          if (m_bits == 8) horizontal_row<std::uint8_t, std::uint8_t>(row, dst, cols);
          else if (m_format == SAMPLEFORMAT_INT) horizontal_row<std::int16_t, std::uint16_t>(row, dst, cols);
          else horizontal_row<std::uint16_t, std::uint16_t>(row, dst, cols);
        } else if (m_bits == 8) {
          convert_row<std::uint8_t>(row, dst, cols);
        } else if (m_bits == 32) {
          std::memcpy(dst, row, cols * sizeof(float));  // the bits as stored, NaN payloads included
        } else if (m_format == SAMPLEFORMAT_INT) {
          convert_row<std::int16_t>(row, dst, cols);
        } else {
          convert_row<std::uint16_t>(row, dst, cols);
        }
      }
    }
  return true;
}

}  // namespace reclaim::io
