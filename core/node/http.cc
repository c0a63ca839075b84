#include "core/node/http.h"

#include <array>
#include <utility>

namespace lafs::node {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

constexpr std::string_view kCensored = "[CENSORED]";

// Query parameters whose values are caps.
bool is_cap_parameter(std::string_view name) {
  return name == "uri" || name == "cap" || name == "to_dir";
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::string redact_target(std::string_view target) {
  std::string_view path = target;
  std::string_view query;
  bool has_query = false;
  if (const std::size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
    has_query = true;
  }
  std::string out;
  // "/uri/CAP/rest" and "/file/CAP/name": the segment after the prefix is a cap.
  std::size_t cap_start = std::string_view::npos;
  for (std::string_view prefix : {std::string_view("/uri/"), std::string_view("/file/")}) {
    if (path.substr(0, prefix.size()) == prefix) cap_start = prefix.size();
  }
  if (cap_start != std::string_view::npos) {
    std::size_t cap_end = path.find('/', cap_start);
    if (cap_end == std::string_view::npos) cap_end = path.size();
    out.append(path.substr(0, cap_start));
    out.append(cap_start == cap_end ? "" : kCensored);
    out.append(path.substr(cap_end));
  } else {
    out.append(path);
  }
  if (has_query) {
    out.push_back('?');
    bool first = true;
    while (true) {
      const std::size_t amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      if (!first) out.push_back('&');
      first = false;
      const std::size_t eq = param.find('=');
      if (eq != std::string_view::npos && is_cap_parameter(param.substr(0, eq))) {
        out.append(param.substr(0, eq + 1));
        out.append(kCensored);
      } else {
        out.append(param);
      }
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
    }
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
