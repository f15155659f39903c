#include "kernels/composite_kernel.cuh"

#include "kernels/for_each_pixel.cuh"
#include "reclaim/error.hpp"
#include "reclaim/pixel/per_pixel.hpp"

// The composite pass: the CompositePixel functor that the CPU loops over, run by
// for_each_pixel_async, so both backends run composite_pixel (bit-identical: comparisons and
// IEEE double +, -, *, / only, -fmad=false). Each thread keeps its selection buffer (2 KiB of
// doubles) and clear mask (32 bytes) in local memory, of which it touches 8 bytes per clear
// observation (docs/composites.md, "Selection").
namespace reclaim::kernels {

void composite_async(pixel::CompositeParams const& params, float const* d_obs, float* d_out, std::size_t pixels,
                     cudaStream_t stream) {
  if (char const* why = pixel::composite_params_error(params)) throw input_error(why);
  // composite_pixel reads the default layout (all six bands per observation, Band order).
  bool packed = params.planes_per_observation != pixel::kBandCount;
  for (int b = 0; b < pixel::kBandCount; ++b) packed = packed || params.band_plane[b] != b;
  if (packed) throw input_error("composite: the kernel reads all six bands per observation (the default layout)");
  for_each_pixel_async("composite (composite_pixel)", pixels, pixel::CompositePixel{params, d_obs, d_out, pixels},
                       stream);
}

}  // namespace reclaim::kernels
