// HttpServer: one coroutine per connection serves its requests in turn; Beast's parser is fed by
// hand from a fixed read buffer, so the server decides when to read (never ahead of the handler)
// and every wait has a deadline. As in real_tcp_network.cc, socket state lives in a shared Conn
// that Asio handlers keep alive: coroutines only park on it and are woken through the executor
// (Wakeup), never resumed inside a handler's call stack, and destroying a parked frame unparks it.
// Responses are framed here (status line, Date, Server, Connection, Content-Length or chunked).
#include "net/real/http_server.h"

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/runtime/scope.h"
#include "net/real/asio_access.h"
#include "net/real/real_tcp_network.h"
#include "net/real/tcp_listen.h"
#include "net/real/waiter.h"

namespace lafs::real {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Received bytes not yet parsed, per connection. Holds a whole request head (the parser needs
// the header block contiguous), so header_bytes_max must stay below it.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
// Decoded body bytes one HttpBodyReader::read returns at most (also capped by its `max`);
// allocated per request, on its first body read.
constexpr std::size_t kBodyScratchBytes = 256 * 1024;
// Bytes one write system call is offered. Asio's default (64 KiB) would split a 1 MiB chunk
// into 16 calls.
constexpr std::size_t kWriteSomeBytesMax = 1 << 20;
// While lingering before a close, input discarded at most; past it the connection is closed.
constexpr std::uint64_t kLingerDiscardBytesMax = 4 << 20;
// Pause before accepting again after an accept error such as running out of descriptors:
// retrying at once would spin.
constexpr auto kAcceptRetryDelay = milliseconds(100);

using Parser = http::request_parser<http::buffer_body>;

// ---- Parking coroutines on shared state ----

// Parks until woken through `slot` or until `deadline`, whichever comes first; the other
// wake-up is cancelled on resumption, so the frame is resumed once. The caller re-checks its
// condition and the time.
struct ParkAwaiter {
  Executor& ex;
  Waiter** slot;
  std::optional<MonoTime> deadline;
  Waiter waiter{};
  Wakeup deadline_wakeup{};

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    LAFS_ASSERT(*slot == nullptr);  // one waiter per slot
    waiter.handle = h;
    *slot = &waiter;
    if (deadline) deadline_wakeup.arm_at(ex, *deadline, h);
  }
  void await_resume() { unpark(); }
  ~ParkAwaiter() { unpark(); }
  void unpark() {
    if (*slot == &waiter) *slot = nullptr;
    deadline_wakeup.disarm();
    waiter.wakeup.disarm();
  }
};

// Clears a flag when the frame holding it ends or is destroyed.
struct FlagGuard {
  bool* flag;
  ~FlagGuard() { *flag = false; }
};

// ---- HTTP text ----

// Whether a comma-separated header value ("keep-alive, Close") holds `token`.
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (node::ascii_iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A handler's header must not break the framing (no CR, LF or NUL: response splitting).
bool valid_header(const node::HttpHeader& h) {
  if (h.name.empty()) return false;
  for (char c : h.name) {
    if (!is_token_char(c)) return false;
  }
  for (char c : h.value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Headers the server writes itself; a handler's copies are dropped so that the framing is ours.
bool is_server_header(std::string_view name) {
  return node::ascii_iequals(name, "Content-Length") ||
         node::ascii_iequals(name, "Transfer-Encoding") || node::ascii_iequals(name, "Date") ||
         node::ascii_iequals(name, "Server") || node::ascii_iequals(name, "Connection");
}

// IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date() {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The status line, the handler's header lines (`extra`, each ending in CRLF), the headers the
// server always adds, the framing line (or none) and the blank line.
std::string format_head(int status, std::string_view extra, bool keep_alive,
                        std::string_view framing) {
  std::string out;
  out.reserve(128 + extra.size());
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += node::http_reason(status);
  out += "\r\n";
  out += extra;
  out += "Date: ";
  out += http_date();
  out += "\r\nServer: lafs\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += framing;
  out += "\r\n";
  return out;
}

std::string content_length_line(std::uint64_t n) {
  return "Content-Length: " + std::to_string(n) + "\r\n";
}

// ---------------------------------------------------------------------------------------------
// One connection's socket and buffers, shared by its coroutine and the Asio handlers in flight.

struct Conn : std::enable_shared_from_this<Conn> {
  Conn(RealExecutor& executor, tcp::socket s, std::string peer)
      : ex(executor), socket(std::move(s)), peer_address(std::move(peer)), rbuf(kReadBufferBytes) {}

  RealExecutor& ex;
  tcp::socket socket;
  const std::string peer_address;
  bool open = true;

  // Input: rbuf[rbegin, rend) is received and not yet parsed. A read in flight writes at rend,
  // so nothing moves while `reading`.
  std::vector<char> rbuf;
  std::size_t rbegin = 0;
  std::size_t rend = 0;
  bool reading = false;
  std::optional<error_code> read_end;  // end of input (EOF or an error)
  Waiter* read_waiter = nullptr;

  // Output: one gathered write in flight at most. Its buffers live here, not in a frame that
  // may be destroyed while the write still reads them.
  std::string out_head;
  Bytes out_body;
  std::string out_tail;
  std::array<asio::const_buffer, 3> gather;
  bool writing = false;
  MonoTime write_progress_at{};
  std::optional<Status> write_end;  // a write failed or timed out: nothing more goes out
  Waiter* write_waiter = nullptr;   // the sender whose write is in flight
  Waiter* turn_waiter = nullptr;    // a second sender waiting for that write to end

  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in_reported = 0;  // already added to the server's stats
  std::uint64_t bytes_out_reported = 0;

  std::size_t buffered() const { return rend - rbegin; }
  const char* data() const { return rbuf.data() + rbegin; }
  void consume(std::size_t n) {
    LAFS_ASSERT(n <= buffered());
    rbegin += n;
  }
  bool buffer_full() const { return rbegin == 0 && rend == rbuf.size(); }

  void compact() {
    if (reading || rbegin == 0) return;
    std::memmove(rbuf.data(), rbuf.data() + rbegin, rend - rbegin);
    rend -= rbegin;
    rbegin = 0;
  }

  void start_read() {
    if (reading || read_end || !open) return;
    compact();
    if (rend == rbuf.size()) return;
    reading = true;
    auto self = shared_from_this();
    socket.async_read_some(asio::buffer(rbuf.data() + rend, rbuf.size() - rend),
                           [self](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const error_code& ec, std::size_t n) {
    reading = false;
    if (ec) {
      if (!read_end) read_end = ec;
    } else {
      rend += n;
      bytes_in += n;
    }
    wake(ex, read_waiter);
  }

  // Takes what the kernel already holds, without waiting: lets one body read return more than
  // one socket read's worth when the client is fast.
  void read_ready_now() {
    if (reading || read_end || !open) return;
    error_code ec;
    const std::size_t ready = socket.available(ec);
    if (ec || ready == 0) return;
    compact();
    if (rend == rbuf.size()) return;
    const std::size_t n =
        socket.read_some(asio::buffer(rbuf.data() + rend, rbuf.size() - rend), ec);
    if (ec) {
      if (ec != asio::error::would_block && ec != asio::error::try_again) read_end = ec;
      return;
    }
    rend += n;
    bytes_in += n;
  }

  Status input_end_status() const {
    if (!open) return unavailable("connection from " + peer_address + " is closed");
    if (read_end && *read_end == asio::error::eof) {
      return unavailable("client " + peer_address + " closed the connection");
    }
    return unavailable("receive from " + peer_address + ": " +
                       (read_end ? read_end->message() : std::string("ended")));
  }

  // Waits until more input arrives (OK), input ends (Unavailable) or `deadline` passes (Timeout;
  // the read stays in flight). The caller consumes what it can first: a full buffer is
  // ResourceExhausted.
  Task<Status> wait_input(MonoTime deadline) {
    const std::uint64_t before = bytes_in;
    start_read();
    while (bytes_in == before && !read_end && open) {
      if (!reading) co_return resource_exhausted("read buffer full");
      if (ex.now() >= deadline) co_return timeout_error("client " + peer_address + " went quiet");
      co_await ParkAwaiter{ex, &read_waiter, deadline};
    }
    if (bytes_in != before) co_return Status{};
    co_return input_end_status();
  }

  // Writes head, body and tail as one gathered write and waits for it: that is the backpressure
  // (a handler's next write() starts once this one is with the kernel). Timeout when the write
  // makes no progress for `inactivity`; the connection is then unusable for output.
  Task<Status> send(std::string head, Bytes body, std::string tail, Duration inactivity) {
    while (writing && !write_end && open) {
      if (turn_waiter != nullptr) co_return failed_precondition("more than two writes at once");
      const MonoTime deadline = write_progress_at + inactivity;
      if (ex.now() >= deadline) break;
      co_await ParkAwaiter{ex, &turn_waiter, deadline};
    }
    if (write_end) co_return *write_end;
    if (!open) co_return unavailable("connection from " + peer_address + " is closed");
    if (writing) {
      write_end = timeout_error("client " + peer_address + " stopped reading");
      co_return *write_end;
    }
    out_head = std::move(head);
    out_body = std::move(body);
    out_tail = std::move(tail);
    gather = {asio::buffer(out_head), asio::buffer(out_body), asio::buffer(out_tail)};
    writing = true;
    write_progress_at = ex.now();
    auto self = shared_from_this();
    asio::async_write(
        socket, gather,
        [self](const error_code& ec, std::size_t) -> std::size_t {
          self->write_progress_at = self->ex.now();  // called after every partial write
          return ec ? 0 : kWriteSomeBytesMax;
        },
        [self](const error_code& ec, std::size_t n) { self->on_write(ec, n); });
    while (writing && !write_end) {
      const MonoTime deadline = write_progress_at + inactivity;
      if (ex.now() >= deadline) {
        write_end = timeout_error("client " + peer_address + " stopped reading");
        break;
      }
      co_await ParkAwaiter{ex, &write_waiter, deadline};
    }
    if (write_end) co_return *write_end;
    co_return Status{};
  }

  void on_write(const error_code& ec, std::size_t n) {
    writing = false;
    bytes_out += n;
    if (ec && !write_end) {
      write_end = unavailable("send to " + peer_address + ": " + ec.message());
    }
    out_body = Bytes();  // no write reads it any more; a large chunk should not linger
    wake(ex, write_waiter);
    wake(ex, turn_waiter);
  }

  // In-flight operations complete with operation_aborted; their handlers hold this state.
  void close() {
    if (!open) return;
    open = false;
    error_code ignored;
    socket.close(ignored);
    wake(ex, read_waiter);
    wake(ex, write_waiter);
    wake(ex, turn_waiter);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The server's state, shared by the HttpServer object, the run() task, its connections and the
// accept handler in flight.

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(RealExecutor& executor, Logger& logger, node::HttpHandler* h, HttpServerOptions o)
      : ex(executor), log(logger), handler(h), options(o), acceptor(AsioAccess::io_context(ex)) {}

  RealExecutor& ex;
  Logger& log;
  node::HttpHandler* handler;
  const HttpServerOptions options;
  tcp::acceptor acceptor;
  std::string address;
  bool listening = false;
  bool running = false;
  bool closed = false;
  bool accepting = false;
  std::optional<tcp::socket> accepted;
  std::optional<error_code> accept_error;
  Waiter* accept_waiter = nullptr;  // run(): waiting for a connection, or for one to end
  HttpServerStats stats;

  void start_accept() {
    if (accepting || closed) return;
    accepting = true;
    auto self = shared_from_this();
    acceptor.async_accept(
        [self](const error_code& ec, tcp::socket s) { self->on_accept(ec, std::move(s)); });
  }

  void on_accept(const error_code& ec, tcp::socket s) {
    accepting = false;
    if (closed) return;  // `s`, if any, closes here
    if (ec) {
      accept_error = ec;
    } else {
      accepted.emplace(std::move(s));
    }
    wake(ex, accept_waiter);
  }

  void close() {
    if (closed) return;
    closed = true;
    error_code ignored;
    acceptor.close(ignored);
    accepted.reset();
    wake(ex, accept_waiter);
  }

  void report_bytes(Conn& c) {
    stats.bytes_in += c.bytes_in - c.bytes_in_reported;
    stats.bytes_out += c.bytes_out - c.bytes_out_reported;
    c.bytes_in_reported = c.bytes_in;
    c.bytes_out_reported = c.bytes_out;
  }
};

namespace {

using State = HttpServer::State;

// One access-log line. Only the redacted target is logged (caps live in targets), and no header
// values at all.
void log_access(State& s, const Conn& c, std::string_view method, std::string_view target,
                int status, std::uint64_t body_in, std::uint64_t body_out, MonoTime started_at,
                std::string_view note) {
  const auto ms = std::chrono::duration_cast<milliseconds>(s.ex.now() - started_at).count();
  std::string line = c.peer_address;
  line += ' ';
  line += method;
  line += ' ';
  line += target.empty() ? std::string("-") : node::redact_target(target);
  line += ' ';
  line += status == 0 ? std::string("-") : std::to_string(status);
  line += " in=" + std::to_string(body_in) + " out=" + std::to_string(body_out) + " " +
          std::to_string(ms) + "ms";
  if (!note.empty()) {
    line += ' ';
    line += note;
  }
  s.log.log(LogLevel::kInfo, "http", line);
}

// ---- The response ----

class ResponseWriter final : public node::HttpResponseWriter {
 public:
  ResponseWriter(Conn* c, const HttpServerOptions* options, const Parser* parser, bool head_request,
                 bool http10)
      : c_(c), options_(options), parser_(parser), head_request_(head_request), http10_(http10) {}

  Task<Status> start(int status, std::vector<node::HttpHeader> headers,
                     std::optional<std::uint64_t> content_length) override;
  Task<Status> write(Bytes data) override;
  Task<Status> finish() override;
  bool started() const override { return started_; }

  bool finished() const { return finished_; }
  bool failed() const { return error_.has_value(); }
  const std::optional<Status>& error() const { return error_; }
  bool keep_alive() const { return keep_alive_; }
  bool head_sent() const { return head_sent_; }
  int status() const { return status_; }
  std::uint64_t body_bytes() const { return written_; }

 private:
  // Fails the response if a write's frame is destroyed before the write ended: what reached the
  // client is then unknown, so the connection must be cut.
  struct AbandonGuard {
    ResponseWriter* w;
    bool done = false;
    ~AbandonGuard() {
      if (!done && !w->error_) w->error_ = cancelled("a response write was abandoned");
    }
  };

  Task<Status> send(std::string head, Bytes data, std::string tail);

  Conn* c_;
  const HttpServerOptions* options_;
  const Parser* parser_;
  const bool head_request_;
  const bool http10_;
  bool started_ = false;
  bool finished_ = false;
  bool head_sent_ = false;
  bool keep_alive_ = false;
  bool bodiless_ = false;  // HEAD, 204, 304: headers only
  bool chunked_ = false;
  int status_ = 0;
  std::optional<std::uint64_t> content_length_;
  std::uint64_t written_ = 0;
  std::string pending_head_;  // sent with the first write or finish(): one packet, not two
  std::optional<Status> error_;
};

Task<Status> ResponseWriter::start(int status, std::vector<node::HttpHeader> headers,
                                   std::optional<std::uint64_t> content_length) {
  if (started_) co_return failed_precondition("the response was already started");
  if (status < 200 || status > 599) {
    co_return invalid_argument("HTTP status " + std::to_string(status) + " is not a final status");
  }
  bool close_asked = false;
  std::string extra;
  for (const node::HttpHeader& h : headers) {
    // Not echoed: a header value may hold a cap.
    if (!valid_header(h)) co_return invalid_argument("a response header is not valid HTTP");
    if (node::ascii_iequals(h.name, "Connection") && has_token(h.value, "close"))
      close_asked = true;
    if (is_server_header(h.name)) continue;
    extra += h.name;
    extra += ": ";
    extra += h.value;
    extra += "\r\n";
  }
  bodiless_ = head_request_ || status == 204 || status == 304;
  content_length_ = content_length;
  chunked_ = !bodiless_ && !content_length && !http10_;
  // HTTP/1.0 has no chunked coding: a body of unknown length ends with the connection.
  const bool ends_with_close = !bodiless_ && !content_length && http10_;
  // A body the handler has not read to its end would be parsed as the next request.
  keep_alive_ = parser_->keep_alive() && parser_->is_done() && !close_asked && !ends_with_close;
  std::string framing;
  if (content_length && status != 204 && status != 304) {
    framing = content_length_line(*content_length);
  } else if (chunked_) {
    framing = "Transfer-Encoding: chunked\r\n";
  }
  pending_head_ = format_head(status, extra, keep_alive_, framing);
  started_ = true;
  status_ = status;
  co_return Status{};
}

Task<Status> ResponseWriter::send(std::string head, Bytes data, std::string tail) {
  head_sent_ = true;
  AbandonGuard guard{this};
  Status s =
      co_await c_->send(std::move(head), std::move(data), std::move(tail), options_->write_timeout);
  guard.done = true;
  if (!s.is_ok()) error_ = s;
  co_return s;
}

Task<Status> ResponseWriter::write(Bytes data) {
  if (!started_) co_return failed_precondition("write() before start()");
  if (finished_) co_return failed_precondition("write() after finish()");
  if (error_) co_return *error_;
  if (bodiless_) {
    if (!head_request_ && !data.empty()) {
      co_return invalid_argument("a " + std::to_string(status_) + " response has no body");
    }
    co_return Status{};  // HEAD: the body is not sent
  }
  if (data.empty()) co_return Status{};  // an empty chunk would end the body
  if (content_length_ && data.size() > *content_length_ - written_) {
    error_ = invalid_argument("the body is longer than its Content-Length");
    co_return *error_;
  }
  std::string head = std::move(pending_head_);
  pending_head_.clear();
  std::string tail;
  if (chunked_) {
    head += hex(data.size());
    head += "\r\n";
    tail = "\r\n";
  }
  written_ += data.size();
  co_return co_await send(std::move(head), std::move(data), std::move(tail));
}

Task<Status> ResponseWriter::finish() {
  if (!started_) co_return failed_precondition("finish() before start()");
  if (finished_) co_return failed_precondition("finish() twice");
  if (error_) co_return *error_;
  if (!bodiless_ && content_length_ && written_ != *content_length_) {
    error_ = invalid_argument("the body is shorter than its Content-Length");
    co_return *error_;
  }
  std::string head = std::move(pending_head_);
  pending_head_.clear();
  if (chunked_) head += "0\r\n\r\n";
  if (!head.empty()) {
    Bytes none;
    std::string no_tail;
    Status s = co_await send(std::move(head), std::move(none), std::move(no_tail));
    if (!s.is_ok()) co_return s;
  }
  finished_ = true;
  co_return Status{};
}

// ---- The request body ----

class BodyReader final : public node::HttpBodyReader {
 public:
  BodyReader(Conn* c, const HttpServerOptions* options, Parser* parser, bool expect_continue,
             const ResponseWriter* response)
      : c_(c),
        options_(options),
        parser_(parser),
        expect_continue_(expect_continue),
        response_(response) {}

  Task<Result<Bytes>> read(std::size_t max) override;

  // The status for a reply the server makes when the handler gave up without one after the
  // body failed to parse (400, or 413 when too long), else 0.
  int failure_status() const { return failure_status_; }
  const std::optional<Status>& error() const { return error_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  Status decode(std::size_t want, std::size_t* filled);
  Status fail(Status s) {
    if (!error_) error_ = s;
    return *error_;
  }

  Conn* c_;
  const HttpServerOptions* options_;
  Parser* parser_;
  const bool expect_continue_;
  const ResponseWriter* response_;
  bool continue_sent_ = false;
  bool in_read_ = false;
  int failure_status_ = 0;
  std::optional<Status> error_;  // sticky: once the body failed, it stays failed
  std::uint64_t bytes_ = 0;
  Bytes scratch_;
};

// Feeds buffered input to the parser, which decodes body bytes (Content-Length or chunked) into
// scratch_[*filled, want). Stops when that is full, the body ends, or more input is needed.
Status BodyReader::decode(std::size_t want, std::size_t* filled) {
  while (*filled < want && !parser_->is_done() && c_->buffered() > 0) {
    auto& body = parser_->get().body();
    body.data = scratch_.data() + *filled;
    body.size = want - *filled;
    error_code ec;
    const std::size_t used = parser_->put(asio::const_buffer(c_->data(), c_->buffered()), ec);
    c_->consume(used);
    *filled = want - body.size;
    body.data = nullptr;
    if (ec == http::error::need_buffer) continue;  // scratch_ is full
    if (ec == http::error::need_more) break;       // a chunk header or trailer is incomplete
    if (ec == http::error::body_limit) {
      failure_status_ = 413;
      return fail(resource_exhausted("the request body is longer than " +
                                     std::to_string(options_->body_bytes_max) + " bytes"));
    }
    if (ec) {
      failure_status_ = 400;
      return fail(invalid_argument("malformed request body: " + ec.message()));
    }
    if (used == 0) break;
  }
  return Status{};
}

Task<Result<Bytes>> BodyReader::read(std::size_t max) {
  if (max == 0 || max > node::kHttpBodyChunkBytesMax) {
    co_return invalid_argument("body read of " + std::to_string(max) + " bytes");
  }
  if (in_read_) co_return failed_precondition("one body read at a time");
  if (error_) co_return *error_;
  if (parser_->is_done()) co_return Bytes{};
  in_read_ = true;
  FlagGuard reading{&in_read_};
  // Clients that sent "Expect: 100-continue" hold the body back until told to go on. Only
  // now, when the handler wants it: a handler that answers without reading saves the upload.
  if (expect_continue_ && !continue_sent_ && !response_->head_sent()) {
    continue_sent_ = true;
    std::string line = "HTTP/1.1 100 Continue\r\n\r\n";
    Bytes none;
    std::string no_tail;
    Status s = co_await c_->send(std::move(line), std::move(none), std::move(no_tail),
                                 options_->write_timeout);
    if (!s.is_ok()) co_return fail(s);
  }
  if (scratch_.empty()) scratch_.resize(kBodyScratchBytes);
  const std::size_t want = std::min(max, scratch_.size());
  std::size_t filled = 0;
  for (;;) {
    Status decoded = decode(want, &filled);
    if (!decoded.is_ok()) co_return decoded;
    if (filled == want || parser_->is_done()) break;
    if (filled > 0) {
      // Top up from what the kernel already has; hand over what we have rather than wait.
      const std::uint64_t before = c_->bytes_in;
      c_->read_ready_now();
      if (c_->bytes_in == before) break;
      continue;
    }
    if (c_->buffer_full()) {
      failure_status_ = 400;
      co_return fail(invalid_argument("a chunk header longer than the read buffer"));
    }
    const MonoTime deadline = c_->ex.now() + options_->body_read_timeout;
    Status waited = co_await c_->wait_input(deadline);
    if (!waited.is_ok()) co_return fail(waited);
  }
  bytes_ += filled;
  co_return Bytes(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(filled));
}

// ---- One request ----

enum class Next { kKeepAlive, kLingerClose, kCut };

struct HeadResult {
  enum class Outcome { kOk, kGone, kMalformed };
  Outcome outcome = Outcome::kOk;
  int status = 0;   // kMalformed: 400, 413 or 431
  std::string why;  // kMalformed: for the reply and the log; never quotes the input
  MonoTime started_at{};
};

int status_for_head_error(const error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  return 400;
}

// What the parser accepts and this server does not.
void check_head(const Parser& parser, HeadResult* r) {
  const unsigned version = parser.get().version();
  if (version < 10 || version > 19) {  // "PRI * HTTP/2.0", the HTTP/2 preface, lands here
    r->outcome = HeadResult::Outcome::kMalformed;
    r->status = 400;
    r->why = "only HTTP/1.x is served here";
    return;
  }
  // A transfer coding other than chunked leaves the body's end unknown (and invites request
  // smuggling through a proxy that reads it differently).
  if (!parser.chunked() &&
      parser.get().find(http::field::transfer_encoding) != parser.get().end()) {
    r->outcome = HeadResult::Outcome::kMalformed;
    r->status = 400;
    r->why = "unsupported Transfer-Encoding";
  }
}

// Reads and parses a request head. Gone: the client closed, or sent nothing before the idle
// deadline, or did not finish the head within header_timeout (nothing worth answering).
Task<HeadResult> read_head(std::shared_ptr<State> s, std::shared_ptr<Conn> c, Parser* parser,
                           MonoTime idle_deadline) {
  HeadResult r;
  bool begun = false;
  MonoTime head_deadline{};
  for (;;) {
    if (c->buffered() > 0) {
      if (!begun) {
        begun = true;
        r.started_at = s->ex.now();
        head_deadline = r.started_at + s->options.header_timeout;
      }
      error_code ec;
      const std::size_t used = parser->put(asio::const_buffer(c->data(), c->buffered()), ec);
      c->consume(used);
      if (!ec && parser->is_header_done()) {
        check_head(*parser, &r);
        co_return r;
      }
      if (ec && ec != http::error::need_more) {
        r.outcome = HeadResult::Outcome::kMalformed;
        r.status = status_for_head_error(ec);
        r.why = ec.message();
        co_return r;
      }
    }
    if (c->read_end || !c->open) break;
    LAFS_ASSERT(!c->buffer_full());  // the parser's header limit is below the buffer's size
    const MonoTime deadline = begun ? head_deadline : idle_deadline;
    Status waited = co_await c->wait_input(deadline);
    if (!waited.is_ok()) {
      if (begun && waited.code() == ErrorCode::kTimeout) ++s->stats.timeouts;
      break;
    }
  }
  r.outcome = HeadResult::Outcome::kGone;
  co_return r;
}

// Answers a request that never reached the handler, and logs it.
Task<void> reply_malformed(std::shared_ptr<State> s, std::shared_ptr<Conn> c, HeadResult head) {
  ++s->stats.requests_malformed;
  const std::string text = std::string(node::http_reason(head.status)) + ": " + head.why + "\n";
  std::string response_head =
      format_head(head.status, "Content-Type: text/plain; charset=utf-8\r\n",
                  /*keep_alive=*/false, content_length_line(text.size()));
  Bytes body = to_bytes(text);
  std::string tail;
  Status sent = co_await c->send(std::move(response_head), std::move(body), std::move(tail),
                                 s->options.write_timeout);
  if (!sent.is_ok() && sent.code() == ErrorCode::kTimeout) ++s->stats.timeouts;
  log_access(*s, *c, "-", "", head.status, 0, text.size(), head.started_at,
             sent.is_ok() ? head.why : "not sent");
}

// The reply when the handler returned without one: a plain-text body through the same writer,
// so that keep-alive rules stay in one place. `detail` must not quote the request.
Task<void> reply_plain(ResponseWriter* response, int status, std::string detail) {
  std::string text(node::http_reason(status));
  if (!detail.empty()) text += ": " + detail;
  text += "\n";
  std::vector<node::HttpHeader> headers;
  headers.push_back(node::HttpHeader{"Content-Type", "text/plain; charset=utf-8"});
  const std::optional<std::uint64_t> length = text.size();
  Status started = co_await response->start(status, std::move(headers), length);
  if (!started.is_ok()) co_return;
  Bytes body = to_bytes(text);
  Status written = co_await response->write(std::move(body));
  if (!written.is_ok()) co_return;
  Status finished = co_await response->finish();
  (void)finished;  // the writer remembers a failure
}

node::HttpRequest request_of(const Parser& parser) {
  const auto& m = parser.get();
  node::HttpRequest r;
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  for (const auto& field : m) {
    r.headers.push_back(
        node::HttpHeader{std::string(field.name_string()), std::string(field.value())});
  }
  r.chunked = parser.chunked();
  if (!r.chunked) r.content_length = parser.content_length().value_or(0);
  return r;
}

bool expects_continue(const node::HttpRequest& request, bool http10) {
  const std::optional<std::string_view> expect = request.header("Expect");
  return !http10 && expect.has_value() && node::ascii_iequals(*expect, "100-continue");
}

Task<Next> handle_request(std::shared_ptr<State> s, std::shared_ptr<Conn> c, Parser* parser,
                          MonoTime started_at) {
  const node::HttpRequest request = request_of(*parser);
  const bool head_request = parser->get().method() == http::verb::head;
  const bool http10 = parser->get().version() == 10;
  parser->eager(true);  // from here on, one put() decodes as much body as fits
  ResponseWriter response(c.get(), &s->options, parser, head_request, http10);
  BodyReader body(c.get(), &s->options, parser, expects_continue(request, http10), &response);
  ++s->stats.requests;
  {
    Task<void> handling = s->handler->handle(request, body, response);
    co_await std::move(handling);
  }
  std::string note;
  if (!response.started()) {
    ++s->stats.responses_missing;
    int status = 500;
    std::string detail;
    if (body.failure_status() != 0) {  // the handler gave up on a malformed or too long body
      status = body.failure_status();
      detail = body.error()->message();
    }
    note = "(no response from the handler)";
    co_await reply_plain(&response, status, std::move(detail));
  }
  for (const std::optional<Status>* e : {&body.error(), &response.error()}) {
    if (e->has_value() && (*e)->code() == ErrorCode::kTimeout) ++s->stats.timeouts;
  }
  Next next = Next::kLingerClose;
  if (!response.finished() || response.failed()) {
    // A complete-looking response must be the whole response: cut, so the client sees an error.
    next = Next::kCut;
    note += note.empty() ? "(cut)" : " (cut)";
    ++s->stats.responses_cut;
    c->close();
  } else if (response.keep_alive() && parser->is_done()) {
    next = Next::kKeepAlive;
  }
  log_access(*s, *c, request.method, request.target, response.status(), body.bytes(),
             response.body_bytes(), started_at, note);
  s->report_bytes(*c);
  co_return next;
}

Task<Next> serve_one(std::shared_ptr<State> s, std::shared_ptr<Conn> c) {
  Parser parser;
  parser.header_limit(static_cast<std::uint32_t>(s->options.header_bytes_max));
  parser.body_limit(s->options.body_bytes_max);
  parser.eager(false);  // stop after the head: the body is parsed when the handler asks for it
  const MonoTime idle_deadline = s->ex.now() + s->options.idle_timeout;
  HeadResult head = co_await read_head(s, c, &parser, idle_deadline);
  if (head.outcome == HeadResult::Outcome::kGone) co_return Next::kCut;
  if (head.outcome == HeadResult::Outcome::kMalformed) {
    co_await reply_malformed(s, c, std::move(head));
    co_return Next::kLingerClose;
  }
  co_return co_await handle_request(s, c, &parser, head.started_at);
}

// Sends our FIN after the last response, then discards input until the client's FIN (bounded in
// time and bytes), so that closing with unread input does not reset the response away.
Task<void> linger_close(std::shared_ptr<State> s, std::shared_ptr<Conn> c) {
  if (!c->open || c->writing) co_return;
  error_code ec;
  c->socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  const MonoTime deadline = s->ex.now() + s->options.close_linger;
  std::uint64_t discarded = 0;
  while (discarded < kLingerDiscardBytesMax) {
    discarded += c->buffered();
    c->consume(c->buffered());
    Status waited = co_await c->wait_input(deadline);
    if (!waited.is_ok()) break;
  }
}

// Closes the connection however its frame ends (returned or destroyed) and lets run() accept
// again if it was waiting at the connection bound.
struct ConnGuard {
  std::shared_ptr<State> s;
  std::shared_ptr<Conn> c;
  ~ConnGuard() {
    c->close();
    s->report_bytes(*c);
    LAFS_ASSERT(s->stats.connections_open > 0);
    --s->stats.connections_open;
    wake(s->ex, s->accept_waiter);
  }
};

Task<void> serve_connection(std::shared_ptr<State> s, std::shared_ptr<Conn> c) {
  ConnGuard guard{s, c};
  for (;;) {
    const Next next = co_await serve_one(s, c);
    if (next == Next::kKeepAlive) continue;
    if (next == Next::kLingerClose) co_await linger_close(s, c);
    co_return;
  }
}

// Closes the listening socket when run() ends or is cancelled.
struct RunGuard {
  std::shared_ptr<State> s;
  ~RunGuard() {
    s->close();
    s->running = false;
  }
};

// Waits for the next accepted socket; nullopt once the server is closed.
Task<std::optional<tcp::socket>> accept_one(std::shared_ptr<State> s) {
  while (!s->closed) {
    // At the bound, wait for a connection to end before taking another from the kernel.
    if (s->stats.connections_open >= s->options.connections_max) {
      co_await ParkAwaiter{s->ex, &s->accept_waiter, std::nullopt};
      continue;
    }
    s->start_accept();
    while (!s->closed && !s->accepted && !s->accept_error) {
      co_await ParkAwaiter{s->ex, &s->accept_waiter, std::nullopt};
    }
    if (s->closed) break;
    if (s->accepted) {
      std::optional<tcp::socket> out = std::move(s->accepted);
      s->accepted.reset();
      co_return std::move(out);
    }
    const error_code ec = *s->accept_error;
    s->accept_error.reset();
    if (ec == asio::error::connection_aborted) continue;  // that client gave up
    ++s->stats.accept_errors;
    s->log.log(LogLevel::kWarning, "http", "accept on " + s->address + ": " + ec.message());
    co_await sleep_for(s->ex, kAcceptRetryDelay);
  }
  co_return std::nullopt;
}

Task<void> run_server(std::shared_ptr<State> s) {
  LAFS_ASSERT_MSG(s->listening, "HttpServer::run() before a successful listen()");
  LAFS_ASSERT_MSG(!s->running, "HttpServer::run() twice at once");
  s->running = true;
  // Declared first, destroyed last: the acceptor is closed before the connections are cut.
  Scope connections(s->ex);
  RunGuard guard{s};
  for (;;) {
    std::optional<tcp::socket> socket = co_await accept_one(s);
    if (!socket) break;
    error_code ec;
    const tcp::endpoint peer = socket->remote_endpoint(ec);
    if (ec) continue;                             // reset before we got to it
    socket->set_option(tcp::no_delay(true), ec);  // a response's last packet goes out at once
    auto c = std::make_shared<Conn>(s->ex, std::move(*socket), endpoint_string(peer));
    ++s->stats.connections_accepted;
    ++s->stats.connections_open;
    connections.spawn(serve_connection(s, std::move(c)));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

HttpServer::HttpServer(RealExecutor& ex, Logger& log, node::HttpHandler* handler,
                       HttpServerOptions options)
    : state_(std::make_shared<State>(ex, log, handler, options)) {
  LAFS_ASSERT(handler != nullptr);
  LAFS_ASSERT(options.connections_max > 0);
  LAFS_ASSERT(options.header_bytes_max > 0 && options.header_bytes_max < kReadBufferBytes);
  LAFS_ASSERT(options.idle_timeout > Duration::zero());
  LAFS_ASSERT(options.header_timeout > Duration::zero());
  LAFS_ASSERT(options.body_read_timeout > Duration::zero());
  LAFS_ASSERT(options.write_timeout > Duration::zero());
}

HttpServer::~HttpServer() {
  state_->close();
}

Result<std::string> HttpServer::listen(std::string address) {
  State& s = *state_;
  if (s.listening) return failed_precondition("HTTP server already listening on " + s.address);
  if (s.closed) return failed_precondition("HTTP server closed");
  auto bound = bind_and_listen(s.acceptor, address, s.options.listen_backlog, "HTTP listen on");
  if (!bound.ok()) return bound.status();
  s.address = *bound;
  s.listening = true;
  return s.address;
}

Task<void> HttpServer::run() {
  return run_server(state_);
}

void HttpServer::close() {
  state_->close();
}

std::string HttpServer::address() const {
  return state_->address;
}

HttpServerStats HttpServer::stats() const {
  return state_->stats;
}

}  // namespace lafs::real
