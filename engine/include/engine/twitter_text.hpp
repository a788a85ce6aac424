#pragma once
// Twitter's hashtag rules: what twitter-text (3.1.0, the JavaScript library) extractHashtags
// returns for a tweet's text.
//
// A hashtag is a hash mark ('#' or U+FF03) that is not preceded by a letter, mark, digit, '_',
// '&' or one of twitter-text's joiners (U+FE0E and U+FE0F before it are fine), not followed by
// U+FE0F or U+20E3 (a keycap), then the longest run of letters (\p{L}), marks (\p{M}), decimal
// digits (\p{Nd}), '_' and the joiners U+200C U+200D U+A67E U+05BE U+05F3 U+05F4 U+FF5E U+301C
// U+309B U+309C U+30A0 U+30FB U+3003 U+0F0B U+0F0C U+00B7, holding at least one letter or mark,
// and not followed by '#', U+FF03 or "://". A hashtag that starts inside a URL that twitter-text
// extracts (twitter.com/#tag) is dropped, as twitter-text's overlap rule does. Where this differs
// from twitter-text (top-level domains by a rule instead of its list; Unicode 15 categories
// instead of its older tables), docs/engine.md says how and by how much.
#include <string_view>
#include <vector>

namespace engine {

/// Replaces `out` with the hashtags of `text` (valid UTF-8), in order, as views into `text` of
/// each hashtag's text without its hash mark. One pass over `text`, linear time for any input.
void extract_hashtags(std::string_view text, std::vector<std::string_view>& out);

}  // namespace engine
