#pragma once
// Hashtags to ids, for both counters: open addressing with linear probing; each slot holds
// (hash high 32 bits << 32) | (id + 1), 0 when empty, so most misses cost no text comparison.
// The texts live with the caller, which says whether an id's text is the key (`same`).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/hash.hpp"

namespace engine {

class tag_table {
public:
  /// Grows (doubling) when more than load_num/load_den of the slots would be taken.
  tag_table(unsigned load_num, unsigned load_den) : num_(load_num), den_(load_den) { reset(0); }

  static std::uint32_t hash(std::string_view key) noexcept { return static_cast<std::uint32_t>(hash_bytes(key) >> 32); }

  struct found {
    bool hit;
    std::uint32_t id;    ///< on a hit
    std::size_t slot;    ///< on a miss: where the key goes
    std::uint32_t h32;
  };

  /// Looks `key` up; same(id) tells whether the id with the same hash is the key.
  template <class Same>
  found find(std::string_view key, Same&& same) const noexcept {
    const std::uint32_t h32 = hash(key);
    std::size_t pos = h32 & mask_;
    while (true) {
      const std::uint64_t slot = slots_[pos];
      if (slot == 0) return {false, 0, pos, h32};
      if (static_cast<std::uint32_t>(slot >> 32) == h32) {
        const auto id = static_cast<std::uint32_t>((slot & 0xFFFFFFFFu) - 1);
        if (same(id)) return {true, id, pos, h32};
      }
      pos = (pos + 1) & mask_;
    }
  }

  /// Puts `id` where find() missed; `live` is how many ids the table then holds.
  void insert(const found& miss, std::uint32_t id, std::size_t live);
  /// Removes `id`, held under `h32` (backward-shift deletion: no tombstones).
  void erase(std::uint32_t h32, std::uint32_t id);
  /// Empties the table, sized for `expected` ids; add() them back.
  void reset(std::size_t expected);
  /// Adds an id known to be absent (a rebuild).
  void add(std::uint32_t h32, std::uint32_t id);
  std::size_t memory_bytes() const noexcept { return slots_.capacity() * sizeof(std::uint64_t); }

private:
  void grow();
  unsigned num_, den_;
  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
};

}  // namespace engine
