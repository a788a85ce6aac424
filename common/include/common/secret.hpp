#pragma once
// Tokens that guard an action (the dashboard's updates): from the environment or from a file only
// its owner may open, never from the command line (every user can read another's), never logged.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace common::secret {

/// A token holds at most this many bytes.
inline constexpr std::size_t max_token = 4096;

/// The token in `text` (white space around it dropped): 1 to max_token visible ASCII bytes
/// (0x21-0x7e, so it fits an HTTP header as is). nullopt with `error` set otherwise; the error
/// never quotes the text.
std::optional<std::string> parse_token(std::string_view text, std::string& error);

/// Whether a file mode lets the group or others at the file (such a token file is refused).
constexpr bool open_to_others(unsigned mode) { return (mode & 077u) != 0; }

/// Where a token came from, or why it could not be had.
struct loaded {
  std::optional<std::string> token;  ///< nullopt: none configured (or an error)
  std::string error;                 ///< non-empty: the program should stop with it
};

/// The token from the file `path` when one is given (it wins), else from the environment variable
/// `env_name` (unset or empty: none). A file that cannot be read, that the group or others may
/// open, or that holds no valid token is an error naming `flag` and the file, never the token.
loaded load_token(const char* env_name, const std::string& path, std::string_view flag);

/// Whether `a` equals `b`, in a time that depends on their lengths only (a guess reveals nothing
/// of how many leading bytes were right).
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

}  // namespace common::secret
