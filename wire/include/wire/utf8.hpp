#pragma once
// UTF-8 helpers with Python's strictness (bytes.decode("utf-8")): no overlongs, no surrogates,
// nothing above U+10FFFF.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wire::utf8 {

/// Offset of the first byte that is not part of well-formed UTF-8 (Python's strict decoder),
/// or std::string_view::npos when all of `s` is well-formed.
std::size_t invalid_at(std::string_view s) noexcept;

/// True when `s` is well-formed UTF-8 as Python's strict decoder defines it.
inline bool valid(std::string_view s) noexcept { return invalid_at(s) == std::string_view::npos; }

/// Appends code point `cp` (<= 0x10FFFF; surrogates are written as-is, WTF-8 style) to `out`.
void append(char32_t cp, std::string& out);

/// Decodes the code point at `s[i]` of valid UTF-8 and advances `i`.
char32_t next(std::string_view s, std::size_t& i) noexcept;

}  // namespace wire::utf8
