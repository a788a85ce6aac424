#include "twitter_client/line_splitter.hpp"

namespace twitter_client {

void line_splitter::keep(std::string_view bytes) {
  if (oversized_) return;
  if (partial_.size() + bytes.size() > max_line_bytes) {
    partial_.clear();
    partial_.shrink_to_fit();
    oversized_ = true;
    ++oversized_lines_;
    return;
  }
  partial_.append(bytes);
}

bool line_splitter::reset() {
  const bool dropped = !partial_.empty() || oversized_;
  partial_.clear();
  oversized_ = false;
  return dropped;
}

}  // namespace twitter_client
