# Warnings and sanitizers as INTERFACE targets, linked PRIVATE by every target of ours.
add_library(trend_warnings INTERFACE)
add_library(trend::warnings ALIAS trend_warnings)
target_compile_options(trend_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough
  $<$<BOOL:${TREND_WERROR}>:-Werror>)

add_library(trend_options INTERFACE)
add_library(trend::options ALIAS trend_options)
target_compile_features(trend_options INTERFACE cxx_std_20)
if(TREND_SANITIZE)
  target_compile_options(trend_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(trend_options INTERFACE -fsanitize=address,undefined)
endif()
