#include "socket_receiver/latest_slot.hpp"

#include "wire/url.hpp"

#include <algorithm>

#include <span>

#include "wire/pylit.hpp"

namespace socket_receiver {

outcome classify(long http_status) noexcept {
  if (http_status >= 200 && http_status < 300) return outcome::delivered;
  // 408 and 429 say "later", not "never".
  if (http_status >= 400 && http_status < 500 && http_status != 408 && http_status != 429) return outcome::rejected;
  return outcome::failed;
}

bool latest_slot::offer(std::string body) {
  const bool replaced = waiting_.has_value();
  if (replaced) ++superseded_;
  waiting_ = std::move(body);
  return replaced;
}

std::optional<std::string> latest_slot::take(clock::time_point now) {
  if (in_flight_ || !waiting_ || now < not_before_) return std::nullopt;
  flying_ = std::move(*waiting_);
  waiting_.reset();
  in_flight_ = true;
  return flying_;
}

std::optional<clock::duration> latest_slot::done(outcome result, clock::time_point now) {
  in_flight_ = false;
  if (result != outcome::failed) {
    result == outcome::delivered ? ++forwarded_ : ++rejected_;
    streak_ = 0;
    retry_.reset();
    not_before_ = {};
    flying_.clear();
    return std::nullopt;
  }
  ++failures_;
  ++streak_;
  if (waiting_) {
    ++superseded_;  // a newer top-10 arrived while this one was failing: send that one instead
  } else {
    waiting_ = std::move(flying_);
  }
  flying_.clear();
  const clock::duration delay = retry_.next();
  not_before_ = now + delay;
  return delay;
}

std::optional<clock::time_point> latest_slot::ready_at() const noexcept {
  if (in_flight_ || !waiting_) return std::nullopt;
  return not_before_;
}

std::string form_urlencode(std::string_view text) { return wire::url::percent_encode(text, wire::url::space::plus); }

std::string form_body(const wire::record::top_list& top) {
  std::string labels, counts;
  wire::pylit::append_repr_list(std::span<const std::string>(top.labels), labels);
  wire::pylit::append_repr_list(std::span<const std::int64_t>(top.counts), counts);
  return "label=" + form_urlencode(labels) + "&data=" + form_urlencode(counts);
}

bool malformed_tally::note(std::string_view kind) {
  ++total_;
  if (auto it = kinds_.find(kind); it != kinds_.end()) {
    ++it->second;
    return false;
  }
  if (kinds_.size() >= max_kinds) {
    auto [it, fresh] = kinds_.try_emplace("other", 0);
    ++it->second;
    return fresh;
  }
  kinds_.emplace(std::string(kind), 1);
  return true;
}

std::uint64_t malformed_tally::count(std::string_view kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? 0 : it->second;
}

drained drain(wire::record::splitter& split, malformed_tally& malformed) {
  drained out;
  std::vector<std::string> texts;
  while (auto text = split.next()) texts.push_back(std::move(*text));
  out.received = texts.size();
  for (std::size_t k = texts.size(); k-- > 0;) {
    auto top = wire::record::parse(texts[k]);
    if (top) {
      out.valid = 1;
      out.unparsed = k;
      out.newest = std::move(*top);
      break;
    }
    const wire::error& err = top.error;
    if (malformed.note(err.message)) out.new_kinds.push_back(err.message + " at byte " + std::to_string(err.offset));
  }
  std::reverse(out.new_kinds.begin(), out.new_kinds.end());  // log in stream order
  return out;
}

std::string stats_line(const stats& s) {
  return "connections=" + std::to_string(s.connections) + " received=" + std::to_string(s.received) +
         " forwarded=" + std::to_string(s.forwarded) + " superseded=" + std::to_string(s.superseded) +
         " malformed=" + std::to_string(s.malformed) + " overflows=" + std::to_string(s.overflows) +
         " rejected=" + std::to_string(s.rejected) + " failed_attempts=" + std::to_string(s.failures);
}

}  // namespace socket_receiver
