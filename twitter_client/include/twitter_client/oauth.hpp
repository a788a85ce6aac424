#pragma once
// OAuth 1.0a request signing (RFC 5849, HMAC-SHA1) as Twitter's API v1.1 wants it. Pure.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace twitter_client::oauth {

struct credentials {
  std::string consumer_key, consumer_secret, token, token_secret;
};

using params = std::vector<std::pair<std::string, std::string>>;

/// RFC 3986 percent-encoding: everything but ALPHA DIGIT - . _ ~ becomes %XX (upper case).
std::string percent_encode(std::string_view in);

/// The signature base string: METHOD&enc(base_url)&enc(sorted, encoded k=v pairs joined by &).
/// `base_url` has no query; `request_params` are the query and form parameters, not yet encoded.
std::string signature_base(std::string_view method, std::string_view base_url, const params& request_params,
                           const params& oauth_params);

/// Base64 of HMAC-SHA1(key = enc(consumer_secret)&enc(token_secret), base string).
std::string sign(std::string_view base_string, std::string_view consumer_secret, std::string_view token_secret);

/// The full "Authorization: OAuth ..." header value for one request, with the given nonce and time.
std::string authorization_header(std::string_view method, std::string_view base_url, const params& request_params,
                                 const credentials& creds, std::string_view nonce, std::string_view timestamp);

/// 32 random alphanumeric characters (from OpenSSL's CSPRNG), for oauth_nonce.
std::string make_nonce();

}  // namespace twitter_client::oauth
