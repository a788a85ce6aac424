#include "twitter_client/jetstream.hpp"

#include "json_reader.hpp"

namespace twitter_client::jetstream {

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using json::check_value;

struct fields {
  std::string_view kind, operation, collection, rkey, text;
  bool has_text = false;
  bool post_record = true;  // record.$type, when present, is app.bsky.feed.post
};

error_code read_string(od::value v, std::string_view& out) { return v.get_string().get(out); }

error_code read_langs(od::value v, std::vector<std::string>& langs, int depth) {
  langs.clear();
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  if (type != od::json_type::array) return check_value(v, type, depth);
  od::array arr;
  if (auto e = v.get_array().get(arr)) return e;
  for (auto element : arr) {
    od::value child;
    if (auto e = element.get(child)) return e;
    if (auto e = child.type().get(type)) return e;
    if (type != od::json_type::string) {
      if (auto e = check_value(child, type, depth + 1)) return e;
      continue;
    }
    std::string_view s;
    if (auto e = child.get_string().get(s)) return e;
    langs.emplace_back(s);
  }
  return simdjson::SUCCESS;
}

error_code read_record(od::value v, fields& f, message& m, int depth) {
  return json::for_each_field(v, depth, [&](std::string_view key, od::value child) {
    if (key == "langs") return read_langs(child, m.langs, depth + 1);
    if (key != "text" && key != "$type") return check_value(child, depth + 1);
    od::json_type t;
    if (auto e = child.type().get(t)) return e;
    if (t != od::json_type::string) {
      if (key == "text") f.has_text = false;
      else f.post_record = false;
      return check_value(child, t, depth + 1);
    }
    if (key == "text") {
      f.has_text = true;
      return read_string(child, f.text);
    }
    std::string_view name;
    const error_code e = read_string(child, name);
    f.post_record = name == post_collection;
    return e;
  });
}

error_code read_commit(od::value v, fields& f, message& m, int depth) {
  return json::for_each_field(v, depth, [&](std::string_view key, od::value child) {
    if (key == "operation") return read_string(child, f.operation);
    if (key == "collection") return read_string(child, f.collection);
    if (key == "rkey") return read_string(child, f.rkey);
    if (key == "record") return read_record(child, f, m, depth + 1);
    return check_value(child, depth + 1);
  });
}

}  // namespace

wire::parsed<message> parse_message(std::string_view bytes) {
  using result = wire::parsed<message>;
  od::document doc;
  od::object obj;
  if (auto why = json::open_object(bytes, doc, obj); !why.empty()) return result::bad(0, why);
  message m;
  fields f;
  bool has_did = false;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return result::bad(0, simdjson::error_message(e));
    od::value child;
    if (auto e = field.value().get(child)) return result::bad(0, simdjson::error_message(e));
    error_code e = simdjson::SUCCESS;
    if (key == "time_us") {
      e = child.get_int64().get(m.time_us);
      if (e) return result::bad(0, "time_us is not an integer");
    } else if (key == "did") {
      std::string_view did;
      e = read_string(child, did);
      m.did = did;
      has_did = true;
    } else if (key == "kind") {
      e = read_string(child, f.kind);
    } else if (key == "commit") {
      e = read_commit(child, f, m, 1);
    } else {
      e = check_value(child, 1);
    }
    if (e) return result::bad(0, std::string("bad message: ") + simdjson::error_message(e));
  }
  if (!json::at_end(doc)) return result::bad(0, "bytes after the message");
  if (f.kind == "commit") {
    m.type = event_type::other_commit;
    if (f.operation == "create" && f.collection == post_collection && f.has_text && f.post_record) {
      if (!has_did || m.did.empty() || f.rkey.empty()) return result::bad(0, "a post without did or rkey");
      m.type = event_type::post;
      m.rkey = f.rkey;
      m.text = f.text;
    }
  } else if (f.kind == "identity") {
    m.type = event_type::identity;
  } else if (f.kind == "account") {
    m.type = event_type::account;
  }
  if (m.type != event_type::post) m.langs.clear();
  return result::ok(std::move(m), bytes.size());
}

verdict session::handle(const message& m) {
  if (m.time_us > last_us_) last_us_ = m.time_us;
  forget_old();
  if (m.type != event_type::post) return verdict::ignored;
  std::string key = m.did + '/' + m.rkey;
  if (keys_.contains(key)) return verdict::duplicate;
  // Remembered whatever its language: a replayed post is a duplicate either way.
  keys_.insert(key);
  // Stamped with the stream's time at arrival, not the post's own: a late post (older than the
  // rewind window, or with a nonsense time_us) is then remembered for a whole window like any
  // other, and the stamps stay in order so forget_old() can stop at the first young one.
  order_.emplace_back(last_us_, std::move(key));
  forget_old();
  return langs_.accepts(m.langs) ? verdict::forward : verdict::other_lang;
}

void session::forget_old() {
  // What a resumed connection can replay starts at resume_cursor(); older posts need no memory.
  const std::int64_t oldest = last_us_ - rewind_us;
  while (!order_.empty() && (order_.front().first < oldest || order_.size() > max_remembered)) {
    keys_.erase(order_.front().second);
    order_.pop_front();
  }
}

std::optional<std::int64_t> session::resume_cursor() const {
  if (last_us_ <= 0) return std::nullopt;
  return last_us_ > rewind_us ? last_us_ - rewind_us : 1;
}

}  // namespace twitter_client::jetstream
