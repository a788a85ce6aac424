#include "json_reader.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace twitter_client::json {

namespace {
// Above this, a reader's buffers are shrunk again once a smaller document comes.
constexpr std::size_t keep_capacity = 1 << 20;

// nlohmann's parser, the reference, refuses numbers that do not fit a double; so does this.
simdjson::error_code check_number(double d) { return std::isfinite(d) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR; }

bool digit(char c) { return c >= '0' && c <= '9'; }
bool one_of(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

// A number read with simdjson's parser: its own refusals are checked again on the token, since it
// refuses some valid numbers that nlohmann reads (see check_number_token). Only the token's start
// is taken from simdjson, and only when it lies in the calling thread's document: in a document
// cut short, the length raw_json_token() gives runs to the next structural index, which may lie
// past the input (the tweet_text fuzz target reached it). The token is the run of number characters.
simdjson::error_code read_number(od::value& v) {
  double d;
  const auto e = v.get_double().get(d);
  if (!e) return check_number(d);
  if (e != simdjson::NUMBER_ERROR) return e;
  const std::string_view in = thread_reader().input();
  const char* start = v.raw_json_token().data();
  const std::less<const char*> before;
  if (before(start, in.data()) || !before(start, in.data() + in.size())) return e;
  const std::size_t left = static_cast<std::size_t>(in.data() + in.size() - start);
  std::size_t n = 0;
  while (n < left && (digit(start[n]) || one_of(start[n], "+-.eE"))) ++n;
  // What ends a number: whitespace, a comma, a closing bracket or the end (anything else, simdjson
  // would have taken as part of the number's token).
  if (n < left && !one_of(start[n], " \t\n\r,]}")) return e;
  return check_number_token({start, n});
}
}  // namespace

simdjson::error_code check_number_token(std::string_view t) {
  while (!t.empty() && one_of(t.back(), " \t\n\r")) t.remove_suffix(1);
  std::size_t k = 0;
  auto digits = [&] {
    const std::size_t from = k;
    while (k < t.size() && digit(t[k])) ++k;
    return k > from;
  };
  if (k < t.size() && t[k] == '-') ++k;
  if (k < t.size() && t[k] == '0') ++k;
  else if (!(k < t.size() && t[k] != '0' && digits())) return simdjson::NUMBER_ERROR;
  if (k < t.size() && t[k] == '.' && (++k, !digits())) return simdjson::NUMBER_ERROR;
  if (k < t.size() && (t[k] == 'e' || t[k] == 'E')) {
    ++k;
    if (k < t.size() && (t[k] == '+' || t[k] == '-')) ++k;
    if (!digits()) return simdjson::NUMBER_ERROR;
  }
  if (k != t.size()) return simdjson::NUMBER_ERROR;
  // strtod as nlohmann calls it: underflow gives 0 (accepted), overflow infinity (refused). The
  // programs never change the C locale, so the decimal point is '.'.
  const std::string copy(t);
  return check_number(std::strtod(copy.c_str(), nullptr));
}

simdjson::simdjson_result<od::document> reader::iterate(std::string_view bytes) {
  if (bytes.size() <= keep_capacity && parser_.capacity() > keep_capacity) parser_ = od::parser{};
  if (bytes.size() <= keep_capacity && padded_.size() > keep_capacity + simdjson::SIMDJSON_PADDING) {
    padded_.clear();
    padded_.shrink_to_fit();
  }
  // A UTF-8 byte order mark is allowed before the document (RFC 8259 section 8.1), as nlohmann has it.
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  if (padded_.size() < bytes.size() + simdjson::SIMDJSON_PADDING) padded_.resize(bytes.size() + simdjson::SIMDJSON_PADDING);
  if (!bytes.empty()) std::memcpy(padded_.data(), bytes.data(), bytes.size());
  // The padding is zeroed, as simdjson's own padded_string has it: On-Demand reads a padding byte
  // as the next token of a document cut short (simdjson issue 1210), and the bytes of an earlier,
  // longer document left there sent it walking past the structural indexes (an unclosed array
  // after a longer line: found by the tweet_text fuzz target).
  std::memset(padded_.data() + bytes.size(), 0, simdjson::SIMDJSON_PADDING);
  size_ = bytes.size();
  return parser_.iterate(simdjson::padded_string_view(padded_.data(), bytes.size(), padded_.size()));
}

reader& thread_reader() {
  thread_local reader r;
  return r;
}

std::string open_object(std::string_view bytes, od::document& doc, od::object& obj) {
  if (auto e = thread_reader().iterate(bytes).get(doc)) return simdjson::error_message(e);
  if (doc.get_object().get(obj)) return "not a JSON object";
  return {};
}

simdjson::error_code check_value(od::value v, int depth) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  return check_value(v, type, depth);
}

simdjson::error_code check_value(od::value v, od::json_type type, int depth) {
  switch (type) {
    case od::json_type::object: {
      if (depth >= max_depth) return too_deep;
      od::object obj;
      if (auto e = v.get_object().get(obj)) return e;
      return for_each_field(obj, [depth](std::string_view, od::value child) { return check_value(child, depth + 1); });
    }
    case od::json_type::array: {
      if (depth >= max_depth) return too_deep;
      od::array arr;
      if (auto e = v.get_array().get(arr)) return e;
      for (auto element : arr) {
        od::value child;
        if (auto e = element.get(child)) return e;
        if (auto e = check_value(child, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::number:
      return read_number(v);
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool null = false;
      if (auto e = v.is_null().get(null)) return e;
      return null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

simdjson::error_code check_root(od::document& doc, od::json_type type) {
  switch (type) {
    case od::json_type::object:
    case od::json_type::array: {
      od::value v;
      if (auto e = doc.get_value().get(v)) return e;
      return check_value(v, type, 0);
    }
    case od::json_type::string: {
      std::string_view s;
      return doc.get_string().get(s);
    }
    case od::json_type::number: {  // not read_number: the token says nothing of what trails it
      double d;
      if (auto e = doc.get_double().get(d)) return e;
      return check_number(d);
    }
    case od::json_type::boolean: {
      bool b;
      return doc.get_bool().get(b);
    }
    case od::json_type::null: {
      bool null = false;
      if (auto e = doc.is_null().get(null)) return e;
      return null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

}  // namespace twitter_client::json
