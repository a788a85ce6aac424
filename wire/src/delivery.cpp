#include "wire/delivery.hpp"

#include <charconv>
#include <cstdio>

namespace wire::delivery {

namespace {

// "<name>=<digits>" or "<digits>" at the front of `in`, base 10 or 16; advances `in`.
bool take_number(std::string_view& in, std::string_view name, int base, std::uint64_t& value) {
  if (!name.empty()) {
    if (in.substr(0, name.size()) != name || in.size() <= name.size() || in[name.size()] != '=') return false;
    in.remove_prefix(name.size() + 1);
  }
  const auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), value, base);
  if (ec != std::errc{} || end == in.data()) return false;
  in.remove_prefix(static_cast<std::size_t>(end - in.data()));
  return true;
}

// The words after the prefix, without the final '\n'; nullopt when the framing is not ours.
std::optional<std::string_view> body_of(std::string_view payload, std::string_view verb) {
  if (!is_control(payload) || payload.empty() || payload.back() != '\n') return std::nullopt;
  payload.remove_prefix(prefix.size());
  payload.remove_suffix(1);
  if (payload.substr(0, verb.size()) != verb) return std::nullopt;
  payload.remove_prefix(verb.size());
  return payload;
}

}  // namespace

std::string encode(const hello& h) {
  char text[96];
  std::snprintf(text, sizeof text, "hello session=%016llx next=%llu\n", static_cast<unsigned long long>(h.session),
                static_cast<unsigned long long>(h.next));
  return std::string(prefix) + text;
}

std::string encode(const welcome& w) {
  return std::string(prefix) + "welcome applied=" + std::to_string(w.applied) + "\n";
}

std::string encode(const ack& a) { return std::string(prefix) + "ack " + std::to_string(a.upto) + "\n"; }

parsed<hello> parse_hello(std::string_view payload) {
  auto body = body_of(payload, "hello ");
  hello h;
  if (!body || !take_number(*body, "session", 16, h.session) || body->substr(0, 1) != " ") 
    return parsed<hello>::bad(0, "malformed hello");
  body->remove_prefix(1);
  if (!take_number(*body, "next", 10, h.next) || !body->empty() || h.session == 0 || h.next == 0)
    return parsed<hello>::bad(0, "malformed hello");
  return parsed<hello>::ok(h, payload.size());
}

parsed<welcome> parse_welcome(std::string_view payload) {
  auto body = body_of(payload, "welcome ");
  welcome w;
  if (!body || !take_number(*body, "applied", 10, w.applied) || !body->empty())
    return parsed<welcome>::bad(0, "malformed welcome");
  return parsed<welcome>::ok(w, payload.size());
}

parsed<ack> parse_ack(std::string_view payload) {
  auto body = body_of(payload, "ack ");
  ack a;
  if (!body || !take_number(*body, "", 10, a.upto) || !body->empty()) return parsed<ack>::bad(0, "malformed ack");
  return parsed<ack>::ok(a, payload.size());
}

}  // namespace wire::delivery
