#pragma once
// simdjson On-Demand helpers shared by the readers of outside JSON (tweets, Jetstream, Mastodon).
// Private to the library. On-Demand validates only what is read, so these read everything.
#include <simdjson.h>

#include <string>
#include <string_view>

namespace twitter_client::json {

namespace od = simdjson::ondemand;

/// Returned for containers nested deeper than max_depth (callers may fall back to a slower reader).
inline constexpr simdjson::error_code too_deep = simdjson::DEPTH_ERROR;
/// Deepest nesting walked (simdjson's own default limit is 1024).
inline constexpr int max_depth = 1000;

/// A parser and a padded copy of the input (On-Demand reads up to SIMDJSON_PADDING bytes past the
/// end); memory grown for one large document is given back on the next small one.
class reader {
public:
  /// Parses `bytes` (copied); the document lives until the next call.
  simdjson::simdjson_result<od::document> iterate(std::string_view bytes);
  /// The bytes of the document last given to iterate() (its copy, which the document points into).
  std::string_view input() const noexcept { return {padded_.data(), size_}; }

private:
  od::parser parser_;
  std::string padded_;
  std::size_t size_ = 0;
};

/// The calling thread's reader.
reader& thread_reader();

/// Parses `bytes` with the calling thread's reader into `doc` and takes its root object into
/// `obj`: an empty string, or why not (simdjson's message, or "not a JSON object").
std::string open_object(std::string_view bytes, od::document& doc, od::object& obj);

/// Reads a value and everything in it, `depth` containers deep: SUCCESS when it is valid JSON.
simdjson::error_code check_value(od::value v, int depth);
/// The same when the caller already asked for its type.
simdjson::error_code check_value(od::value v, od::json_type type, int depth);
/// True once the whole document was read (nothing follows the root value).
inline bool at_end(od::document& doc) { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; }
/// Reads a whole document that is not an object (an array or a scalar).
simdjson::error_code check_root(od::document& doc, od::json_type type);

/// SUCCESS when `token` (trailing whitespace allowed) is a JSON number (RFC 8259 section 6) whose
/// value fits a double, as nlohmann's parser, the reference, decides: for the numbers simdjson
/// refuses although they are valid, such as an exponent of more than 19 digits (0e99999999999999999999
/// is 0, and 1e-99999999999999999999 underflows to 0).
simdjson::error_code check_number_token(std::string_view token);

/// Calls on_field(key, value) -> error_code for each field of an object, in order, and stops at
/// the first error. A field's value must be read (or checked) by on_field: On-Demand moves on.
template <class OnField>
simdjson::error_code for_each_field(od::object obj, OnField&& on_field) {
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return e;
    od::value child;
    if (auto e = field.value().get(child)) return e;
    if (auto e = on_field(key, child)) return e;
  }
  return simdjson::SUCCESS;
}

/// The same for a value `depth` containers deep: an object's fields are walked; any other value
/// is read whole (check_value) and gives no field.
template <class OnField>
simdjson::error_code for_each_field(od::value v, int depth, OnField&& on_field) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  if (type != od::json_type::object) return check_value(v, type, depth);
  od::object obj;
  if (auto e = v.get_object().get(obj)) return e;
  return for_each_field(obj, on_field);
}

}  // namespace twitter_client::json
