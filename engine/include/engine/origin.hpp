#pragma once
// Where a hashtag event sits in a log of several partitions (engine --kafka): the tweet's record
// timestamp, its partition and offset, and the hashtag's index in the tweet. Ordered as a tuple,
// it is "first seen over the log": the same order whatever number of engines counts it.
#include <compare>
#include <cstdint>

namespace engine {

struct origin {
  std::uint64_t hi = 0;  ///< timestamp in ms << 16 | source partition
  std::uint64_t lo = 0;  ///< offset << 16 | index of the hashtag in the tweet
  auto operator<=>(const origin&) const = default;

  /// Packs the four fields (the partition and the index saturate at 65,535, the offset at 2^48 - 1).
  static origin of(std::int64_t timestamp_ms, std::int32_t partition, std::int64_t offset, std::uint32_t index) noexcept {
    auto clamp = [](std::int64_t v, std::uint64_t max) {
      return v < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(v) > max ? max : static_cast<std::uint64_t>(v);
    };
    return {clamp(timestamp_ms, (std::uint64_t{1} << 48) - 1) << 16 | clamp(partition, 0xFFFF),
            clamp(offset, (std::uint64_t{1} << 48) - 1) << 16 | (index > 0xFFFF ? 0xFFFF : index)};
  }
  std::int64_t timestamp_ms() const noexcept { return static_cast<std::int64_t>(hi >> 16); }
  std::int32_t partition() const noexcept { return static_cast<std::int32_t>(hi & 0xFFFF); }
  std::int64_t offset() const noexcept { return static_cast<std::int64_t>(lo >> 16); }
  std::uint32_t index() const noexcept { return static_cast<std::uint32_t>(lo & 0xFFFF); }
};

}  // namespace engine
