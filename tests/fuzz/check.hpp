#pragma once
// What a fuzz target asserts: a broken property aborts, so libFuzzer keeps the input as a crash.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace trend_fuzz {

/// Aborts with `what` when `ok` is false (kept in release builds, unlike assert).
inline void check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

/// The input as text.
inline std::string_view as_text(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace trend_fuzz
