#include "twitter_client/oauth.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "wire/url.hpp"

namespace twitter_client::oauth {

std::string percent_encode(std::string_view in) { return wire::url::percent_encode(in); }

std::string signature_base(std::string_view method, std::string_view base_url, const params& request_params,
                           const params& oauth_params) {
  // RFC 5849 3.4.1.3.2: encode first, then sort by name and value.
  params encoded;
  encoded.reserve(request_params.size() + oauth_params.size());
  for (const auto* list : {&request_params, &oauth_params})
    for (const auto& [k, v] : *list) encoded.emplace_back(percent_encode(k), percent_encode(v));
  std::sort(encoded.begin(), encoded.end());
  std::string joined;
  for (const auto& [k, v] : encoded) {
    if (!joined.empty()) joined.push_back('&');
    joined += k;
    joined.push_back('=');
    joined += v;
  }
  std::string out(method);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return (c >= 'a' && c <= 'z') ? char(c - 32) : c; });
  out.push_back('&');
  out += percent_encode(base_url);
  out.push_back('&');
  out += percent_encode(joined);
  return out;
}

std::string sign(std::string_view base_string, std::string_view consumer_secret, std::string_view token_secret) {
  const std::string key = percent_encode(consumer_secret) + "&" + percent_encode(token_secret);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(base_string.data()), base_string.size(), digest, &digest_len) ==
      nullptr)
    throw std::runtime_error("HMAC-SHA1 failed");
  std::string b64(4 * ((digest_len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest, static_cast<int>(digest_len));
  b64.resize(static_cast<std::size_t>(n));
  return b64;
}

std::string authorization_header(std::string_view method, std::string_view base_url, const params& request_params,
                                 const credentials& creds, std::string_view nonce, std::string_view timestamp) {
  params oauth_params{
      {"oauth_consumer_key", creds.consumer_key}, {"oauth_nonce", std::string(nonce)},
      {"oauth_signature_method", "HMAC-SHA1"},    {"oauth_timestamp", std::string(timestamp)},
      {"oauth_token", creds.token},               {"oauth_version", "1.0"},
  };
  const std::string signature =
      sign(signature_base(method, base_url, request_params, oauth_params), creds.consumer_secret, creds.token_secret);
  oauth_params.emplace_back("oauth_signature", signature);
  std::sort(oauth_params.begin(), oauth_params.end());
  std::string header = "OAuth ";
  bool first = true;
  for (const auto& [k, v] : oauth_params) {
    if (!first) header += ", ";
    first = false;
    header += percent_encode(k);
    header += "=\"";
    header += percent_encode(v);
    header += '"';
  }
  return header;
}

std::string make_nonce() {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the OAuth nonce");
  std::string nonce;
  for (const unsigned char b : bytes) nonce.push_back(alphabet[b % 62]);
  return nonce;
}

}  // namespace twitter_client::oauth
