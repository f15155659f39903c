#include "cli/device.hpp"

#include "reclaim/error.hpp"
#ifdef RECLAIM_HAVE_CUDA
#include "reclaim/cuda_backend.hpp"
#endif

namespace reclaim::cli {

std::unique_ptr<Backend> make_backend(std::string const& spec, int cpu_threads) {
  if (spec == "cpu") return std::make_unique<CpuBackend>(cpu_threads);
  bool const is_auto = spec == "auto";
  if (!is_auto && spec.rfind("cuda", 0) != 0)
    throw usage_error("--device " + spec + ": expected auto, cpu, cuda or cuda:N");
  int device = 0;
  if (spec.size() > 4) {
    if (spec[4] != ':' || spec.size() == 5) throw usage_error("--device " + spec + ": expected cuda:N");
    try {
      device = std::stoi(spec.substr(5));
    } catch (std::exception const&) {
      throw usage_error("--device " + spec + ": expected cuda:N");
    }
  }
#ifdef RECLAIM_HAVE_CUDA
  if (is_auto && cuda_device_count() == 0) return std::make_unique<CpuBackend>(cpu_threads);
  return make_cuda_backend(device);
#else
  (void)device;
  if (is_auto) return std::make_unique<CpuBackend>(cpu_threads);
  throw cuda_error("--device " + spec + ": this reclaim was built without CUDA");
#endif
}

}  // namespace reclaim::cli
