#include "engine/tag_table.hpp"

namespace engine {

void tag_table::insert(const found& miss, std::uint32_t id, std::size_t live) {
  slots_[miss.slot] = (std::uint64_t{miss.h32} << 32) | (std::uint64_t{id} + 1);
  if (live * den_ > slots_.size() * num_) grow();
}

void tag_table::add(std::uint32_t h32, std::uint32_t id) {
  std::size_t pos = h32 & mask_;
  while (slots_[pos] != 0) pos = (pos + 1) & mask_;
  slots_[pos] = (std::uint64_t{h32} << 32) | (std::uint64_t{id} + 1);
}

void tag_table::grow() {
  std::vector<std::uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const std::uint64_t slot : old)
    if (slot != 0) add(static_cast<std::uint32_t>(slot >> 32), static_cast<std::uint32_t>((slot & 0xFFFFFFFFu) - 1));
}

void tag_table::reset(std::size_t expected) {
  std::size_t size = 1 << 12;
  while (expected * den_ > size * num_) size *= 2;
  slots_.assign(size, 0);
  mask_ = size - 1;
}

void tag_table::erase(std::uint32_t h32, std::uint32_t id) {
  std::size_t i = h32 & mask_;
  while ((slots_[i] & 0xFFFFFFFFu) != std::uint64_t{id} + 1) i = (i + 1) & mask_;
  std::size_t j = i;
  while (true) {
    j = (j + 1) & mask_;
    if (slots_[j] == 0) break;
    const std::size_t home = static_cast<std::uint32_t>(slots_[j] >> 32) & mask_;
    // Move slots_[j] into the hole at i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = 0;
}

}  // namespace engine
