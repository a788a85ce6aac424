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

private:
  od::parser parser_;
  std::string padded_;
};

/// The calling thread's reader.
reader& thread_reader();

/// Reads a value and everything in it, `depth` containers deep: SUCCESS when it is valid JSON.
simdjson::error_code check_value(od::value v, int depth);
/// The same when the caller already asked for its type.
simdjson::error_code check_value(od::value v, od::json_type type, int depth);
/// True once the whole document was read (nothing follows the root value).
inline bool at_end(od::document& doc) { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; }
/// Reads a whole document that is not an object (an array or a scalar).
simdjson::error_code check_root(od::document& doc, od::json_type type);

}  // namespace twitter_client::json
