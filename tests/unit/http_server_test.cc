// Tests of HttpServer on 127.0.0.1: Content-Length and chunked bodies both ways, HEAD,
// 100-continue, keep-alive and pipelining, the 4xx/5xx the server makes itself, cut responses,
// timeouts, the connection bound, cancellation, and an access log without caps. Clients are plain
// blocking sockets on a helper thread while the test thread drives the executor.
#include "net/real/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/node/http.h"
#include "core/runtime/scope.h"
#include "net/real/real_executor.h"
#include "net/real/real_tcp_network.h"

namespace lafs::real {
namespace {

// No test waits this long for a byte unless it is broken.
constexpr int kClientReceiveTimeoutSeconds = 10;
// How long the test thread drives the executor for one client at most.
constexpr auto kDriveTimeout = seconds(60);

std::string pattern(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) & 0xff);
  return s;
}

// A number in `base`, or nullopt (no exceptions from a malformed response).
std::optional<std::uint64_t> parse_number(std::string_view s, int base = 10) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr == s.data()) return std::nullopt;
  return v;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- The server side ----

class CapturingLogger final : public Logger {
 public:
  void log(LogLevel level, std::string_view component, std::string_view message) override {
    lines.push_back(std::string(component) + ": " + std::string(message));
  }
  bool contains(std::string_view needle) const {
    for (const auto& l : lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  std::vector<std::string> lines;
};

// What the handler saw of one request.
struct Seen {
  std::string method;
  std::string target;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  std::vector<std::size_t> read_sizes;
  std::optional<Status> read_error;
  std::optional<Status> response_error;  // the first failed start(), write() or finish()
  bool returned = false;
};

Task<Status> respond(node::HttpResponseWriter* response, int status, std::string text) {
  std::vector<node::HttpHeader> headers;
  headers.push_back(node::HttpHeader{"Content-Type", "text/plain"});
  const std::optional<std::uint64_t> length = text.size();
  LAFS_CO_RETURN_IF_ERROR(co_await response->start(status, std::move(headers), length));
  Bytes data = to_bytes(text);
  LAFS_CO_RETURN_IF_ERROR(co_await response->write(std::move(data)));
  co_return co_await response->finish();
}

Task<Result<std::string>> read_all(node::HttpBodyReader* body, Seen* seen) {
  std::string all;
  for (;;) {
    Result<Bytes> piece = co_await body->read(node::kHttpBodyChunkBytesMax);
    if (!piece.ok()) {
      seen->read_error = piece.status();
      co_return piece.status();
    }
    if (piece->empty()) co_return all;
    seen->read_sizes.push_back(piece->size());
    all.append(reinterpret_cast<const char*>(piece->data()), piece->size());
  }
}

// Routes: /hello (Content-Length), /chunked (three chunks), /echo (reads the whole body, sends
// it back in 1 MiB writes), /ignore (answers without reading), /none (no response), /partial
// (starts 100 bytes, sends 10), /big (256 MiB chunked), /bad-header (a header with CRLF in its
// value), anything else 404.
class TestHandler final : public node::HttpHandler {
 public:
  Task<void> handle(const node::HttpRequest& request, node::HttpBodyReader& body,
                    node::HttpResponseWriter& response) override {
    Seen& seen = seen_.emplace_back();  // std::deque: stays put while others are added
    seen.method = request.method;
    seen.target = request.target;
    seen.content_length = request.content_length;
    seen.chunked = request.chunked;
    return serve(request.target, &body, &response, &seen);
  }

  const std::deque<Seen>& seen() const { return seen_; }

 private:
  static Task<void> serve(std::string target, node::HttpBodyReader* body,
                          node::HttpResponseWriter* response, Seen* seen) {
    // Named locals, not temporaries, as arguments of awaited calls (docs/decisions/0016).
    if (target == "/hello") {
      std::string text = "hello world";
      Status s = co_await respond(response, 200, std::move(text));
      (void)s;
    } else if (target == "/chunked") {
      co_await send_chunked(response);
    } else if (target == "/echo") {
      co_await echo(body, response, seen);
    } else if (target == "/ignore") {
      std::string text = "ignored";
      Status s = co_await respond(response, 200, std::move(text));
      (void)s;
    } else if (target == "/none") {
      // No response: the server answers 500.
    } else if (target == "/partial") {
      std::vector<node::HttpHeader> headers;
      const std::optional<std::uint64_t> length = 100;
      Status s = co_await response->start(200, std::move(headers), length);
      Bytes ten = to_bytes("0123456789");
      if (s.is_ok()) s = co_await response->write(std::move(ten));
    } else if (target == "/big") {
      co_await send_big(response, seen);
    } else if (target == "/bad-header") {
      std::vector<node::HttpHeader> headers;
      headers.push_back(node::HttpHeader{"X-Split", "a\r\nSet-Cookie: evil"});
      const std::optional<std::uint64_t> length = 0;
      Status s = co_await response->start(200, std::move(headers), length);
      if (!s.is_ok()) seen->response_error = s;  // and no response: the server answers 500
    } else {
      std::string text = "not here";
      Status s = co_await respond(response, 404, std::move(text));
      (void)s;
    }
    seen->returned = true;
  }

  static Task<void> send_chunked(node::HttpResponseWriter* response) {
    std::vector<node::HttpHeader> headers;
    headers.push_back(node::HttpHeader{"X-Test", "chunked"});
    const std::optional<std::uint64_t> no_length;
    Status s = co_await response->start(200, std::move(headers), no_length);
    for (const char* piece : {"one", "two", "three"}) {
      if (!s.is_ok()) co_return;
      Bytes data = to_bytes(piece);
      s = co_await response->write(std::move(data));
    }
    if (s.is_ok()) s = co_await response->finish();
  }

  // Up to 256 MiB, chunked, until a write fails (the client stops reading).
  static Task<void> send_big(node::HttpResponseWriter* response, Seen* seen) {
    std::vector<node::HttpHeader> headers;
    const std::optional<std::uint64_t> no_length;
    Status s = co_await response->start(200, std::move(headers), no_length);
    for (int i = 0; s.is_ok() && i < 256; ++i) {
      Bytes mib(1 << 20, static_cast<std::uint8_t>('a' + i % 26));
      s = co_await response->write(std::move(mib));
    }
    if (s.is_ok()) s = co_await response->finish();
    if (!s.is_ok()) seen->response_error = s;
  }

  // On a body error the handler just returns: the server then answers 400/413/500 itself.
  static Task<void> echo(node::HttpBodyReader* body, node::HttpResponseWriter* response,
                         Seen* seen) {
    Result<std::string> all = co_await read_all(body, seen);
    if (!all.ok()) co_return;
    std::vector<node::HttpHeader> headers;
    const std::optional<std::uint64_t> length = all->size();
    Status s = co_await response->start(200, std::move(headers), length);
    constexpr std::size_t kPiece = 1 << 20;
    for (std::size_t at = 0; s.is_ok() && at < all->size(); at += kPiece) {
      Bytes piece = to_bytes(std::string_view(*all).substr(at, kPiece));
      s = co_await response->write(std::move(piece));
    }
    if (s.is_ok()) s = co_await response->finish();
  }

  std::deque<Seen> seen_;
};

// ---- The client side: blocking sockets ----

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
  bool has_header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return true;
    }
    return false;
  }
};

