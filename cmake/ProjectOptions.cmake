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

# libFuzzer (clang only): every library instrumented for coverage and checked by ASan+UBSan;
# only the targets of tests/fuzz link libFuzzer's main (scripts/fuzz builds and runs them).
if(TREND_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TREND_FUZZ needs clang (libFuzzer): configure with CXX=clang++ in its own build dir")
  endif()
  if(TREND_SANITIZE)
    message(FATAL_ERROR "TREND_FUZZ already turns on ASan and UBSan: drop TREND_SANITIZE")
  endif()
  # -fno-sanitize=function: clang 14 cannot emit that check into coroutines (asio's, in common/):
  # "Cannot represent a difference across sections".
  target_compile_options(trend_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(trend_options INTERFACE -fsanitize=address,undefined)
endif()
