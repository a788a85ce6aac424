#pragma once
// Little binary encodings for the engine's state files: LEB128 varints, fixed-width integers and
// length-prefixed bytes. The reader never reads past its input: every take_* answers false on a
// truncated or malformed input, and the caller stops.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace engine {

class bytes_out {
public:
  explicit bytes_out(std::string& out) : out_(out) {}
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void u32(std::uint32_t v) { fixed(v); }
  void u64(std::uint64_t v) { fixed(v); }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void text(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void raw(std::string_view s) { out_.append(s); }

private:
  template <class T>
  void fixed(T v) {  // little-endian whatever the machine
    for (std::size_t k = 0; k < sizeof(T); ++k) out_.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
  }
  std::string& out_;
};

class bytes_in {
public:
  explicit bytes_in(std::string_view in) : in_(in) {}
  bool varint(std::uint64_t& v) {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const auto b = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      v |= std::uint64_t{b & 0x7Fu} << shift;
      // Canonical only: an overlong form (a last byte of 0 after others) is refused, so each value
      // has one encoding and what decodes re-encodes to the same bytes.
      if (!(b & 0x80)) return (shift == 0 || b != 0) && (shift < 63 || b <= 1);
    }
    return false;
  }
  bool u32(std::uint32_t& v) { return fixed(v); }
  bool u64(std::uint64_t& v) { return fixed(v); }
  bool u8(std::uint8_t& v) { return fixed(v); }
  /// Length-prefixed bytes, at most `limit` long.
  bool text(std::string_view& s, std::uint64_t limit = 1u << 20) {
    std::uint64_t n = 0;
    if (!varint(n) || n > limit || n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool raw(std::string_view& s, std::size_t n) {
    if (n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  std::size_t left() const noexcept { return in_.size(); }
  std::string_view rest() const noexcept { return in_; }

private:
  template <class T>
  bool fixed(T& v) {
    if (in_.size() < sizeof(T)) return false;
    v = 0;
    for (std::size_t k = 0; k < sizeof(T); ++k) v |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(in_[k])) << (8 * k));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  std::string_view in_;
};

}  // namespace engine
