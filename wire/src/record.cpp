#include "wire/record.hpp"

#include <cstring>

namespace wire::record {

void append(const top_list& top, std::string& out) {
  std::string labels, counts;
  pylit::append_repr_list(std::span<const std::string>(top.labels), labels);
  pylit::append_repr_list(std::span<const std::int64_t>(top.counts), counts);
  out += "{'label': ";
  pylit::append_repr(labels, out);
  out += ", 'data': ";
  pylit::append_repr(counts, out);
  out.push_back('}');
  out += terminator;
}

std::string encode(const top_list& top) {
  std::string out;
  append(top, out);
  return out;
}

std::optional<top_list> parse(std::string_view text, pylit::error* err) {
  auto set = [err](std::size_t at, std::string message) {
    if (err) *err = pylit::error{at, std::move(message)};
    return std::nullopt;
  };
  pylit::result r = pylit::parse(text);
  if (!r) return set(r.err.offset, std::move(r.err.message));
  const auto* d = std::get_if<pylit::dict>(&r.ok->v);
  if (!d) return set(0, "record is not a dict");
  const std::string* label = nullptr;
  const std::string* data = nullptr;
  for (const auto& [key, val] : *d) {
    const auto* name = std::get_if<std::string>(&key.v);
    const auto* text_value = std::get_if<std::string>(&val.v);
    if (!name || (*name != "label" && *name != "data")) return set(0, "record has a key other than 'label' and 'data'");
    if (!text_value) return set(0, "record's '" + *name + "' is not a str");
    (*name == "label" ? label : data) = text_value;
  }
  if (!label || !data) return set(0, label ? "record has no 'data'" : "record has no 'label'");
  top_list top;
  pylit::error inner;
  auto labels = pylit::parse_str_list(*label, &inner);
  if (!labels) return set(0, "'label': " + inner.message);
  auto counts = pylit::parse_int_list(*data, &inner);
  if (!counts) return set(0, "'data': " + inner.message);
  if (labels->size() != counts->size())
    return set(0, "'label' has " + std::to_string(labels->size()) + " items, 'data' " + std::to_string(counts->size()));
  top.labels = std::move(*labels);
  top.counts = std::move(*counts);
  return top;
}

void splitter::feed(std::string_view bytes) {
  if (pos_ > 0 && (pos_ >= buf_.size() || pos_ >= 64 * 1024)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<std::string> splitter::next() {
  while (true) {
    const std::string_view rest = std::string_view(buf_).substr(pos_);
    const std::size_t found = rest.find(separator, scanned_);
    if (found == std::string_view::npos) {
      // Keep a trailing ';' unscanned: it may start the separator in the next bytes.
      scanned_ = rest.empty() ? 0 : rest.size() - 1;
      if (!discarding_ && rest.size() > limit_) {
        ++overflows_;
        discarding_ = true;
      }
      if (discarding_) {  // drop what cannot be a record, keep a possible leading ';'
        const std::size_t keep = !rest.empty() && rest.back() == ';' ? 1 : 0;
        pos_ = buf_.size() - keep;
        scanned_ = 0;
      }
      return std::nullopt;
    }
    std::string text(rest.substr(0, found));
    pos_ += found + separator.size();
    scanned_ = 0;
    if (discarding_) {  // the tail of an oversized run: resynchronised after its separator
      discarding_ = false;
      continue;
    }
    if (text.size() > limit_) {
      ++overflows_;
      continue;
    }
    return text;
  }
}

}  // namespace wire::record
