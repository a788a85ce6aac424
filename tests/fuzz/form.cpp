// Form bodies (application/x-www-form-urlencoded): wire::url::parse_form and form_decode on any
// bytes, and the round trips: parse_form(encode_form(parse_form(x))) == parse_form(x);
// form_decode(percent_encode(x)) == x, spaces written as '+' or as %20.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "wire/url.hpp"

using trend_fuzz::check;
namespace url = wire::url;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);

  const url::form fields = url::parse_form(in);
  std::size_t decoded = 0;
  for (const auto& [name, value] : fields) decoded += name.size() + value.size();
  check(decoded <= in.size(), "decoded fields longer than the body");
  const std::string body = url::encode_form(fields);
  check(url::parse_form(body) == fields, "parse_form(encode_form(f)) != f");
  check(url::encode_form(url::parse_form(body)) == body, "encode_form is not stable");

  for (const auto spaces : {url::space::plus, url::space::percent}) {
    const std::string encoded = url::percent_encode(in, spaces);
    check(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%+") ==
              std::string::npos,
          "percent_encode wrote a reserved byte");
    check(url::form_decode(encoded) == in, "form_decode(percent_encode(x)) != x");
  }
  check(url::form_decode(in).size() <= in.size(), "form_decode grew its input");
  return 0;
}
