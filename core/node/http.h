// The seam between an HTTP server and the web API: a request's head, its body as a stream, and a
// response written as a stream. core/node/web_api.* implements HttpHandler; net/real/http_server.*
// runs it behind Boost.Beast on a real socket, and tests drive it in memory (in the simulator).
// No Beast, no sockets here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/bytes.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs::node {

// Bounds every HTTP server here applies before a handler sees a request.
inline constexpr std::size_t kHttpHeaderBytesMax = 16 * 1024;   // request line + headers: 431 over
inline constexpr std::size_t kHttpBodyChunkBytesMax = 1 << 20;  // one HttpBodyReader::read at most

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "PUT", ... as sent (upper case by convention)
  std::string target;  // the raw request-target: percent-encoded path and optional "?query"
  std::vector<HttpHeader> headers;
  // The body's length when the request said (Content-Length); absent for a chunked body, and 0
  // for none.
  std::optional<std::uint64_t> content_length;
  bool chunked = false;  // Transfer-Encoding: chunked

  // The first header of that name (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// The request body, read as it arrives. A handler need not read all of it: the server then closes
// the connection after the response instead of reusing it.
class HttpBodyReader {
 public:
  virtual ~HttpBodyReader() = default;
  // The next 1..max bytes of the body (max <= kHttpBodyChunkBytesMax), or empty at its end.
  // Errors: InvalidArgument (a malformed chunked body), Unavailable (the client went away),
  // Timeout (the client stopped sending), ResourceExhausted (longer than the server allows).
  virtual Task<Result<Bytes>> read(std::size_t max) = 0;
};

// The response. start() once, then write() any number of times, then finish(). A handler that
// returns without start() gets a 500; one that returns without finish() has its connection cut
// (the client sees a truncated body, never a complete-looking wrong one).
class HttpResponseWriter {
 public:
  virtual ~HttpResponseWriter() = default;
  // Sends the status line and headers. With `content_length` the body must be exactly that long;
  // without, it is sent chunked. The server adds Date, Server and Connection itself.
  virtual Task<Status> start(int status, std::vector<HttpHeader> headers,
                             std::optional<std::uint64_t> content_length) = 0;
  // Errors: Unavailable (the client went away), Timeout (it stopped reading).
  virtual Task<Status> write(Bytes data) = 0;
  virtual Task<Status> finish() = 0;
  virtual bool started() const = 0;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual Task<void> handle(const HttpRequest& request, HttpBodyReader& body,
                            HttpResponseWriter& response) = 0;
};

// ASCII case-insensitive equality (header names, tokens, host names).
bool ascii_iequals(std::string_view a, std::string_view b);

// The request-target with every capability replaced by "[CENSORED]", for logs: the path segment
// after "/uri/" or "/file/", and the values of the query parameters that carry caps ("uri",
// "cap"). Caps never reach a log line through this.
std::string redact_target(std::string_view target);

// Standard reason phrases ("Not Found"); "Unknown" for codes not listed.
std::string_view http_reason(int status);

}  // namespace lafs::node
