#include "core/node/http.h"

#include <array>
#include <utility>

namespace lafs::node {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr std::string_view kCensored = "[CENSORED]";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A token of the target, percent-decoded leniently (a malformed escape stays as it is) and
// lower-cased: what a cap looks like however a client encoded it.
std::string folded(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '%' && i + 2 < token.size() && hex_value(token[i + 1]) >= 0 &&
        hex_value(token[i + 2]) >= 0) {
      out.push_back(
          lower(static_cast<char>(hex_value(token[i + 1]) * 16 + hex_value(token[i + 2]))));
      i += 2;
    } else {
      out.push_back(lower(token[i]));
    }
  }
  return out;
}

// Caps ("lafs1:...") and introducer addresses ("lafs-introducer:...", which carry the grid
// secret) start with "lafs" and hold a ':'.
bool looks_secret(std::string_view token) {
  const std::string f = folded(token);
  return f.rfind("lafs", 0) == 0 && f.find(':') != std::string::npos;
}

// Query parameters whose values are caps, whatever they look like.
bool is_cap_parameter(std::string_view name) {
  return name == "uri" || name == "cap" || name == "to_dir";
}

bool is_delimiter(char c) {
  return c == '/' || c == '?' || c == '&' || c == '=' || c == '#' || c == ';';
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (ascii_iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::string redact_target(std::string_view target) {
  // Every token between delimiters that looks like a cap, wherever it is (path, query names or
  // values, an absolute-form target), and the segment after "/uri/" or "/file/" even when it is
  // malformed: it was meant to be a cap.
  std::string_view path = target.substr(0, target.find('?'));
  std::size_t forced_start = std::string_view::npos, forced_end = 0;
  for (std::string_view prefix : {std::string_view("/uri/"), std::string_view("/file/")}) {
    if (path.substr(0, prefix.size()) == prefix) {
      forced_start = prefix.size();
      forced_end = std::min(path.find('/', forced_start), path.size());
    }
  }
  std::string out;
  std::size_t i = 0;
  std::string_view previous;  // the token before, when this one follows '='
  while (i <= target.size()) {
    std::size_t j = i;
    while (j < target.size() && !is_delimiter(target[j])) ++j;
    const std::string_view token = target.substr(i, j - i);
    const bool value_of_cap_parameter =
        i > 0 && target[i - 1] == '=' && is_cap_parameter(folded(previous));
    if (!token.empty() &&
        (looks_secret(token) || value_of_cap_parameter || (i == forced_start && j == forced_end))) {
      out.append(kCensored);
    } else {
      out.append(token);
    }
    if (j < target.size()) out.push_back(target[j]);
    previous = token;
    i = j + 1;
  }
  return out;
}

std::string_view http_reason(int status) {
  static constexpr std::array<std::pair<int, std::string_view>, 24> kReasons{{
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {204, "No Content"},
      {206, "Partial Content"},
      {400, "Bad Request"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {416, "Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {422, "Unprocessable Content"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {507, "Insufficient Storage"},
  }};
  for (const auto& [code, reason] : kReasons) {
    if (code == status) return reason;
  }
  return "Unknown";
}

}  // namespace lafs::node
