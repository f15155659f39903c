# Per-pixel composite rules (issue 11): included by tests/CMakeLists.txt (paths relative to tests/).
#
# Also runs as a script (cmake -DRECLAIM_COMPOSITE_NVCC=... -P composite.cmake): compiles the
# composite kernel with -Xptxas -v and fails unless its stack frame is at most the selection
# buffer and clear mask of composite.hpp (kMaxObservations doubles + kMaxObservations bits:
# 2080 bytes) with no spill stores or loads, so that growth in local memory is noticed. Needs
# nvcc, not a GPU.
if(DEFINED RECLAIM_COMPOSITE_NVCC)
  execute_process(COMMAND ${RECLAIM_COMPOSITE_NVCC} -std=c++20 -O3 -arch=sm_${RECLAIM_COMPOSITE_ARCH} -fmad=false
                          --expt-relaxed-constexpr -I${RECLAIM_COMPOSITE_ROOT}/include -I${RECLAIM_COMPOSITE_ROOT}
                          -Xptxas -v -c ${RECLAIM_COMPOSITE_ROOT}/kernels/composite_kernel.cu
                          -o ${RECLAIM_COMPOSITE_OBJECT}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "nvcc failed:\n${out}${err}")
  endif()
  string(REGEX MATCHALL "Function properties for [^\n]*CompositePixel[^\n]*\n[^\n]*" kernels "${err}")
  list(LENGTH kernels count)
  if(count EQUAL 0)
    message(FATAL_ERROR "no CompositePixel kernel in the ptxas output:\n${err}")
  endif()
  foreach(kernel IN LISTS kernels)
    message(STATUS "${kernel}")
    if(NOT kernel MATCHES " ([0-9]+) bytes stack frame, 0 bytes spill stores, 0 bytes spill loads")
      message(FATAL_ERROR "the composite kernel spills:\n${kernel}")
    endif()
    if(CMAKE_MATCH_1 GREATER 2080)
      message(FATAL_ERROR "the composite kernel's stack frame grew beyond 2080 bytes:\n${kernel}")
    endif()
  endforeach()
  return()
endif()

# ---- CPU: hand-worked pixels (gtest) ------------------------------------------------------------
add_executable(composite_test pixel/composite_test.cpp)
target_link_libraries(composite_test PRIVATE reclaim::pixel GTest::gtest_main)
reclaim_compile_options(composite_test)
gtest_discover_tests(composite_test PROPERTIES LABELS pixel TIMEOUT 60)

# ---- CPU: numpy on random stacks, through a probe reading stacks from stdin ---------------------
add_executable(composite_probe pixel/composite_probe.cpp)
target_link_libraries(composite_probe PRIVATE reclaim::pixel)
reclaim_compile_options(composite_probe)

find_program(RECLAIM_COMPOSITE_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(RECLAIM_COMPOSITE_PYTHON)
  execute_process(COMMAND ${RECLAIM_COMPOSITE_PYTHON} -c "import numpy, pytest"
                  RESULT_VARIABLE reclaim_composite_py_ok OUTPUT_QUIET ERROR_QUIET)
endif()
if(RECLAIM_COMPOSITE_PYTHON AND reclaim_composite_py_ok EQUAL 0)
  add_test(NAME composite_numpy
           COMMAND ${RECLAIM_COMPOSITE_PYTHON} -m pytest -q -rs -p no:cacheprovider
                   ${CMAKE_CURRENT_SOURCE_DIR}/pixel/test_composite_numpy.py)
  set_tests_properties(composite_numpy PROPERTIES
    LABELS pixel TIMEOUT 300
    ENVIRONMENT "RECLAIM_COMPOSITE_PROBE=$<TARGET_FILE:composite_probe>;PYTHONDONTWRITEBYTECODE=1")
else()
  message(WARNING "reclaim: /usr/bin/python3 with numpy and pytest not found; composite_numpy test skipped")
endif()

# ---- GPU: CPU/GPU parity (skips without a device) -----------------------------------------------
if(RECLAIM_HAVE_CUDA)
  add_executable(composite_parity_test kernels/composite_parity_test.cu)
  target_include_directories(composite_parity_test PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(composite_parity_test PRIVATE reclaim::cuda GTest::gtest_main)
  reclaim_compile_options(composite_parity_test)
  gtest_discover_tests(composite_parity_test DISCOVERY_MODE PRE_TEST PROPERTIES LABELS gpu TIMEOUT 300)

  # Needs no GPU: ptxas's resource report for the architecture built here.
  list(GET CMAKE_CUDA_ARCHITECTURES 0 reclaim_composite_arch)
  string(REGEX REPLACE "-.*" "" reclaim_composite_arch "${reclaim_composite_arch}")
  add_test(NAME composite_kernel_local_memory
           COMMAND ${CMAKE_COMMAND} -DRECLAIM_COMPOSITE_NVCC=${CMAKE_CUDA_COMPILER}
                   -DRECLAIM_COMPOSITE_ARCH=${reclaim_composite_arch} -DRECLAIM_COMPOSITE_ROOT=${PROJECT_SOURCE_DIR}
                   -DRECLAIM_COMPOSITE_OBJECT=${CMAKE_CURRENT_BINARY_DIR}/composite_kernel_ptxas_check.o
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/pixel/composite.cmake)
  set_tests_properties(composite_kernel_local_memory PROPERTIES LABELS pixel TIMEOUT 300)
endif()
