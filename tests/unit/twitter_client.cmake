if(TARGET twitter_client_logic)
  add_executable(twitter_client_test ${CMAKE_CURRENT_LIST_DIR}/twitter_client_test.cpp)
  target_link_libraries(twitter_client_test PRIVATE trend::twitter_client_logic trend::wire trend::warnings doctest::doctest)
  # The shared real tweets (the simdjson reader is compared with the reference over all of them).
  target_compile_definitions(twitter_client_test PRIVATE TREND_SHARED_DATA="${TREND_SHARED_DATA}")
  doctest_discover_tests(twitter_client_test TEST_PREFIX "twitter_client: ")
endif()
