add_executable(common_test ${CMAKE_CURRENT_LIST_DIR}/common_test.cpp)
target_link_libraries(common_test PRIVATE trend::common trend::warnings doctest::doctest)
doctest_discover_tests(common_test TEST_PREFIX "common: ")

add_executable(common_metrics_test ${CMAKE_CURRENT_LIST_DIR}/common_metrics_test.cpp)
target_link_libraries(common_metrics_test PRIVATE trend::common trend::asio trend::warnings doctest::doctest)
doctest_discover_tests(common_metrics_test TEST_PREFIX "common metrics: ")
