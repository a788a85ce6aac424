#pragma once
// --lang: forward only posts tagged with one of the asked languages. Pure.
#include <string>
#include <string_view>
#include <vector>

namespace twitter_client {

/// True when `code` is a language tag --lang accepts: 2 or 3 letters, then "-" subtags of 1 to
/// 8 letters or digits (BCP 47 shape: "en", "pt-BR", "zh-Hant").
bool valid_lang_code(std::string_view code);

/// True when a post's tag is the language `code` names: the same tag ignoring case, or `code` is
/// the tag's start up to a "-" ("en" takes "en-US"; "pt-BR" does not take "pt").
bool lang_matches(std::string_view code, std::string_view tag);

/// The --lang codes; an empty filter lets every post through.
class lang_filter {
public:
  lang_filter() = default;
  explicit lang_filter(std::vector<std::string> codes) : codes_(std::move(codes)) {}
  bool empty() const { return codes_.empty(); }
  /// True when the filter is empty or one of `tags` matches one of the codes (no tag: false).
  bool accepts(const std::vector<std::string>& tags) const;
  /// The same for a post with at most one tag (empty: none).
  bool accepts(std::string_view tag) const;

private:
  std::vector<std::string> codes_;
};

}  // namespace twitter_client