class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    LAFS_ASSERT(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    set_receive_timeout(kClientReceiveTimeoutSeconds * 1000);
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  void set_receive_timeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;  // the server may have hung up
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (an interim 1xx one too). nullopt when the connection ends or stalls
  // first, or the response is malformed.
  std::optional<Response> read_response(bool head_request = false) {
    std::optional<Response> r = read_head();
    if (!r) return std::nullopt;
    const bool bodiless = head_request || r->status < 200 || r->status == 204 || r->status == 304;
    if (bodiless) return r;
    if (lower(r->header("transfer-encoding")) == "chunked") {
      if (!read_chunked(&r->body)) return std::nullopt;
    } else if (r->has_header("content-length")) {
      const std::optional<std::uint64_t> length = parse_number(r->header("content-length"));
      if (!length || !read_exact(*length, &r->body)) return std::nullopt;
    } else {
      r->body = read_until_close();
    }
    return r;
  }

  // The status line and headers only.
  std::optional<Response> read_head() {
    std::optional<std::string> status_line = read_line();
    if (!status_line || status_line->rfind("HTTP/1.1 ", 0) != 0 || status_line->size() < 12) {
      return std::nullopt;
    }
    Response r;
    const std::optional<std::uint64_t> status = parse_number(status_line->substr(9, 3));
    if (!status) return std::nullopt;
    r.status = static_cast<int>(*status);
    for (;;) {
      std::optional<std::string> line = read_line();
      if (!line) return std::nullopt;
      if (line->empty()) break;
      const std::size_t colon = line->find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string value = line->substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace_back(lower(line->substr(0, colon)), value);
    }
    return r;
  }

  // Everything until the server closes (or the receive timeout).
  std::string read_until_close() {
    while (fill()) {
    }
    return std::exchange(buf_, std::string());
  }

  // True when the server closed the connection (EOF or reset) before the receive timeout.
  // Discards anything still sent.
  bool wait_closed() {
    buf_.clear();
    char tmp[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
  }

  // True when nothing arrives within the current receive timeout (and the connection is open).
  bool silent() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Closes with a reset instead of a FIN.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }

 private:
  bool fill() {
    char tmp[64 * 1024];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  std::optional<std::string> read_line() {
    for (;;) {
      const std::size_t eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return line;
      }
      if (!fill()) return std::nullopt;
    }
  }

  bool read_exact(std::size_t n, std::string* out) {
    while (buf_.size() < n) {
      if (!fill()) return false;
    }
    out->append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

  bool read_chunked(std::string* out) {
    for (;;) {
      std::optional<std::string> size_line = read_line();
      if (!size_line) return false;
      const std::optional<std::uint64_t> size = parse_number(*size_line, 16);
      if (!size) return false;
      if (*size == 0) break;
      if (!read_exact(*size, out)) return false;
      std::string crlf;
      if (!read_exact(2, &crlf) || crlf != "\r\n") return false;
    }
    for (;;) {  // trailers, then the blank line
      std::optional<std::string> line = read_line();
      if (!line) return false;
      if (line->empty()) return true;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string put(std::string_view target, std::string_view body) {
  return "PUT " + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string chunk(std::string_view data) {
  char size[24];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + "\r\n" + std::string(data) + "\r\n";
}

// ---- The rig ----

struct Rig {
  explicit Rig(HttpServerOptions options = {}) : server(ex, log, &handler, options) {
    Result<std::string> address = server.listen("127.0.0.1:0");
    LAFS_ASSERT(address.ok());
    Result<TcpAddress> parsed = parse_tcp_address(*address, /*allow_port_zero=*/false);
    LAFS_ASSERT(parsed.ok());
    port = parsed->port;
    scope.emplace(ex);
    scope->spawn(server.run());
  }

  // Runs `client` on a helper thread while this thread drives the executor; returns its result.
  template <typename F>
  auto drive(F client) {
    using R = decltype(client());
    std::optional<R> out;
    std::atomic<bool> done{false};
    std::thread t([&] {
      out.emplace(client());
      done = true;
      ex.post_from_any_thread([] {});  // lets run_until look at `done` again
    });
    ex.run_until([&] { return done.load(); }, kDriveTimeout);
    t.join();
    return std::move(*out);
  }

  // Drives the executor until `cond` holds (work that follows a response, such as logging).
  bool settle(const std::function<bool()>& cond) { return ex.run_until(cond, seconds(10)); }

  RealExecutor ex;
  CapturingLogger log;
  TestHandler handler;
  HttpServer server;
  std::optional<Scope> scope;  // runs server.run(); destroyed first
  std::uint16_t port = 0;
};

// ---- Tests ----

TEST(HttpServer, GetWithContentLength) {
  Rig rig;
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send(get("/hello"));
    return c.read_response();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  EXPECT_EQ(r->header("content-length"), "11");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  EXPECT_EQ(r->header("server"), "lafs");
  EXPECT_EQ(r->header("connection"), "keep-alive");
  EXPECT_NE(r->header("date").find(" GMT"), std::string::npos);
  EXPECT_FALSE(r->has_header("transfer-encoding"));
  ASSERT_EQ(rig.handler.seen().size(), 1u);
  EXPECT_EQ(rig.handler.seen()[0].method, "GET");
  EXPECT_EQ(rig.handler.seen()[0].content_length, std::optional<std::uint64_t>(0));
  EXPECT_FALSE(rig.handler.seen()[0].chunked);
}

TEST(HttpServer, ChunkedResponse) {
  Rig rig;
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send(get("/chunked"));
    return c.read_response();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("transfer-encoding"), "chunked");
  EXPECT_FALSE(r->has_header("content-length"));
  EXPECT_EQ(r->header("x-test"), "chunked");
  EXPECT_EQ(r->body, "onetwothree");
}

TEST(HttpServer, HeadSendsHeadersOnly) {
  Rig rig;
  auto got = rig.drive([&] {
    Client c(rig.port);
    std::vector<std::optional<Response>> out;
    c.send("HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n");
    out.push_back(c.read_response(/*head_request=*/true));
    c.send("HEAD /chunked HTTP/1.1\r\nHost: test\r\n\r\n");
    out.push_back(c.read_response(/*head_request=*/true));
    // Any stray body bytes would garble this one.
    c.send(get("/hello"));
    out.push_back(c.read_response());
    return out;
  });
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->status, 200);
  EXPECT_EQ(got[0]->header("content-length"), "11");
  ASSERT_TRUE(got[1].has_value());
  EXPECT_EQ(got[1]->status, 200);
  ASSERT_TRUE(got[2].has_value());
  EXPECT_EQ(got[2]->body, "hello world");
}

TEST(HttpServer, PutWithContentLengthStreamsTheBodyInPieces) {
  Rig rig;
  const std::string body = pattern(5 << 20, 3);
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n");
    for (std::size_t at = 0; at < body.size(); at += 100'000) {
      c.send(std::string_view(body).substr(at, 100'000));
    }
    return c.read_response();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), std::to_string(body.size()));
  EXPECT_TRUE(r->body == body) << "echoed body differs (" << r->body.size() << " bytes)";
  ASSERT_EQ(rig.handler.seen().size(), 1u);
  const Seen& seen = rig.handler.seen()[0];
  EXPECT_EQ(seen.content_length, std::optional<std::uint64_t>(body.size()));
  EXPECT_FALSE(seen.chunked);
  EXPECT_GT(seen.read_sizes.size(), 1u);  // streamed, not buffered whole
  std::size_t total = 0;
  for (std::size_t n : seen.read_sizes) {
    EXPECT_GT(n, 0u);
    EXPECT_LE(n, node::kHttpBodyChunkBytesMax);
    total += n;
  }
  EXPECT_EQ(total, body.size());
}

TEST(HttpServer, ChunkedRequestBody) {
  Rig rig;
  const std::string big = pattern(3 << 20, 5);
  std::string request = "PUT /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  request += chunk("hello");
  request += "1;name=value\r\n \r\n";  // a chunk extension
  for (std::size_t at = 0; at < big.size(); at += 100'003) {
    request += chunk(std::string_view(big).substr(at, 100'003));
  }
  request += "0\r\nX-Trailer: yes\r\n\r\n";
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send(request);
    return c.read_response();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body == "hello " + big) << "echoed body differs (" << r->body.size() << ")";
  ASSERT_EQ(rig.handler.seen().size(), 1u);
  EXPECT_TRUE(rig.handler.seen()[0].chunked);
  EXPECT_FALSE(rig.handler.seen()[0].content_length.has_value());
  EXPECT_EQ(r->header("connection"), "keep-alive");
}

TEST(HttpServer, ExpectContinueGets100ThenTheFinalResponse) {
  Rig rig;
  const std::string body = pattern(1000, 1);
  auto got = rig.drive([&] {
    Client c(rig.port);
    c.send(
        "PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n"
        "Expect: 100-continue\r\n\r\n");
    std::vector<std::optional<Response>> out;
    out.push_back(c.read_response());  // the body goes only after this
    c.send(body);
    out.push_back(c.read_response());
    return out;
  });
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->status, 100);
  ASSERT_TRUE(got[1].has_value());
  EXPECT_EQ(got[1]->status, 200);
  EXPECT_EQ(got[1]->body, body);
}

TEST(HttpServer, ExpectContinueWithoutReadingGetsOnlyTheFinalResponse) {
  Rig rig;
  auto got = rig.drive([&] {
    Client c(rig.port);
    c.send(
        "PUT /ignore HTTP/1.1\r\nHost: test\r\nContent-Length: 1000000\r\n"
        "Expect: 100-continue\r\n\r\n");
    std::optional<Response> r = c.read_response();
    return std::make_pair(r, c.wait_closed());
  });
  ASSERT_TRUE(got.first.has_value());
  EXPECT_EQ(got.first->status, 200);
  EXPECT_EQ(got.first->body, "ignored");
  EXPECT_EQ(got.first->header("connection"), "close");
  EXPECT_TRUE(got.second);
}

TEST(HttpServer, KeepAliveAndPipelining) {
  Rig rig;
  auto got = rig.drive([&] {
    Client c(rig.port);
    std::vector<std::optional<Response>> out;
    c.send(get("/hello"));
    out.push_back(c.read_response());
    c.send(put("/echo", "abc"));
    out.push_back(c.read_response());
    c.send(get("/chunked"));
    out.push_back(c.read_response());
    c.send(get("/hello") + put("/echo", "pipelined") + get("/none"));  // three at once
    for (int i = 0; i < 3; ++i) out.push_back(c.read_response());
    return out;
  });
  ASSERT_EQ(got.size(), 6u);
  for (const auto& r : got) ASSERT_TRUE(r.has_value());
  EXPECT_EQ(got[0]->body, "hello world");
  EXPECT_EQ(got[1]->body, "abc");
  EXPECT_EQ(got[2]->body, "onetwothree");
  EXPECT_EQ(got[3]->body, "hello world");
  EXPECT_EQ(got[4]->body, "pipelined");
  EXPECT_EQ(got[5]->status, 500);
  for (const auto& r : got) EXPECT_EQ(r->header("connection"), "keep-alive");
  ASSERT_TRUE(rig.settle([&] { return rig.server.stats().requests == 6; }));
  EXPECT_EQ(rig.server.stats().connections_accepted, 1u);
}

TEST(HttpServer, HandlerNotReadingTheBodyClosesAfterTheResponse) {
  Rig rig;
  auto got = rig.drive([&] {
    Client c(rig.port);
    c.send(put("/ignore", pattern(300'000, 2)));
    std::optional<Response> r = c.read_response();
    return std::make_pair(r, c.wait_closed());
  });
  ASSERT_TRUE(got.first.has_value());
  EXPECT_EQ(got.first->status, 200);
  EXPECT_EQ(got.first->body, "ignored");
  EXPECT_EQ(got.first->header("connection"), "close");
  EXPECT_TRUE(got.second);
}

TEST(HttpServer, RequestHeadOverTheLimitIs431) {
  Rig rig;
  auto got = rig.drive([&] {
    std::vector<std::pair<std::optional<Response>, bool>> out;
    {
      Client c(rig.port);  // under the limit: served
      c.send(get("/hello", "X-Big: " + std::string(15 * 1024, 'a') + "\r\n"));
      out.emplace_back(c.read_response(), false);
    }
    Client c(rig.port);
    c.send(get("/hello", "X-Big: " + std::string(17 * 1024, 'a') + "\r\n"));
    std::optional<Response> r = c.read_response();
    out.emplace_back(r, c.wait_closed());
    return out;
  });
  ASSERT_TRUE(got[0].first.has_value());
  EXPECT_EQ(got[0].first->status, 200);
  ASSERT_TRUE(got[1].first.has_value());
  EXPECT_EQ(got[1].first->status, 431);
  EXPECT_EQ(got[1].first->header("connection"), "close");
  EXPECT_TRUE(got[1].second);
}

TEST(HttpServer, MalformedRequestsGet400AndAClose) {
  Rig rig;
  static constexpr char kTlsHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n";
  const std::vector<std::string> requests = {
      std::string(kTlsHello, sizeof kTlsHello - 1),
      "GET\r\n\r\n",
      "GET / HTTP/1.1 trailing\r\nHost: test\r\n\r\n",
      "GET / HTTP/1.1\nHost: test\n\n",
      "GET / HTTP/1.1\r\nHost test\r\n\r\n",
      "PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n",
      "PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: -1\r\n\r\n",
      "PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "PUT /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n",
      "PUT /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
      "PUT /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhelloXX0\r\n\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  };
  auto got = rig.drive([&] {
    std::vector<std::pair<std::optional<Response>, bool>> out;
    for (const std::string& request : requests) {
      Client c(rig.port);
      c.send(request);
      std::optional<Response> r = c.read_response();
      out.emplace_back(r, c.wait_closed());
    }
    Client c(rig.port);  // and the server still serves
    c.send(get("/hello"));
    out.emplace_back(c.read_response(), false);
    return out;
  });
  ASSERT_EQ(got.size(), requests.size() + 1);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    ASSERT_TRUE(got[i].first.has_value());
    EXPECT_EQ(got[i].first->status, 400);
    EXPECT_EQ(got[i].first->header("connection"), "close");
    EXPECT_EQ(got[i].first->header("content-type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(got[i].second);
  }
  ASSERT_TRUE(got.back().first.has_value());
  EXPECT_EQ(got.back().first->body, "hello world");
}

TEST(HttpServer, BodyOverTheLimitIs413) {
  HttpServerOptions options;
  options.body_bytes_max = 1000;
  Rig rig(options);
  auto got = rig.drive([&] {
    std::vector<std::optional<Response>> out;
    {
      Client c(rig.port);
      c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1001\r\n\r\n");
      out.push_back(c.read_response());
    }
    Client c(rig.port);
    c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" +
           chunk(pattern(600, 1)) + chunk(pattern(600, 2)) + "0\r\n\r\n");
    out.push_back(c.read_response());
    return out;
  });
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->status, 413);
  ASSERT_TRUE(got[1].has_value());
  EXPECT_EQ(got[1]->status, 413);
  ASSERT_EQ(rig.handler.seen().size(), 1u);  // the first never reached the handler
  ASSERT_TRUE(rig.handler.seen()[0].read_error.has_value());
  EXPECT_EQ(rig.handler.seen()[0].read_error->code(), ErrorCode::kResourceExhausted);
}

TEST(HttpServer, HandlerWithoutAResponseGets500) {
  Rig rig;
  auto got = rig.drive([&] {
    Client c(rig.port);
    std::vector<std::optional<Response>> out;
    c.send(get("/none"));
    out.push_back(c.read_response());
    c.send(get("/hello"));  // the connection is still good
    out.push_back(c.read_response());
    return out;
  });
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->status, 500);
  EXPECT_EQ(got[0]->body, "Internal Server Error\n");
  ASSERT_TRUE(got[1].has_value());
  EXPECT_EQ(got[1]->body, "hello world");
  ASSERT_TRUE(rig.settle([&] { return rig.server.stats().responses_missing == 1; }));
}

TEST(HttpServer, UnfinishedResponseIsCut) {
  Rig rig;
  auto got = rig.drive([&] {
    Client c(rig.port);
    c.send(get("/partial"));
    std::optional<Response> head = c.read_head();
    return std::make_pair(head, c.read_until_close());
  });
  ASSERT_TRUE(got.first.has_value());
  EXPECT_EQ(got.first->status, 200);
  EXPECT_EQ(got.first->header("content-length"), "100");
  EXPECT_EQ(got.second, "0123456789");  // then the connection ended: visibly short
  ASSERT_TRUE(rig.settle([&] { return rig.server.stats().responses_cut == 1; }));
}

TEST(HttpServer, ClientVanishingMidBodyLeavesTheServerServing) {
  Rig rig;
  for (bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "reset" : "close");
    const std::size_t before = rig.handler.seen().size();
    // The client goes only once the handler is reading: a reset that came earlier would discard
    // the request before the server saw it.
    std::atomic<bool> go{false};
    std::thread client([&] {
      Client c(rig.port);
      c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1048576\r\n\r\n" +
             pattern(100'000, 1));
      while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (reset) {
        c.reset();
      } else {
        c.close();
      }
    });
    const bool seen_request = rig.settle([&] { return rig.handler.seen().size() == before + 1; });
    go = true;
    client.join();
    ASSERT_TRUE(seen_request);
    ASSERT_TRUE(rig.settle([&] { return rig.handler.seen().back().returned; }));
    const Seen& seen = rig.handler.seen().back();
    ASSERT_TRUE(seen.read_error.has_value());
    EXPECT_EQ(seen.read_error->code(), ErrorCode::kUnavailable) << seen.read_error->to_string();
  }
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send(get("/hello"));
    return c.read_response();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hello world");
  ASSERT_TRUE(rig.settle([&] { return rig.server.stats().connections_open == 0; }));
}

TEST(HttpServer, AccessLogRedactsCaps) {
  Rig rig;
  rig.drive([&] {
    Client c(rig.port);
    c.send(get("/uri/URI:CHK:abc:def/x"));
    std::optional<Response> a = c.read_response();
    c.send(get("/other?uri=URI:CHK:ghi:jkl&t=json"));
    std::optional<Response> b = c.read_response();
    return a.has_value() && b.has_value();
  });
  ASSERT_TRUE(rig.settle([&] { return rig.log.contains("/other"); }));
  EXPECT_TRUE(rig.log.contains("GET /uri/[CENSORED]/x 404"));
  EXPECT_TRUE(rig.log.contains("GET /other?uri=[CENSORED]&t=json 404"));
  for (const std::string& line : rig.log.lines) {
    EXPECT_EQ(line.find("URI:CHK"), std::string::npos) << line;
    EXPECT_EQ(line.find("abc:def"), std::string::npos) << line;
    EXPECT_EQ(line.find("ghi:jkl"), std::string::npos) << line;
  }
}

TEST(HttpServer, IdleAndHeaderTimeoutsCloseConnections) {
  HttpServerOptions options;
  options.idle_timeout = milliseconds(200);
  options.header_timeout = milliseconds(200);
  Rig rig(options);
  auto got = rig.drive([&] {
    std::vector<bool> closed;
    {
      Client c(rig.port);  // never sends anything
      closed.push_back(c.wait_closed());
    }
    {
      Client c(rig.port);  // half a request head
      c.send("GET /hello HTTP/1.1\r\nHost: te");
      closed.push_back(c.wait_closed());
    }
    Client c(rig.port);  // idle after a response
    c.send(get("/hello"));
    closed.push_back(c.read_response().has_value());
    closed.push_back(c.wait_closed());
    return closed;
  });
  EXPECT_EQ(got, std::vector<bool>({true, true, true, true}));
  ASSERT_TRUE(rig.settle([&] { return rig.server.stats().timeouts >= 1; }));
}

TEST(HttpServer, BodyReadTimeoutFailsTheRead) {
  HttpServerOptions options;
  options.body_read_timeout = milliseconds(200);
  Rig rig(options);
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nonly ten..");
    return c.read_response();  // the handler gives up; the server answers for it
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->header("connection"), "close");
  ASSERT_EQ(rig.handler.seen().size(), 1u);
  ASSERT_TRUE(rig.handler.seen()[0].read_error.has_value());
  EXPECT_EQ(rig.handler.seen()[0].read_error->code(), ErrorCode::kTimeout);
}

TEST(HttpServer, WriteTimeoutCutsAClientThatStopsReading) {
  HttpServerOptions options;
  options.write_timeout = milliseconds(200);
  Rig rig(options);
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c(rig.port);
    c.send(get("/big"));
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // never reads
  });
  const bool returned =
      rig.settle([&] { return rig.handler.seen().size() == 1 && rig.handler.seen()[0].returned; });
  done = true;
  client.join();
  ASSERT_TRUE(returned);
  ASSERT_TRUE(rig.handler.seen()[0].response_error.has_value());
  EXPECT_EQ(rig.handler.seen()[0].response_error->code(), ErrorCode::kTimeout)
      << rig.handler.seen()[0].response_error->to_string();
  ASSERT_TRUE(rig.settle([&] { return rig.server.stats().responses_cut == 1; }));
  EXPECT_GE(rig.server.stats().timeouts, 1u);
}

TEST(HttpServer, ResponseHeaderWithCrLfIsRefused) {
  Rig rig;
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send(get("/bad-header"));
    return c.read_response();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  EXPECT_FALSE(r->has_header("set-cookie"));
  EXPECT_FALSE(r->has_header("x-split"));
  ASSERT_EQ(rig.handler.seen().size(), 1u);
  ASSERT_TRUE(rig.handler.seen()[0].response_error.has_value());
  EXPECT_EQ(rig.handler.seen()[0].response_error->code(), ErrorCode::kInvalidArgument);
}

TEST(HttpServer, ManyConcurrentClients) {
  Rig rig;
  constexpr int kClients = 16;
  constexpr int kRequestsPerClient = 8;
  std::atomic<int> good{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      Client c(rig.port);
      for (int j = 0; j < kRequestsPerClient; ++j) {
        const std::string body = pattern(static_cast<std::size_t>(i * 7919 + j * 104'729), i + j);
        c.send(put("/echo", body));
        std::optional<Response> r = c.read_response();
        if (r && r->status == 200 && r->body == body) ++good;
      }
      ++finished;
      rig.ex.post_from_any_thread([] {});
    });
  }
  rig.ex.run_until([&] { return finished.load() == kClients; }, kDriveTimeout);
  for (auto& t : clients) t.join();
  EXPECT_EQ(good.load(), kClients * kRequestsPerClient);
  ASSERT_TRUE(rig.settle([&] { return rig.server.stats().connections_open == 0; }));
  EXPECT_EQ(rig.server.stats().connections_accepted, static_cast<std::uint64_t>(kClients));
  EXPECT_EQ(rig.server.stats().requests, static_cast<std::uint64_t>(kClients * kRequestsPerClient));
}

TEST(HttpServer, Http10BodyOfUnknownLengthEndsWithTheConnection) {
  Rig rig;
  auto r = rig.drive([&] {
    Client c(rig.port);
    c.send("GET /chunked HTTP/1.0\r\n\r\n");
    return c.read_response();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("transfer-encoding"));
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_EQ(r->body, "onetwothree");
}

TEST(HttpServer, ConnectionBoundHoldsBackNewConnections) {
  HttpServerOptions options;
  options.connections_max = 1;
  Rig rig(options);
  auto got = rig.drive([&] {
    std::vector<bool> out;
    auto first = std::make_unique<Client>(rig.port);
    first->send(get("/hello"));
    out.push_back(first->read_response().has_value());  // kept alive: the bound is reached
    Client second(rig.port);  // the kernel completes the handshake; the server waits
    second.send(get("/hello"));
    second.set_receive_timeout(300);
    out.push_back(second.silent());
    first.reset();  // a connection ends: the second is accepted and served
    second.set_receive_timeout(kClientReceiveTimeoutSeconds * 1000);
    std::optional<Response> r = second.read_response();
    out.push_back(r.has_value() && r->body == "hello world");
    return out;
  });
  EXPECT_EQ(got, std::vector<bool>({true, true, true}));
}

TEST(HttpServer, CancellingRunClosesTheListenerAndEveryConnection) {
  Rig rig;
  std::atomic<bool> closed{false};
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c(rig.port);
    c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\nsome");
    closed = c.wait_closed();  // the handler is parked in read() until the scope goes
    done = true;
    rig.ex.post_from_any_thread([] {});
  });
  ASSERT_TRUE(rig.settle([&] { return rig.handler.seen().size() == 1; }));
  rig.scope.reset();  // destroys run(), its connections and the handler's frame
  rig.ex.run_until([&] { return done.load(); }, kDriveTimeout);
  client.join();
  EXPECT_TRUE(closed);
  EXPECT_FALSE(rig.handler.seen()[0].returned);
  EXPECT_EQ(rig.server.stats().connections_open, 0u);
  Client late(rig.port);
  EXPECT_FALSE(late.connected());  // nothing listens any more
}

Task<void> run_and_mark(HttpServer* server, bool* returned) {
  co_await server->run();
  *returned = true;
}

TEST(HttpServer, CloseMakesRunReturn) {
  RealExecutor ex;
  CapturingLogger log;
  TestHandler handler;
  HttpServer server(ex, log, &handler);
  ASSERT_TRUE(server.listen("127.0.0.1:0").ok());
  EXPECT_EQ(server.listen("127.0.0.1:0").status().code(), ErrorCode::kFailedPrecondition);
  bool returned = false;
  Scope scope(ex);
  scope.spawn(run_and_mark(&server, &returned));
  ex.post([&server] { server.close(); });
  EXPECT_TRUE(ex.run_until([&] { return returned; }, seconds(10)));
}

TEST(HttpServer, ListenRejectsBadAddresses) {
  RealExecutor ex;
  CapturingLogger log;
  TestHandler handler;
  HttpServer a(ex, log, &handler);
  EXPECT_EQ(a.listen("localhost:80").status().code(), ErrorCode::kInvalidArgument);
  HttpServer b(ex, log, &handler);
  Result<std::string> bound = b.listen("127.0.0.1:0");
  ASSERT_TRUE(bound.ok());
  HttpServer c(ex, log, &handler);
  EXPECT_EQ(c.listen(*bound).status().code(), ErrorCode::kAlreadyExists);
}

}  // namespace
}  // namespace lafs::real
