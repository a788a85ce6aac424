// wire::pylit::parse, parse_str_list and parse_int_list on any bytes. What parses was valid UTF-8
// (Python decodes before literal_eval) and gives valid UTF-8 strs; written again as Python writes
// it (repr, repr_list) it parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "check.hpp"
#include "wire/pylit.hpp"
#include "wire/utf8.hpp"

using trend_fuzz::check;
namespace pylit = wire::pylit;

namespace {

void append_bytes_repr(const std::string& bytes, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out += "b'";
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += "\\x";
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xF]);
  }
  out.push_back('\'');
}

// Python's repr of a parsed value (bytes spelled with \x escapes throughout).
void append_value_repr(const pylit::value& v, std::string& out) {
  if (const auto* s = std::get_if<std::string>(&v.v)) {
    check(wire::utf8::valid(*s), "a parsed str is not valid UTF-8");
    pylit::append_repr(*s, out);
  } else if (const auto* b = std::get_if<pylit::bytes_value>(&v.v)) {
    append_bytes_repr(b->data, out);
  } else if (const auto* i = std::get_if<std::int64_t>(&v.v)) {
    out += std::to_string(*i);
  } else if (const auto* l = std::get_if<pylit::list>(&v.v)) {
    out.push_back('[');
    for (std::size_t k = 0; k < l->size(); ++k) {
      if (k) out += ", ";
      append_value_repr((*l)[k], out);
    }
    out.push_back(']');
  } else {
    const auto& d = std::get<pylit::dict>(v.v);
    out.push_back('{');
    for (std::size_t k = 0; k < d.size(); ++k) {
      if (k) out += ", ";
      append_value_repr(d[k].first, out);
      out += ": ";
      append_value_repr(d[k].second, out);
    }
    out.push_back('}');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);

  const auto v = pylit::parse(in);
  if (v.state == wire::status::ok) {
    check(v.consumed == in.size(), "a literal did not consume its text");
    check(wire::utf8::valid(in), "a literal with raw invalid UTF-8 parsed");
    std::string text;
    append_value_repr(v.value, text);
    const auto again = pylit::parse(text);
    check(again.state == wire::status::ok, "the repr of a parsed value does not parse");
    check(again.value == v.value, "parse(repr(v)) != v");
  } else {
    check(v.state == wire::status::bad && !v.error.message.empty(), "refused without a reason");
    check(v.error.offset <= in.size(), "an error offset past the input");
  }

  const auto strs = pylit::parse_str_list(in);
  check(strs.state != wire::status::ok || v.state == wire::status::ok, "a str list that is no literal");
  if (strs) {
    for (const auto& s : strs.value) check(wire::utf8::valid(s), "a str list item is not valid UTF-8");
    const std::string text = pylit::repr_list(std::span<const std::string>(strs.value));
    const auto again = pylit::parse_str_list(text);
    check(again.state == wire::status::ok && again.value == strs.value, "parse_str_list(repr_list(l)) != l");
  }

  const auto ints = pylit::parse_int_list(in);
  check(ints.state != wire::status::ok || v.state == wire::status::ok, "an int list that is no literal");
  if (ints) {
    const std::string text = pylit::repr_list(std::span<const std::int64_t>(ints.value));
    const auto again = pylit::parse_int_list(text);
    check(again.state == wire::status::ok && again.value == ints.value, "parse_int_list(repr_list(l)) != l");
  }
  return 0;
}
