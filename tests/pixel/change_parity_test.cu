// CPU/GPU parity of change_class: the kernel and the host run the same rule table on the
// same pixels and must give identical classes. Pixels are drawn from values at, one ULP
// either side of, and away from every default threshold, plus NaN, so that any difference
// in comparison or subtraction rounding between host and device shows up.
//
// Needs a CUDA device; skips (exit code 0) without one.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "reclaim/pixel/change.hpp"

namespace {

using namespace reclaim::pixel;

__global__ void classify_kernel(ChangeRules rules, EpochIndices const* before, EpochIndices const* after,
                                std::uint8_t* out, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(blockDim.x) * gridDim.x)
    out[i] = change_class(rules, before[i], after[i]);
}

bool has_device() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

std::vector<double> candidate_values() {
  std::vector<double> v;
  for (double t : {0.2, 0.0, 0.4, 0.5, 0.15, -0.15, 0.1, 0.7, -0.3}) {
    v.push_back(t);
    v.push_back(std::nextafter(t, -1.0));
    v.push_back(std::nextafter(t, 1.0));
  }
  v.push_back(std::numeric_limits<double>::quiet_NaN());
  return v;
}

void run_parity(ChangeRules const& rules) {
  std::vector<double> const values = candidate_values();
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<std::size_t> pick(0, values.size() - 1);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::size_t const n = 1 << 20;
  std::vector<EpochIndices> before(n), after(n);
  auto draw = [&] { return (rng() & 3u) == 0 ? uniform(rng) : values[pick(rng)]; };
  for (std::size_t i = 0; i < n; ++i) {
    before[i] = {draw(), draw(), draw(), draw()};
    after[i] = {draw(), draw(), draw(), draw()};
  }
  // dNDVI exactly at the gain and loss thresholds, where subtraction rounding matters most.
  for (std::size_t i = 0; i < 4096; ++i) {
    before[i].ndvi = 0.0;
    after[i].ndvi = i % 2 ? 0.15 : -0.15;
  }

  std::vector<std::uint8_t> cpu(n), gpu(n);
  for (std::size_t i = 0; i < n; ++i) cpu[i] = change_class(rules, before[i], after[i]);

  EpochIndices *d_before = nullptr, *d_after = nullptr;
  std::uint8_t* d_out = nullptr;
  CUDA_OK(cudaMalloc(&d_before, n * sizeof(EpochIndices)));
  CUDA_OK(cudaMalloc(&d_after, n * sizeof(EpochIndices)));
  CUDA_OK(cudaMalloc(&d_out, n));
  CUDA_OK(cudaMemcpy(d_before, before.data(), n * sizeof(EpochIndices), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(d_after, after.data(), n * sizeof(EpochIndices), cudaMemcpyHostToDevice));
  classify_kernel<<<256, 256>>>(rules, d_before, d_after, d_out, n);
  CUDA_OK(cudaGetLastError());
  CUDA_OK(cudaMemcpy(gpu.data(), d_out, n, cudaMemcpyDeviceToHost));
  cudaFree(d_before);
  cudaFree(d_after);
  cudaFree(d_out);

  std::size_t mismatches = 0;
  int seen[256] = {};
  for (std::size_t i = 0; i < n; ++i) {
    ++seen[cpu[i]];
    if (cpu[i] != gpu[i] && ++mismatches <= 5)
      ADD_FAILURE() << "pixel " << i << ": cpu " << int(cpu[i]) << " gpu " << int(gpu[i]);
  }
  EXPECT_EQ(mismatches, 0u);
  // The draw must reach every default class, or parity proves little.
  for (int c : {0, 1, 2, 3, 4, 5, 6, 255}) EXPECT_GT(seen[c], 0) << "class " << c << " never drawn";
}

TEST(ChangeParity, DefaultRulesIdenticalOnCpuAndGpu) {
  if (!has_device()) GTEST_SKIP() << "no CUDA device: change parity skipped";
  run_parity(default_change_rules());
}

TEST(ChangeParity, FvcRulesIdenticalOnCpuAndGpu) {
  if (!has_device()) GTEST_SKIP() << "no CUDA device: change parity skipped";
  ChangeThresholds t;
  t.vegetated_by_fvc = true;
  run_parity(default_change_rules(t));
}

}  // namespace
