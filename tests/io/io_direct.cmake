# Direct tests of the assess metrics, the COG sinks and the GDAL tile source (issue 9): included
# by tests/CMakeLists.txt when GDAL is on (paths relative to tests/).
add_executable(io_direct_test io/site_metrics_test.cpp io/cog_sink_test.cpp io/gdal_source_test.cpp io/number_text_test.cpp
               io/direct_tiff_test.cpp)
# direct_tiff_test includes the internal host/io/direct_tiff.hpp, addressed from host/.
target_include_directories(io_direct_test PRIVATE ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(io_direct_test PRIVATE reclaim::io GTest::gtest_main)
reclaim_compile_options(io_direct_test)
gtest_discover_tests(io_direct_test PROPERTIES LABELS gdal TIMEOUT 180)
