#pragma once
// Percent-encoding (RFC 3986): for wire 3's form bodies and OAuth 1.0a signatures. No I/O.
#include <string>
#include <string_view>

namespace wire::url {

/// How a space is written: %20 (RFC 3986, OAuth) or '+' (application/x-www-form-urlencoded,
/// as Python's urlencode writes it).
enum class space { percent, plus };

/// Every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX, upper-case hex.
std::string percent_encode(std::string_view text, space spaces = space::percent);

}  // namespace wire::url
