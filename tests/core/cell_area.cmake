# Pixel areas in hectares (issue 4 groundwork): included by tests/CMakeLists.txt (paths relative to tests/).
# host/core/cell_area.cpp is compiled in directly until reclaim_core lists it.
get_target_property(reclaim_core_sources reclaim_core SOURCES)
set(reclaim_cell_area_source ${PROJECT_SOURCE_DIR}/host/core/cell_area.cpp)
if("host/core/cell_area.cpp" IN_LIST reclaim_core_sources OR reclaim_cell_area_source IN_LIST reclaim_core_sources)
  set(reclaim_cell_area_source "")
endif()
add_executable(cell_area_test core/cell_area_test.cpp ${reclaim_cell_area_source})
target_link_libraries(cell_area_test PRIVATE reclaim::core GTest::gtest_main)
reclaim_compile_options(cell_area_test)
gtest_discover_tests(cell_area_test PROPERTIES LABELS core TIMEOUT 60)
