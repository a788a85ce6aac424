#include "engine/record_text.hpp"

#include "wire/pylit.hpp"

namespace engine {

namespace {

// repr(tag) as it appears inside the label's outer repr: backslashes doubled, and with ' quotes
// the quote escaped. Nothing else needs escaping: repr's output is printable or escaped already.
std::string escape_for_label(std::string_view inner, char quote) {
  std::string out;
  out.reserve(inner.size() + 4);
  for (const char c : inner) {
    if (c == '\\' || c == quote) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

label_fragment make_fragment(std::string_view tag) {
  const std::string inner = wire::pylit::repr(tag);
  return label_fragment{escape_for_label(inner, '"'), escape_for_label(inner, '\''),
                        inner.find('"') != std::string::npos};
}

}  // namespace engine
