// SPDX-License-Identifier: MIT
// The strict JSON parser: recursive descent over bytes, with UTF-8 validation.
#include "json_check.h"

#include <algorithm>
#include <cstdint>
#include <set>

namespace hostile {

const Json* Json::get(std::string_view key) const {
  for (const auto& [name, value] : members) {
    if (name == key) return &value;
  }
  return nullptr;
}

namespace {

/// Nesting deeper than this is refused rather than recursed into.
constexpr int kMaxDepth = 256;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  JsonParse run() {
    JsonParse out;
    skip_space();
    if (!value(out.value, 0)) {
      out.error = "offset " + std::to_string(pos_) + ": " + error_;
      return out;
    }
    skip_space();
    if (pos_ != text_.size()) {
      out.error = "offset " + std::to_string(pos_) + ": trailing data after the value";
    }
    return out;
  }

 private:
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  unsigned char peek() const { return static_cast<unsigned char>(text_[pos_]); }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool value(Json& out, int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    if (at_end()) return fail("unexpected end of input");
    switch (peek()) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"':
        out.kind = Json::Kind::kString;
        return string(out.text);
      case 't':
        out.kind = Json::Kind::kBool;
        out.boolean = true;
        return literal("true");
      case 'f':
        out.kind = Json::Kind::kBool;
        return literal("false");
      case 'n':
        out.kind = Json::Kind::kNull;
        return literal("null");
      default:
        out.kind = Json::Kind::kNumber;
        return number(out.text);
    }
  }

  bool object(Json& out, int depth) {
    out.kind = Json::Kind::kObject;
    ++pos_;  // '{'
    skip_space();
    if (!at_end() && peek() == '}') {
      ++pos_;
      return true;
    }
    std::set<std::string> keys;
    while (true) {
      skip_space();
      if (at_end() || peek() != '"') return fail("expected a string key");
      std::string key;
      if (!string(key)) return false;
      if (!keys.insert(key).second) return fail("duplicate key \"" + key + "\"");
      skip_space();
      if (at_end() || peek() != ':') return fail("expected ':'");
      ++pos_;
      skip_space();
      Json member;
      if (!value(member, depth + 1)) return false;
      out.members.emplace_back(std::move(key), std::move(member));
      skip_space();
      if (at_end()) return fail("unterminated object");
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      if (peek() != ',') return fail("expected ',' or '}'");
      ++pos_;
    }
  }

  bool array(Json& out, int depth) {
    out.kind = Json::Kind::kArray;
    ++pos_;  // '['
    skip_space();
    if (!at_end() && peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      Json item;
      if (!value(item, depth + 1)) return false;
      out.items.push_back(std::move(item));
      skip_space();
      if (at_end()) return fail("unterminated array");
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      if (peek() != ',') return fail("expected ',' or ']'");
      ++pos_;
    }
  }

  bool digits() {
    const std::size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
    return pos_ > start;
  }

  bool number(std::string& out) {
    const std::size_t start = pos_;
    if (!at_end() && peek() == '-') ++pos_;
    if (at_end()) return fail("invalid number");
    if (peek() == '0') {
      ++pos_;
    } else if (!digits()) {
      return fail("unexpected character");
    }
    if (!at_end() && peek() == '.') {
      ++pos_;
      if (!digits()) return fail("invalid number");
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (!digits()) return fail("invalid number");
    }
    // "01" would otherwise parse as 0 followed by trailing data; say what it is.
    if (!at_end() && peek() >= '0' && peek() <= '9') return fail("leading zero in number");
    out.assign(text_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(uint32_t& out) {
    if (text_.size() - pos_ < 4) return fail("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const unsigned char c = peek();
      uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return fail("invalid \\u escape");
      }
      out = out * 16 + digit;
      ++pos_;
    }
    return true;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool escape(std::string& out) {
    ++pos_;  // '\\'
    if (at_end()) return fail("truncated escape");
    const unsigned char c = peek();
    ++pos_;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += static_cast<char>(c);
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        break;
      default:
        return fail("invalid escape");
    }
    uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") return fail("lone high surrogate");
      pos_ += 2;
      uint32_t low = 0;
      if (!hex4(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) return fail("high surrogate without a low one");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
    return true;
  }

  /// One well-formed UTF-8 sequence (Unicode table 3-7), copied to `out`.
  bool utf8(std::string& out) {
    const unsigned char b = peek();
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return fail("invalid UTF-8 lead byte");
    }
    if (text_.size() - pos_ < len) return fail("truncated UTF-8 sequence");
    for (std::size_t i = 1; i < len; ++i) {
      const auto c = static_cast<unsigned char>(text_[pos_ + i]);
      if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) {
        return fail("invalid UTF-8 continuation byte");
      }
    }
    out.append(text_.substr(pos_, len));
    pos_ += len;
    return true;
  }

  bool string(std::string& out) {
    ++pos_;  // '"'
    while (true) {
      if (at_end()) return fail("unterminated string");
      const unsigned char c = peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("raw control character in string");
      if (c == '\\') {
        if (!escape(out)) return false;
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else if (!utf8(out)) {
        return false;
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

JsonParse parse_json(std::string_view text) { return Parser(text).run(); }

}  // namespace hostile
