# Polygon -> pixel coverage (issue 4 groundwork): included by tests/CMakeLists.txt (paths relative to tests/).
# host/core/coverage.cpp is compiled in directly until reclaim_core lists it.
get_target_property(reclaim_core_sources reclaim_core SOURCES)
set(reclaim_coverage_source ${PROJECT_SOURCE_DIR}/host/core/coverage.cpp)
if("host/core/coverage.cpp" IN_LIST reclaim_core_sources OR reclaim_coverage_source IN_LIST reclaim_core_sources)
  set(reclaim_coverage_source "")
endif()
add_executable(coverage_test core/coverage_test.cpp ${reclaim_coverage_source})
target_link_libraries(coverage_test PRIVATE reclaim::core GTest::gtest_main)
reclaim_compile_options(coverage_test)
gtest_discover_tests(coverage_test PROPERTIES LABELS core TIMEOUT 120)
