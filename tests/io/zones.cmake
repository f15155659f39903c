# Zones from OGR vector sources: included by tests/CMakeLists.txt when GDAL is on (paths
# relative to tests/).
add_executable(zones_test io/zones_test.cpp)
# zones.cpp includes the internal host/io/gdal_util.hpp, addressed from host/.
target_include_directories(zones_test PRIVATE ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(zones_test PRIVATE reclaim::io GTest::gtest_main)
reclaim_compile_options(zones_test)
# Real data (absent from a fresh clone: the test skips); RECLAIM_REAL_DATA overrides it at run time.
target_compile_definitions(zones_test PRIVATE RECLAIM_REAL_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data/real")
gtest_discover_tests(zones_test PROPERTIES LABELS gdal TIMEOUT 120)
