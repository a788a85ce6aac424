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

parsed<top_list> parse(std::string_view text) {
  using out_t = parsed<top_list>;
  auto r = pylit::parse(text);
  if (!r) return out_t::bad(r);
  const auto* d = std::get_if<pylit::dict>(&r->v);
  if (!d) return out_t::bad(0, "record is not a dict");
  const std::string* label = nullptr;
  const std::string* data = nullptr;
  for (const auto& [key, val] : *d) {
    const auto* name = std::get_if<std::string>(&key.v);
    const auto* text_value = std::get_if<std::string>(&val.v);
    if (!name || (*name != "label" && *name != "data"))
      return out_t::bad(0, "record has a key other than 'label' and 'data'");
    if (!text_value) return out_t::bad(0, "record's '" + *name + "' is not a str");
    (*name == "label" ? label : data) = text_value;
  }
  if (!label || !data) return out_t::bad(0, label ? "record has no 'data'" : "record has no 'label'");
  auto labels = pylit::parse_str_list(*label);
  if (!labels) return out_t::bad(0, "'label': " + labels.error.message);
  auto counts = pylit::parse_int_list(*data);
  if (!counts) return out_t::bad(0, "'data': " + counts.error.message);
  if (labels->size() != counts->size())
    return out_t::bad(0, "'label' has " + std::to_string(labels->size()) + " items, 'data' " +
                             std::to_string(counts->size()));
  return out_t::ok(top_list{std::move(*labels), std::move(*counts)}, text.size());
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
      // A trailing ';' may be the separator's first half, not the record's: a record of exactly
      // `limit_` bytes is kept however its bytes arrive.
      const std::size_t held = rest.size() - (!rest.empty() && rest.back() == ';' ? 1 : 0);
      if (!discarding_ && held > limit_) {
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
