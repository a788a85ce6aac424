#pragma once
// Wire 3's form bodies (application/x-www-form-urlencoded) and RFC 3986 percent-encoding, which
// OAuth 1.0a signatures use too. No I/O.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wire::url {

/// How a space is written: %20 (RFC 3986, OAuth) or '+' (application/x-www-form-urlencoded,
/// as Python's urlencode writes it).
enum class space { percent, plus };

/// Every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX, upper-case hex.
std::string percent_encode(std::string_view text, space spaces = space::percent);

/// The value of a hexadecimal digit, or -1.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes one form field as werkzeug does: '+' is a space, %XX a byte, a malformed % sequence
/// stays as it is. Never fails. form_decode(percent_encode(x, space::plus)) == x for any bytes x.
std::string form_decode(std::string_view text);

/// Decoded form fields in order; duplicates kept.
using form = std::vector<std::pair<std::string, std::string>>;

/// Splits an application/x-www-form-urlencoded body on '&' and decodes each name=value pair;
/// empty pairs are skipped and a field without '=' has an empty value (as werkzeug).
form parse_form(std::string_view body);

/// "name=value&..." with both encoded as Python's urlencode does (space as '+').
std::string encode_form(const form& fields);

}  // namespace wire::url
