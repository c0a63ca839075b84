// A small blocking HTTP/1.1 client for the `lafs` file commands (docs/cli.md), which speak to a
// node's web API (docs/webapi.md). One request per connection; request and response bodies are
// streamed through fixed-size buffers, so memory stays bounded whatever the file size; every wait
// has a named bound. Asio and Beast stay in http_client.cc.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/node/aliases.h"
#include "core/runtime/status.h"

namespace lafs::cli {

// Connecting (after name resolution, which the system resolver bounds by its own settings).
inline constexpr std::chrono::seconds kHttpConnectTimeout{30};
// While a body moves in either direction: no byte sent or received for this long means the
// node or the network is stuck.
inline constexpr std::chrono::seconds kHttpIdleTimeout{300};
// From the end of the request to the response head. The gateway spools an upload before it
// encodes it and pushes the shares to storage servers, and answers only then, so the wait grows
// with what was sent: kHttpResponseWaitMin plus one second per kHttpGatewayBytesPerSecondMin
// bytes of request body. A safety net against a hung gateway, not a performance target.
inline constexpr std::chrono::seconds kHttpResponseWaitMin{120};
inline constexpr std::uint64_t kHttpGatewayBytesPerSecondMin = 128 * 1024;
// The response's status line and headers: a gateway's are well under 1 KiB.
inline constexpr std::size_t kHttpResponseHeaderBytesMax = 16 * 1024;
// A non-2xx response's body, kept for the message; the rest is read and dropped.
inline constexpr std::size_t kHttpErrorBodyBytesMax = 64 * 1024;
// Bytes moved per read or write call, both directions.
inline constexpr std::size_t kHttpIoChunkBytes = 64 * 1024;

// Where a request body comes from.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // The length when known in advance (then sent with Content-Length, and the source must yield
  // exactly that many bytes); nullopt sends the body chunked.
  virtual std::optional<std::uint64_t> size() const = 0;
  // Up to `max` bytes into `buf`; 0 at the end. Errors: IoError naming the source.
  virtual Result<std::size_t> read(char* buf, std::size_t max) = 0;
};

// Where a 2xx response body goes.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Errors: IoError naming the sink; ResourceExhausted past a sink's bound. Either stops the
  // transfer.
  virtual Status write(const char* data, std::size_t size) = 0;
};

// An open file descriptor, not owned (a file, or stdin). Its size is known when it is a regular
// file: what remains after its current offset.
class FdSource : public BodySource {
 public:
  FdSource(int fd, std::string name);
  std::optional<std::uint64_t> size() const override { return size_; }
  Result<std::size_t> read(char* buf, std::size_t max) override;

 private:
  int fd_;
  std::string name_;  // for messages: the local path, or "stdin"
  std::optional<std::uint64_t> size_;
};

class StringSource : public BodySource {
 public:
  explicit StringSource(std::string text) : text_(std::move(text)) {}
  std::optional<std::uint64_t> size() const override { return text_.size(); }
  Result<std::size_t> read(char* buf, std::size_t max) override;

 private:
  std::string text_;
  std::size_t at_ = 0;
};

// An open file descriptor, not owned (a file, or stdout).
class FdSink : public BodySink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Status write(const char* data, std::size_t size) override;

 private:
  int fd_;
  std::string name_;
};

// Keeps the body in memory, up to `max_bytes` (ResourceExhausted beyond): listings, caps.
class StringSink : public BodySink {
 public:
  explicit StringSink(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  Status write(const char* data, std::size_t size) override;
  const std::string& text() const { return text_; }

 private:
  std::size_t max_bytes_;
  std::string text_;
};

// Told of every chunk moved: bytes so far, and the total when known. Used for progress bars.
using ProgressFn = std::function<void(std::uint64_t done, std::optional<std::uint64_t> total)>;

struct ClientRequest {
  std::string method;          // "GET", "PUT", "POST", "DELETE"
  std::string target;          // path and query, already percent-encoded ("/uri/CAP/a%20b?t=json")
  BodySource* body = nullptr;  // none: an empty body (Content-Length: 0 for PUT and POST)
  std::string content_type = "application/octet-stream";
  ProgressFn upload_progress;    // may be empty
  ProgressFn download_progress;  // may be empty
  // For a request whose answer takes long to compute (a check that reads whole files answers
  // only when done; a deep-check's lines come a batch at a time): the wait for the response head
  // and the wait between pieces of the response body. Zero keeps the bounds above.
  std::chrono::seconds response_wait{0};
  std::chrono::seconds response_idle_timeout{0};
};

struct ClientResponse {
  int status = 0;
  std::optional<std::uint64_t> content_length;
  std::string content_type;
  // For a status outside 2xx: the body (at most kHttpErrorBodyBytesMax), which the sink never
  // sees. Empty for 2xx.
  std::string error_body;
  bool ok() const { return status >= 200 && status < 300; }
};

// Sends `request` to the gateway at `url` and reads the whole response; a 2xx body goes to
// `sink` (dropped when null). A response that arrives while the body is still being sent (the
// gateway refused it early) is returned as well, and the rest of the body is not sent.
// Errors, after which the request may or may not have taken effect:
//   Unavailable: could not connect, or the connection was lost or cut short. A body cut short
//     after its head is an error, never a short success: the gateway ends a download whose data
//     fails verification this way.
//   Timeout: a bound above passed. ProtocolError: the response is not HTTP/1.1 we can read, or its
//   head is over kHttpResponseHeaderBytesMax. IoError / ResourceExhausted: from the source or sink.
//   InvalidArgument: the source yielded more or fewer bytes than its size said (a file that
//   changed while being sent); the gateway sees a truncated body and stores nothing.
Result<ClientResponse> http_request(const node::NodeUrl& url, const ClientRequest& request,
                                    BodySink* sink);

}  // namespace lafs::cli
