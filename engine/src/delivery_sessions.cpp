#include "engine/delivery_sessions.hpp"

namespace engine {

std::uint64_t delivery_sessions::applied(std::uint64_t session) const {
  const auto it = by_id_.find(session);
  return it == by_id_.end() ? 0 : it->second->applied;
}

bool delivery_sessions::apply(std::uint64_t session, std::uint64_t frame) {
  auto it = by_id_.find(session);
  if (it == by_id_.end()) {
    if (order_.size() >= max_sessions) {
      by_id_.erase(order_.back().session);
      order_.pop_back();
    }
    order_.push_front(entry{session, frame});
    by_id_[session] = order_.begin();
    return true;
  }
  order_.splice(order_.begin(), order_, it->second);
  if (frame <= it->second->applied) return false;
  it->second->applied = frame;
  return true;
}

void delivery_sessions::save(bytes_out& out) const {
  out.varint(order_.size());
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {  // oldest first: restore keeps the order
    out.u64(it->session);
    out.varint(it->applied);
  }
}

bool delivery_sessions::restore(bytes_in& in) {
  *this = delivery_sessions();
  std::uint64_t n = 0;
  if (!in.varint(n) || n > max_sessions) return false;
  for (std::uint64_t k = 0; k < n; ++k) {
    std::uint64_t session = 0, applied = 0;
    if (!in.u64(session) || !in.varint(applied)) {
      *this = delivery_sessions();
      return false;
    }
    apply(session, applied);
  }
  return true;
}

}  // namespace engine
