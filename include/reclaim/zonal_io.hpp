#pragma once
/** @file
 * @brief Host-only serialisation of the zonal accumulators (include/reclaim/pixel/zonal.hpp),
 * for merging shards computed by separate processes or machines.
 *
 * Format, version 2, every field little-endian whatever the host:
 *   "RZAC" | u16 version = 2 | u16 kind (1 value, 2 histogram, 3 class, 4 area) | u32 payload bytes |
 *   payload | u64 FNV-1a-64 of every preceding byte.
 * Payloads (doubles as their IEEE-754 bit patterns in u64):
 *   value:     4 x ExactSum (4 x u64 limbs, u32 overflow) for weight, nodata weight, sum of w x,
 *              sum of w x^2; u64 pixels, u64 nodata pixels; f64 min, max. (Version 1 held the
 *              running mean and M2 in double instead of the sum of w x^2: refused.)
 *   histogram: u32 bins, f64 lo, f64 hi, u64 under, u64 over, bins x u64.
 *   class:     u32 classes (256), u64 invalid, classes x u64.
 *   area:      2 x ExactSum (area_m2, valid_area_m2).
 * deserialize_* throws reclaim::input_error on a short, long or corrupt buffer (bad magic,
 * unknown version or kind, checksum mismatch, histogram bin count or range that does not match).
 * Deserialised accumulators merge exactly like in-memory ones.
 */
#include <cstdint>
#include <span>
#include <vector>

#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"

namespace reclaim {

inline constexpr std::uint16_t kZonalFormatVersion = 2;

std::vector<std::uint8_t> serialize(pixel::ValueAccumulator const& acc);
std::vector<std::uint8_t> serialize(pixel::ClassAccumulator const& acc);
pixel::ValueAccumulator deserialize_value(std::span<std::uint8_t const> bytes);
pixel::ClassAccumulator deserialize_class(std::span<std::uint8_t const> bytes);
std::vector<std::uint8_t> serialize(pixel::ZoneArea const& area);
pixel::ZoneArea deserialize_area(std::span<std::uint8_t const> bytes);

namespace detail {
std::vector<std::uint8_t> serialize_histogram(double lo, double hi, std::uint64_t under, std::uint64_t over,
                                              std::span<std::uint64_t const> bins);
/// Fills the outputs; throws input_error unless the buffer holds exactly bins.size() bins.
void deserialize_histogram(std::span<std::uint8_t const> bytes, double& lo, double& hi, std::uint64_t& under,
                           std::uint64_t& over, std::span<std::uint64_t> bins);
}  // namespace detail

template <int Bins>
std::vector<std::uint8_t> serialize(pixel::HistogramAccumulator<Bins> const& acc) {
  return detail::serialize_histogram(acc.m_lo, acc.m_hi, acc.m_under, acc.m_over,
                                     std::span<std::uint64_t const>(acc.m_bin, Bins));
}

/// Bins must match the serialised bin count (input_error otherwise).
template <int Bins>
pixel::HistogramAccumulator<Bins> deserialize_histogram(std::span<std::uint8_t const> bytes) {
  pixel::HistogramAccumulator<Bins> acc{};
  detail::deserialize_histogram(bytes, acc.m_lo, acc.m_hi, acc.m_under, acc.m_over,
                                std::span<std::uint64_t>(acc.m_bin, Bins));
  return acc;
}

}  // namespace reclaim
