#include "socket_receiver/records.hpp"

#include <algorithm>
#include <span>

#include "common/log.hpp"
#include "wire/pylit.hpp"
#include "wire/url.hpp"

namespace socket_receiver {

std::string form_body(const wire::record::top_list& top) {
  std::string labels, counts;
  wire::pylit::append_repr_list(std::span<const std::string>(top.labels), labels);
  wire::pylit::append_repr_list(std::span<const std::int64_t>(top.counts), counts);
  return wire::url::encode_form({{"label", labels}, {"data", counts}});
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

std::string describe_malformed(std::string_view text, const wire::error& error) {
  constexpr std::size_t before = 40, shown = 100;
  // The white space the engine writes after each ';;' is no part of the record worth showing.
  const std::size_t start = std::min(text.find_first_not_of(" \t\n\r\f\v"), text.size());
  const std::size_t at = std::min(error.offset, text.size());
  const std::size_t from = std::max(start, at > before ? at - before : 0);
  const std::string_view window = text.substr(from, shown);
  return common::log::escape(error.message, shown) + " at byte " + std::to_string(error.offset) + " of a " +
         std::to_string(text.size()) + "-byte record: " + (from > start ? "..." : "") +
         common::log::escape(window, shown) + (from + window.size() < text.size() ? "..." : "");
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
    if (malformed.note(top.error.message)) out.new_kinds.push_back(describe_malformed(texts[k], top.error));
  }
  std::reverse(out.new_kinds.begin(), out.new_kinds.end());  // log in stream order
  return out;
}

bool unfinished(std::string_view pending) noexcept {
  return pending.find_first_not_of(" \t\n\r\f\v") != std::string_view::npos;
}

}  // namespace socket_receiver
