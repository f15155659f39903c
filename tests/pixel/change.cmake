# Two-epoch change classification: include/reclaim/pixel/change.hpp (header-only, label
# pixel), its rules files host/io/rules.cpp (label pixel, needs reclaim_io's dependencies
# nlohmann-json and toml++), and CPU/GPU parity (label gpu, skips without a device).
# Included from tests/CMakeLists.txt, after GoogleTest is found.

add_executable(change_test ${CMAKE_CURRENT_LIST_DIR}/change_test.cpp)
target_link_libraries(change_test PRIVATE reclaim::pixel GTest::gtest_main)
reclaim_compile_options(change_test)
gtest_discover_tests(change_test PROPERTIES LABELS pixel TIMEOUT 60)

if(TARGET reclaim_io)
  find_package(nlohmann_json 3 QUIET)
  find_package(tomlplusplus CONFIG QUIET)
  if(nlohmann_json_FOUND AND tomlplusplus_FOUND)
    add_executable(change_rules_test ${CMAKE_CURRENT_LIST_DIR}/change_rules_test.cpp)
    target_link_libraries(change_rules_test PRIVATE reclaim_io GTest::gtest_main)
    reclaim_compile_options(change_rules_test)
    gtest_discover_tests(change_rules_test PROPERTIES LABELS pixel TIMEOUT 60)
  else()
    message(STATUS "reclaim: nlohmann-json or toml++ not found; change_rules_test not built")
  endif()
endif()

if(RECLAIM_HAVE_CUDA)
  add_executable(change_parity_test ${CMAKE_CURRENT_LIST_DIR}/change_parity_test.cu)
  target_include_directories(change_parity_test PRIVATE ${PROJECT_SOURCE_DIR})  # tests/pixel/change_parity_inputs.hpp
  target_link_libraries(change_parity_test PRIVATE reclaim::pixel CUDA::cudart_static GTest::gtest_main)
  reclaim_compile_options(change_parity_test)
  gtest_discover_tests(change_parity_test DISCOVERY_MODE PRE_TEST PROPERTIES LABELS gpu TIMEOUT 120)
endif()
