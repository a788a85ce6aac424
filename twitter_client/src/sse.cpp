#include "twitter_client/sse.hpp"

#include <algorithm>

namespace twitter_client::sse {

void parser::feed(std::string_view bytes, const std::function<void(const event&)>& on_event) {
  // The stream may start with a UTF-8 byte order mark, itself possibly cut across pieces.
  while (!started_ && !bytes.empty()) {
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    bom_ += bytes.front();
    bytes.remove_prefix(1);
    if (bom_ == bom) {
      started_ = true;
      bom_.clear();
    } else if (bom.substr(0, bom_.size()) != bom_) {
      started_ = true;
      std::string held = std::move(bom_);
      bom_.clear();
      feed(held, on_event);
    }
  }
  while (!bytes.empty()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    const auto end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      if (!skip_line_) {
        if (partial_.size() + bytes.size() > max_) {
          // A line that cannot fit the limit: whatever event it belongs to is dropped.
          skip_line_ = true;
          partial_.clear();
          partial_.shrink_to_fit();
          too_big_ = true;
        } else {
          partial_.append(bytes);
        }
      }
      return;
    }
    after_cr_ = bytes[end] == '\r';
    if (skip_line_) {
      skip_line_ = false;
    } else if (partial_.empty()) {
      if (end > max_) too_big_ = true;
      else line(bytes.substr(0, end), on_event);
    } else if (partial_.size() + end > max_) {
      partial_.clear();
      too_big_ = true;
    } else {
      partial_.append(bytes.substr(0, end));
      std::string whole = std::move(partial_);
      partial_.clear();
      line(whole, on_event);
    }
    bytes.remove_prefix(end + 1);
  }
}

void parser::line(std::string_view l, const std::function<void(const event&)>& on_event) {
  if (l.empty()) {  // dispatch
    if (too_big_) {
      ++oversized_;
    } else if (has_data_) {
      event_.id = last_id_;
      if (event_.type.empty()) event_.type = "message";
      on_event(event_);
    }
    drop_event();
    return;
  }
  if (l.front() == ':') {
    ++comments_;
    return;
  }
  const auto colon = l.find(':');
  if (colon == std::string_view::npos) {
    field(l, {});
    return;
  }
  std::string_view value = l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  field(l.substr(0, colon), value);
}

void parser::field(std::string_view name, std::string_view value) {
  if (name == "event") {
    event_.type.assign(value);
  } else if (name == "data") {
    if (too_big_) return;
    if (event_.data.size() + value.size() + 1 > max_) {
      too_big_ = true;
      event_.data.clear();
      event_.data.shrink_to_fit();
      return;
    }
    if (has_data_) event_.data += '\n';
    event_.data.append(value);
    has_data_ = true;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (name == "retry") {
    if (!value.empty() && value.size() <= 18 && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
      retry_ms_ = std::stoull(std::string(value));
  }
  // Any other field is ignored, as the standard says.
}

void parser::drop_event() {
  event_.type.clear();
  event_.data.clear();
  has_data_ = false;
  too_big_ = false;
  if (event_.data.capacity() > 64 * 1024) event_.data.shrink_to_fit();
}

void parser::reset() {
  partial_.clear();
  skip_line_ = false;
  after_cr_ = false;
  drop_event();
}

}  // namespace twitter_client::sse
