# Zonal-statistics accumulators (issue 4 groundwork): included by tests/CMakeLists.txt.
# host/core/zonal_io.cpp is compiled in directly until reclaim_core lists it.
get_target_property(reclaim_zonal_core_sources reclaim_core SOURCES)
set(reclaim_zonal_io_source ${PROJECT_SOURCE_DIR}/host/core/zonal_io.cpp)
if("host/core/zonal_io.cpp" IN_LIST reclaim_zonal_core_sources OR reclaim_zonal_io_source IN_LIST reclaim_zonal_core_sources)
  set(reclaim_zonal_io_source "")
  set(reclaim_zonal_link reclaim::core)
else()
  set(reclaim_zonal_link reclaim::pixel)
endif()
add_executable(zonal_test pixel/zonal_test.cpp ${reclaim_zonal_io_source})
target_link_libraries(zonal_test PRIVATE ${reclaim_zonal_link} GTest::gtest_main)
reclaim_compile_options(zonal_test)
gtest_discover_tests(zonal_test PROPERTIES LABELS pixel TIMEOUT 120)
