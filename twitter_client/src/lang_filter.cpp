#include "twitter_client/lang_filter.hpp"

#include <algorithm>

namespace twitter_client {

namespace {
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}
}  // namespace

bool valid_lang_code(std::string_view code) {
  std::size_t i = 0;
  while (i < code.size() && is_alpha(code[i])) ++i;
  if (i < 2 || i > 3) return false;
  while (i < code.size()) {
    if (code[i++] != '-') return false;
    const std::size_t start = i;
    while (i < code.size() && is_alnum(code[i])) ++i;
    if (i == start || i - start > 8) return false;
  }
  return true;
}

bool lang_matches(std::string_view code, std::string_view tag) {
  if (iequal(code, tag)) return true;
  return tag.size() > code.size() && tag[code.size()] == '-' && iequal(code, tag.substr(0, code.size()));
}

bool lang_filter::accepts(std::string_view tag) const {
  if (codes_.empty()) return true;
  return std::any_of(codes_.begin(), codes_.end(), [&](const std::string& c) { return lang_matches(c, tag); });
}

bool lang_filter::accepts(const std::vector<std::string>& tags) const {
  if (codes_.empty()) return true;
  return std::any_of(tags.begin(), tags.end(), [&](const std::string& t) { return !t.empty() && accepts(t); });
}

}  // namespace twitter_client
