if(TARGET dashboard_server_logic)
  add_executable(dashboard_server_test
    ${CMAKE_CURRENT_LIST_DIR}/dashboard_server_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/dashboard_server_http_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/dashboard_server_history_test.cpp)
  target_link_libraries(dashboard_server_test PRIVATE
    trend::dashboard_server_logic nlohmann_json::nlohmann_json trend::warnings doctest::doctest)
  doctest_discover_tests(dashboard_server_test TEST_PREFIX "dashboard_server: ")
endif()
