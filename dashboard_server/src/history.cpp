#include "dashboard_server/history.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dashboard_server {

std::int64_t second_of(std::int64_t ms) noexcept { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

history::history(std::chrono::seconds span) : span_(std::max(span, std::chrono::seconds(1))) {}

void history::record(const board& b) {
  const std::size_t n = std::min({b.labels.size(), b.counts.size(), history_top});
  // ordered_json keeps "t" first, as documented; lone surrogates are replaced, never thrown on.
  nlohmann::ordered_json j;
  j["t"] = b.updated_ms;
  j["r_hashtags"] = std::vector<std::string>(b.labels.begin(), b.labels.begin() + static_cast<std::ptrdiff_t>(n));
  j["r_counts"] = std::vector<std::int64_t>(b.counts.begin(), b.counts.begin() + static_cast<std::ptrdiff_t>(n));
  snapshot s{second_of(b.updated_ms), j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)};

  while (!ring_.empty() && ring_.back().second >= s.second) {  // the same second, or a clock gone back
    bytes_ -= ring_.back().json.size();
    ring_.pop_back();
  }
  bytes_ += s.json.size();
  ring_.push_back(std::move(s));
  const std::int64_t oldest_kept = ring_.back().second - span_.count() + 1;
  while (ring_.size() > 1 && (ring_.front().second < oldest_kept || bytes_ > history_max_bytes)) {
    bytes_ -= ring_.front().json.size();
    ring_.pop_front();
  }
}

std::string history::json(std::int64_t now_ms) const {
  const std::int64_t oldest_shown = second_of(now_ms) - span_.count() + 1;
  std::string out = "[";
  out.reserve(bytes_ + ring_.size() + 2);
  for (const auto& s : ring_) {
    if (s.second < oldest_shown) continue;
    if (out.size() > 1) out += ',';
    out += s.json;
  }
  out += ']';
  return out;
}

response history_response(std::shared_ptr<const std::string> body) {
  response r{200, "application/json", {}, {{"Cache-Control", "no-store"}}, {}};
  r.shared_body = std::move(body);
  return r;
}

}  // namespace dashboard_server
