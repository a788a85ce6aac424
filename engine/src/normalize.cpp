#include "engine/normalize.hpp"

#include <utf8proc.h>

#include <array>
#include <cstddef>
#include <vector>

namespace engine {

void normalize_nfkc_lower(std::string_view tag, std::string& out) {
  // ASCII is its own NFKC form: lowercase it byte by byte, into out's own storage.
  const std::size_t n = tag.size();
  out.resize(n);
  char* dst = out.data();
  std::size_t i = 0;
  for (; i < n; ++i) {
    const char c = tag[i];
    if (static_cast<unsigned char>(c) >= 0x80) break;
    dst[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  }
  if (i == n) return;

  // Otherwise decompose (compatibility), compose, then lowercase each code point. Hashtags are
  // short: the code points fit on the stack unless NFKC expands a long one a lot.
  constexpr auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE);
  std::array<utf8proc_int32_t, 256> stack;
  std::vector<utf8proc_int32_t> heap;
  utf8proc_int32_t* cps = stack.data();
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(tag.data());
  const auto size = static_cast<utf8proc_ssize_t>(n);
  utf8proc_ssize_t len = utf8proc_decompose(bytes, size, cps, static_cast<utf8proc_ssize_t>(stack.size()), options);
  if (len > static_cast<utf8proc_ssize_t>(stack.size())) {
    heap.resize(static_cast<std::size_t>(len));
    cps = heap.data();
    len = utf8proc_decompose(bytes, size, cps, len, options);
  }
  if (len >= 0) len = utf8proc_normalize_utf32(cps, len, options);
  if (len < 0) {  // not UTF-8: outside the contract, keep the bytes
    out.assign(tag);
    return;
  }
  out.clear();
  utf8proc_uint8_t encoded[4];
  for (utf8proc_ssize_t k = 0; k < len; ++k) {
    const utf8proc_ssize_t w = utf8proc_encode_char(utf8proc_tolower(cps[k]), encoded);
    out.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(w));
  }
}

}  // namespace engine
