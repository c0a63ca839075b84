// HttpServer: HTTP/1.1 on a real socket, in front of a node::HttpHandler (the web API). Beast
// parses requests; responses are framed here. Every connection is bounded in time (idle, header,
// body and write timeouts) and in memory (a fixed read buffer, one response write in flight), and
// the number of connections is bounded too.
//
// Every method runs on the executor's thread. Asio stays in the .cc file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/env/env.h"
#include "core/node/http.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"
#include "core/runtime/time.h"
#include "net/real/real_executor.h"

namespace lafs::real {

struct HttpServerOptions {
  // Open connections at most. At the bound the server stops accepting, so further clients wait
  // in the kernel's listen queue (listen_backlog) until a connection ends.
  std::size_t connections_max = 256;
  int listen_backlog = 128;
  // Request line and headers; a larger request head gets 431 and the connection is closed.
  // At most the server's read buffer (64 KiB).
  std::size_t header_bytes_max = node::kHttpHeaderBytesMax;
  // A larger Content-Length gets 413 before the handler runs; a chunked body that grows past it
  // fails the handler's read() with ResourceExhausted.
  std::uint64_t body_bytes_max = std::uint64_t{1} << 40;
  // A connection waiting for the next request (or for its first) is closed after this.
  Duration idle_timeout = seconds(60);
  // From the first byte of a request to the end of its head.
  Duration header_timeout = seconds(30);
  // No body bytes for this long while the handler waits in read(): Timeout.
  Duration body_read_timeout = seconds(60);
  // A response write making no progress (the client not reading) for this long: Timeout, and
  // the connection is cut.
  Duration write_timeout = seconds(60);
  // After the last response on a connection the server sends its FIN and discards what the
  // client still sends, for at most this long, before closing: closing with unread input would
  // make the kernel send a reset that can destroy the response before the client reads it.
  Duration close_linger = seconds(2);
};

struct HttpServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t requests = 0;            // request heads parsed and handed to the handler
  std::uint64_t requests_malformed = 0;  // answered 400, 413 or 431 without the handler
  std::uint64_t responses_missing = 0;   // the handler returned without start(): 500 (or 400)
  std::uint64_t responses_cut = 0;       // started and not finished, or a write failed
  std::uint64_t timeouts = 0;            // header, body or write timeouts (not idle ones)
  std::uint64_t accept_errors = 0;
  std::uint64_t bytes_in = 0;   // from sockets, as read (heads, bodies, framing)
  std::uint64_t bytes_out = 0;  // to sockets, as written
};

class HttpServer {
 public:
  // `log` and `handler` must outlive the server and every run() task.
  HttpServer(RealExecutor& ex, Logger& log, node::HttpHandler* handler,
             HttpServerOptions options = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Closes the listening socket. Cancel (or finish) run() before destroying the server.
  ~HttpServer();

  // Binds and listens, once: "127.0.0.1:3456", "[::1]:0" (port 0 picks a free port). Returns the
  // bound address. Errors: InvalidArgument (bad address), AlreadyExists (in use),
  // PermissionDenied, FailedPrecondition (called twice), Unavailable.
  Result<std::string> listen(std::string address);

  // Accepts and serves connections until close() or until the task is cancelled (its frame
  // destroyed); either way every connection is closed at once and its handler's frame destroyed.
  // At most one run() at a time, after a successful listen().
  Task<void> run();

  // Stops accepting and makes run() return, cutting every connection. Idempotent.
  void close();

  // The bound address ("127.0.0.1:41234"), or empty before listen().
  std::string address() const;
  HttpServerStats stats() const;

  struct State;  // shared with the run() task, its connections and Asio handlers

 private:
  std::shared_ptr<State> state_;
};

}  // namespace lafs::real
