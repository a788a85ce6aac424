#include "twitter_client/mastodon.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "json_reader.hpp"
#include "wire/url.hpp"

namespace twitter_client::mastodon {

std::optional<std::string> stream_target(std::string_view stream) {
  if (stream == "public") return "/api/v1/streaming/public";
  if (stream == "public:local") return "/api/v1/streaming/public/local";
  if (stream.starts_with("hashtag:")) {
    std::string_view tag = stream.substr(8);
    if (!tag.empty() && tag.front() == '#') tag.remove_prefix(1);
    if (tag.empty()) return std::nullopt;
    return "/api/v1/streaming/hashtag?tag=" + wire::url::percent_encode(tag);
  }
  return std::nullopt;
}

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

error_code read_root(od::object obj, status& s, bool& has_content) {
  return json::for_each_field(obj, [&](std::string_view key, od::value child) -> error_code {
    od::json_type type;
    if (auto e = child.type().get(type)) return e;
    if (key == "reblog") s.reblog = type == od::json_type::object;
    if ((key != "content" && key != "language") || type != od::json_type::string) {
      if (key == "content" || key == "language") (key == "content" ? s.content : s.language).clear();
      if (key == "content") has_content = false;
      return json::check_value(child, type, 1);
    }
    std::string_view v;
    const error_code e = child.get_string().get(v);
    (key == "content" ? s.content : s.language).assign(v);
    if (key == "content") has_content = true;
    return e;
  });
}

// The SAX state of html_to_text.
struct text_builder {
  std::string out;
  std::size_t depth = 0;         // open elements
  std::size_t hidden_depth = 0;  // > 0 inside script or style

  void text(const char* s, std::size_t n) {
    if (hidden_depth > 0 || n == 0) return;
    out.append(s, n);
  }
  void line_break() { out += '\n'; }
};

bool is(const xmlChar* name, const char* want) {
  return name != nullptr && std::strcmp(reinterpret_cast<const char*>(name), want) == 0;
}

void on_start(void* ctx, const xmlChar* name, const xmlChar**) {
  auto& b = *static_cast<text_builder*>(ctx);
  ++b.depth;
  if (is(name, "script") || is(name, "style")) ++b.hidden_depth;
  else if (is(name, "br")) b.line_break();
}

void on_end(void* ctx, const xmlChar* name) {
  auto& b = *static_cast<text_builder*>(ctx);
  if (b.depth > 0) --b.depth;
  if ((is(name, "script") || is(name, "style")) && b.hidden_depth > 0) --b.hidden_depth;
  else if (is(name, "p")) b.line_break();
}

void on_characters(void* ctx, const xmlChar* s, int n) {
  static_cast<text_builder*>(ctx)->text(reinterpret_cast<const char*>(s), n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace

wire::parsed<status> parse_status(std::string_view json_text) {
  using result = wire::parsed<status>;
  od::document doc;
  od::object obj;
  if (auto why = json::open_object(json_text, doc, obj); !why.empty()) return result::bad(0, why);
  status s;
  bool has_content = false;
  if (auto e = read_root(obj, s, has_content)) return result::bad(0, std::string("bad status: ") + simdjson::error_message(e));
  if (!json::at_end(doc)) return result::bad(0, "bytes after the status");
  if (!has_content) return result::bad(0, "a status without a string content");
  return result::ok(std::move(s), json_text.size());
}

std::string html_to_text(std::string_view html) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  if (html.size() > max_html_bytes) html = html.substr(0, max_html_bytes);
  text_builder b;
  b.out.reserve(html.size());
  htmlSAXHandler sax;
  std::memset(&sax, 0, sizeof sax);  // no tree, no error printing: only these callbacks
  sax.startElement = on_start;
  sax.endElement = on_end;
  sax.characters = on_characters;
  sax.cdataBlock = on_characters;
  sax.ignorableWhitespace = on_characters;
  htmlParserCtxtPtr ctxt = htmlCreatePushParserCtxt(&sax, &b, nullptr, 0, nullptr, XML_CHAR_ENCODING_UTF8);
  if (ctxt == nullptr) return {};
  htmlCtxtUseOptions(ctxt, HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  // libxml2 takes the length as an int: feed in pieces (bounded by max_html_bytes anyway).
  constexpr std::size_t piece = 64 * 1024;
  for (std::size_t at = 0; at < html.size(); at += piece) {
    const auto n = std::min(piece, html.size() - at);
    htmlParseChunk(ctxt, html.data() + at, static_cast<int>(n), 0);
  }
  htmlParseChunk(ctxt, nullptr, 0, 1);
  htmlFreeParserCtxt(ctxt);
  while (!b.out.empty() && (b.out.back() == '\n' || b.out.back() == ' ')) b.out.pop_back();
  return std::move(b.out);
}

}  // namespace twitter_client::mastodon
