# Epoch inventories (issue 11): STAC items and CSV lists of scenes. Included by
# tests/CMakeLists.txt when GDAL is on (paths relative to tests/).
add_executable(inventory_test io/inventory_test.cpp)
target_link_libraries(inventory_test PRIVATE reclaim::io GTest::gtest_main)
reclaim_compile_options(inventory_test)
# Real STAC items (absent from a fresh clone: those tests skip); RECLAIM_REAL_DATA overrides it at run time.
target_compile_definitions(inventory_test PRIVATE RECLAIM_REAL_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data/real")
gtest_discover_tests(inventory_test PROPERTIES LABELS gdal TIMEOUT 120)
