#pragma once
/** @file
 * @brief What a backend does with a tile's zone coverage: accumulate covered pixels into the
 * zones' accumulators. The host turns each zone's coverage of a tile (spans + weighted edge
 * pixels, coverage.hpp) into ZonalItems once; the CPU sink and the CUDA kernel
 * (kernels/zonal_kernel.cu) then run the same per-pixel functions below over them.
 *
 * Exactness across backends: the ExactSum fields, pixel counts, min/max, histogram bins and
 * class weights are integers or order-free, so the GPU's grouping gives bit-identical values
 * (ValueAccumulator's variance too: it is formed from its exact sums of w x and w x^2).
 */
#include <cstddef>
#include <cstdint>
#include <span>

#include "reclaim/pixel/hd.hpp"
#include "reclaim/pixel/zonal.hpp"

namespace reclaim::pixel {

/// A run of pixels of one zone in one tile, window-relative: row, columns [col_begin, col_end),
/// every pixel with the same coverage fraction (1 for a span, the pixel's fraction for an edge).
struct ZonalItem {
  std::int32_t zone = 0;
  std::int32_t row = 0;
  std::int32_t col_begin = 0;
  std::int32_t col_end = 0;
  double fraction = 1.0;
};

/// Area of a zone in a value product: all covered pixels, and those with a valid value.
struct ZoneArea {
  ExactSum area_m2;
  ExactSum valid_area_m2;
};

/// One covered pixel of a value plane. cell_m2: the pixel's area (row-dependent in a geographic CRS).
template <int Bins>
RECLAIM_HD inline void accumulate_value_pixel(float v, double fraction, double cell_m2, ValueAccumulator& values,
                                              ZoneArea& area, HistogramAccumulator<Bins>* histogram) noexcept {
  double const a = fraction * cell_m2;
  area.area_m2.add(a);
  values.update(v, fraction);
  if (v == v && v - v == 0.0f) {  // finite
    area.valid_area_m2.add(a);
    if (histogram) histogram->update(v, fraction);
  }
}

/// The class of a class-plane pixel: whole class numbers stored as float; NaN counts as class 0
/// (nodata of the class rasters), values outside 0..255 as invalid (-1). The range is decided
/// before converting: a float beyond int's range has no defined conversion (x86 and CUDA differ).
RECLAIM_HD inline int pixel_class(float v) noexcept {
  if (v != v) return 0;
  if (v < 0.0f || v > 255.0f) return -1;
  return static_cast<int>(v);
}

/// A class pixel's weight, fraction x cell_units (see accumulate_class_pixel). The CUDA kernel
/// adds pixel_class and class_pixel_weight through ClassAccumulator::locate with atomics.
RECLAIM_HD inline double class_pixel_weight(double fraction, double cell_units) noexcept {
  return fraction * cell_units;
}

/// One covered pixel of a class plane: whole class numbers stored as float; NaN counts as class 0
/// (nodata of the class rasters), values outside 0..255 as invalid. The weight is
/// fraction x cell_units, the pixel's area in the product's class-weight unit: exactly 1 in a
/// projected CRS (so whole pixels stay exact integers of quanta and hectares are exact), the
/// row's cell area over a fixed unit area in a geographic CRS.
RECLAIM_HD inline void accumulate_class_pixel(float v, double fraction, double cell_units,
                                              ClassAccumulator& classes) noexcept {
  classes.update(pixel_class(v), class_pixel_weight(fraction, cell_units));
}

/// Classes by threshold (e.g. vegetated by NDVI): 2 at or above t, 1 below, 0 (nodata) for NaN.
RECLAIM_HD inline float threshold_class(float v, float t) noexcept {
  return v != v ? 0.0f : (v >= t ? 2.0f : 1.0f);
}

/**
 * @brief The CPU reference: items in order, pixels left to right.
 * @param plane       the tile's value plane, `width` floats per row
 * @param row_cell_m2 pixel area per tile row
 * @param values, areas: indexed by item.zone; histograms too unless null
 */
template <int Bins>
void accumulate_value_items(std::span<ZonalItem const> items, float const* plane, std::size_t width,
                            double const* row_cell_m2, ValueAccumulator* values, ZoneArea* areas,
                            HistogramAccumulator<Bins>* histograms) noexcept {
  for (auto const& it : items) {
    float const* row = plane + static_cast<std::size_t>(it.row) * width;
    double const cell = row_cell_m2[it.row];
    auto* hist = histograms ? histograms + it.zone : nullptr;
    for (std::int32_t c = it.col_begin; c < it.col_end; ++c)
      accumulate_value_pixel<Bins>(row[c], it.fraction, cell, values[it.zone], areas[it.zone], hist);
  }
}

/// The CPU reference for class planes; classes indexed by item.zone; row_cell_units: the pixel
/// area of each tile row in class-weight units (see accumulate_class_pixel).
inline void accumulate_class_items(std::span<ZonalItem const> items, float const* plane, std::size_t width,
                                   double const* row_cell_units, ClassAccumulator* classes) noexcept {
  for (auto const& it : items) {
    float const* row = plane + static_cast<std::size_t>(it.row) * width;
    double const cell = row_cell_units[it.row];
    for (std::int32_t c = it.col_begin; c < it.col_end; ++c)
      accumulate_class_pixel(row[c], it.fraction, cell, classes[it.zone]);
  }
}

/// The covered area of each item's zone whatever its pixels hold (a class product's zone area):
/// the same fraction x cell area terms accumulate_value_pixel adds to area_m2.
inline void accumulate_covered_area(std::span<ZonalItem const> items, double const* row_cell_m2,
                                    ZoneArea* areas) noexcept {
  for (auto const& it : items) {
    double const a = it.fraction * row_cell_m2[it.row];
    for (std::int32_t c = it.col_begin; c < it.col_end; ++c) areas[it.zone].area_m2.add(a);
  }
}

}  // namespace reclaim::pixel
