#pragma once
// The key a hashtag is counted under with --normalize nfkc-lower: Mastodon's rule, the Unicode
// NFKC form in lowercase. Full-width and compatibility forms meet their plain forms ("ＴＡＧ" and
// "tag"), case goes ("Tag" and "tag"), accents stay ("café" and "cafe" are two hashtags).
// Lowercase is Unicode's simple (one-to-one) mapping: "İstanbul" becomes "istanbul" (not
// "i̇stanbul" with a combining dot, as full case mapping would), so it meets "Istanbul".
#include <string>
#include <string_view>

namespace engine {

/// Replaces `out` with the NFKC form of `tag` (valid UTF-8, not a view of `out`) in lowercase,
/// allocating only when `out` is too small. Invalid UTF-8 is copied unchanged (never passed).
void normalize_nfkc_lower(std::string_view tag, std::string& out);

}  // namespace engine
