# Zones from OGR vector sources (issue 4 groundwork): included by tests/CMakeLists.txt when GDAL
# is on (paths relative to tests/). host/io/zones.cpp is compiled in directly until reclaim_io lists it.
get_target_property(reclaim_io_sources reclaim_io SOURCES)
set(reclaim_zones_source ${PROJECT_SOURCE_DIR}/host/io/zones.cpp)
if("host/io/zones.cpp" IN_LIST reclaim_io_sources OR reclaim_zones_source IN_LIST reclaim_io_sources)
  set(reclaim_zones_source "")
endif()
add_executable(zones_test io/zones_test.cpp ${reclaim_zones_source})
# zones.cpp includes the internal host/io/gdal_util.hpp, addressed from host/.
target_include_directories(zones_test PRIVATE ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(zones_test PRIVATE reclaim::io GTest::gtest_main)
reclaim_compile_options(zones_test)
# Real data (absent from a fresh clone: the test skips); RECLAIM_REAL_DATA overrides it at run time.
target_compile_definitions(zones_test PRIVATE RECLAIM_REAL_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data/real")
gtest_discover_tests(zones_test PROPERTIES LABELS gdal TIMEOUT 120)
