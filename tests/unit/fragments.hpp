#pragma once
// Feeding decoders their input cut into pieces (seastar's for_each_fragment_size).
#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace trend_test {

/// The piece sizes every incremental decoder is tested with; 0 means "whole".
inline constexpr std::array<std::size_t, 6> fragment_sizes{1, 2, 5, 10, 100, 0};

/// Calls feed(piece) for consecutive pieces of `input` of `size` bytes (whole when 0).
template <class Feed>
void for_each_fragment(std::string_view input, std::size_t size, Feed&& feed) {
  if (size == 0) size = input.size() ? input.size() : 1;
  for (std::size_t at = 0; at < input.size(); at += size) feed(input.substr(at, std::min(size, input.size() - at)));
}

}  // namespace trend_test
