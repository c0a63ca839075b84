// A small JSON writer for the web API's answers (core/ takes no JSON library). Builds the text
// directly; strings are escaped per RFC 8259, and bytes that are not valid UTF-8 are replaced
// with U+FFFD so that the output always parses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lafs::node {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(std::uint64_t n);
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(std::uint32_t n) { return value(std::uint64_t{n}); }
  JsonWriter& value(int n) { return value(std::int64_t{n}); }
  JsonWriter& value(double d);
  JsonWriter& value(bool b);
  JsonWriter& null();
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace lafs::node
