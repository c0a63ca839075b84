// The blocking HTTP/1.1 client (http_client.h): Beast's serializer and parser over an Asio socket,
// driven by a private io_context in which every wait has a deadline. The response head is read
// concurrently with sending the body, so that a gateway that refuses an upload early is heard at
// once instead of after the whole file.
#include "bin/http_client.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/node/web_ui.h"

namespace lafs::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using SysError = boost::system::error_code;

constexpr std::string_view kUserAgent = "lafs-cli/0.1";
// After sending failed, how long to look for the answer that may explain it (a gateway that
// refuses a body answers and closes, and our next write then fails).
constexpr std::chrono::seconds kEarlyAnswerGrace{5};
// The read buffer holds the response head and at most one read's worth more: the body is copied
// out of it chunk by chunk.
constexpr std::size_t kReadBufferBytesMax = kHttpResponseHeaderBytesMax + 2 * kHttpIoChunkBytes;

std::string seconds(std::chrono::seconds s) {
  return std::to_string(s.count()) + " s";
}

// Keeps the first kHttpErrorBodyBytesMax bytes and drops the rest: an error body is for a message.
class ErrorBodySink : public BodySink {
 public:
  Status write(const char* data, std::size_t size) override {
    text_.append(data, std::min(size, kHttpErrorBodyBytesMax - text_.size()));
    return Status{};
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

class DiscardSink : public BodySink {
 public:
  Status write(const char*, std::size_t) override { return Status{}; }
};

// The next piece of a request body. A source with a known size must yield exactly that many
// bytes: the gateway trusts Content-Length, so a file that grew or shrank while being read is
// refused rather than stored short or cut.
Result<std::size_t> next_chunk(BodySource& src, std::vector<char>& buf, std::uint64_t sent) {
  const std::optional<std::uint64_t> size = src.size();
  if (!size) return src.read(buf.data(), buf.size());
  LAFS_ASSERT(sent <= *size);
  const std::uint64_t left = *size - sent;
  if (left == 0) {
    char probe = 0;
    auto n = src.read(&probe, 1);
    if (!n.ok()) return n.status();
    if (*n != 0) {
      return invalid_argument("the file grew past its size of " + std::to_string(*size) +
                              " bytes while being sent");
    }
    return std::size_t{0};
  }
  auto n =
      src.read(buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), left)));
  if (n.ok() && *n == 0) {
    return invalid_argument("the file ended after " + std::to_string(sent) + " of its " +
                            std::to_string(*size) + " bytes while being sent (did it change?)");
  }
  return n;
}

// One request and its response on one connection.
class Exchange {
 public:
  explicit Exchange(const node::NodeUrl& url) : url_(url), buffer_(kReadBufferBytesMax) {
    parser_.header_limit(static_cast<std::uint32_t>(kHttpResponseHeaderBytesMax));
    parser_.body_limit(boost::none);  // bodies are streamed: the sink holds the bound
  }
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange() {
    // Pending handlers refer to members: close the socket and let every handler finish (with
    // operation_aborted) while the members still exist.
    SysError ignored;
    socket_.close(ignored);
    ioc_.restart();
    ioc_.run();
  }

  Result<ClientResponse> run(const ClientRequest& request, BodySink* sink);

 private:
  Status connect();
  Status send(const ClientRequest& request, std::uint64_t* sent);
  Status write_step(const std::function<void(std::function<void(SysError, std::size_t)>)>& start,
                    bool* answered);
  Status await_head(std::chrono::seconds wait);
  Status read_body(BodySink& sink, const ProgressFn& progress, std::chrono::seconds idle);
  bool wait_for(const bool& flag, Clock::time_point deadline);
  void cancel_and_drain();
  bool answered_early() const { return head_done_ && !head_ec_; }
  std::string where() const { return "the node at " + url_.text(); }

  node::NodeUrl url_;
  asio::io_context ioc_;
  tcp::socket socket_{ioc_};
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
  bool head_done_ = false;
  SysError head_ec_;
};

// Runs handlers until `flag` is set or `deadline` passes. On the deadline, cancels everything
// pending on the socket and lets those handlers finish; returns false.
bool Exchange::wait_for(const bool& flag, Clock::time_point deadline) {
  ioc_.restart();
  while (!flag) {
    if (ioc_.run_one_until(deadline) == 0 && !flag) {
      // Out of work with the flag unset would mean no operation was pending: a bug here.
      LAFS_ASSERT_MSG(Clock::now() >= deadline, "HTTP client waits for no pending operation");
      cancel_and_drain();
      return false;
    }
  }
  return true;
}

void Exchange::cancel_and_drain() {
  SysError ignored;
  socket_.cancel(ignored);
  ioc_.restart();
  ioc_.run();
}

Status Exchange::connect() {
  tcp::resolver resolver(ioc_);
  SysError ec;
  const auto endpoints = resolver.resolve(url_.host, std::to_string(url_.port), ec);
  if (ec) return unavailable("cannot resolve " + where() + ": " + ec.message());
  bool done = false;
  asio::async_connect(socket_, endpoints, [&done, &ec](SysError e, const tcp::endpoint&) {
    done = true;
    ec = e;
  });
  if (!wait_for(done, Clock::now() + kHttpConnectTimeout)) {
    return timeout_error("cannot connect to " + where() + " within " +
                         seconds(kHttpConnectTimeout));
  }
  if (ec) return unavailable("cannot connect to " + where() + ": " + ec.message());
  return Status{};
}

// Runs one write started by `start`. If the response head arrives meanwhile, the gateway has
// answered before taking the whole body: the write is cancelled and `answered` set.
Status Exchange::write_step(
    const std::function<void(std::function<void(SysError, std::size_t)>)>& start, bool* answered) {
  bool done = false;
  SysError ec;
  start([&done, &ec](SysError e, std::size_t) {
    done = true;
    ec = e;
  });
  const Clock::time_point deadline = Clock::now() + kHttpIdleTimeout;
  bool cancelled = false;
  ioc_.restart();
  while (!done) {
    if (answered_early() && !cancelled) {
      SysError ignored;
      socket_.cancel(ignored);
      cancelled = true;
    }
    if (ioc_.run_one_until(deadline) == 0 && !done) {
      LAFS_ASSERT_MSG(Clock::now() >= deadline, "HTTP client write is not pending");
      cancel_and_drain();
      return timeout_error("no progress sending to " + where() + " for " +
                           seconds(kHttpIdleTimeout));
    }
  }
  if (cancelled || answered_early()) {
    *answered = true;
    return Status{};
  }
  if (ec && ec != http::error::need_buffer) {
    return unavailable("sending to " + where() + ": " + ec.message());
  }
  return Status{};
}

Status Exchange::send(const ClientRequest& request, std::uint64_t* sent) {
  const http::verb verb = http::string_to_verb(request.method);
  LAFS_ASSERT_MSG(verb != http::verb::unknown, request.method.c_str());
  http::request<http::buffer_body> req{verb, request.target, 11};
  const bool v6 = url_.host.find(':') != std::string::npos;
  req.set(http::field::host,
          (v6 ? "[" + url_.host + "]" : url_.host) + ":" + std::to_string(url_.port));
  req.set(http::field::user_agent, kUserAgent);
  // The gateway's CSRF guard (docs/webui.md): a tool says it is not a browser form.
  req.set(std::string(node::ui::kCsrfHeader), "1");
  req.keep_alive(false);  // one request per connection: never resend a PUT on a stale one
  BodySource* src = request.body;
  if (src != nullptr) {
    req.set(http::field::content_type, request.content_type);
    if (const auto size = src->size()) {
      req.content_length(*size);
    } else {
      req.chunked(true);
    }
  } else if (verb == http::verb::put || verb == http::verb::post) {
    req.content_length(0);
  }
  req.body().data = nullptr;
  req.body().more = src != nullptr;
  http::request_serializer<http::buffer_body> sr{req};
  bool answered = false;
  LAFS_RETURN_IF_ERROR(write_step(
      [this, &sr](auto handler) { http::async_write_header(socket_, sr, std::move(handler)); },
      &answered));
  if (src == nullptr || answered) return Status{};
  std::vector<char> buf(kHttpIoChunkBytes);
  while (true) {
    auto n = next_chunk(*src, buf, *sent);
    if (!n.ok()) return n.status();
    req.body().data = *n == 0 ? nullptr : buf.data();
    req.body().size = *n;
    req.body().more = *n != 0;
    LAFS_RETURN_IF_ERROR(write_step(
        [this, &sr](auto handler) { http::async_write(socket_, sr, std::move(handler)); },
        &answered));
    if (answered || *n == 0) return Status{};
    *sent += *n;
    if (request.upload_progress) request.upload_progress(*sent, src->size());
  }
}

Status Exchange::await_head(std::chrono::seconds wait) {
  if (!wait_for(head_done_, Clock::now() + wait)) {
    return timeout_error(where() + " did not answer within " + seconds(wait));
  }
  if (!head_ec_) return Status{};
  if (head_ec_ == http::error::header_limit) {
    return protocol_error(where() + " sent response headers over " +
                          std::to_string(kHttpResponseHeaderBytesMax) + " bytes");
  }
  if (head_ec_ == http::error::end_of_stream || head_ec_ == asio::error::eof ||
      head_ec_ == asio::error::connection_reset) {
    return unavailable(where() + " closed the connection without answering");
  }
  if (head_ec_.category() == http::make_error_code(http::error::bad_version).category()) {
    return protocol_error(where() + " sent a malformed response: " + head_ec_.message());
  }
  return unavailable("reading the answer of " + where() + ": " + head_ec_.message());
}

Status Exchange::read_body(BodySink& sink, const ProgressFn& progress, std::chrono::seconds idle) {
  std::vector<char> buf(kHttpIoChunkBytes);
  std::uint64_t received = 0;
  while (!parser_.is_done()) {
    parser_.get().body().data = buf.data();
    parser_.get().body().size = buf.size();
    bool done = false;
    SysError ec;
    http::async_read(socket_, buffer_, parser_, [&done, &ec](SysError e, std::size_t) {
      done = true;
      ec = e;
    });
    if (!wait_for(done, Clock::now() + idle)) {
      return timeout_error("no data from " + where() + " for " + seconds(idle) + " after " +
                           std::to_string(received) + " bytes");
    }
    const std::size_t n = buf.size() - parser_.get().body().size;
    if (n > 0) {
      LAFS_RETURN_IF_ERROR(sink.write(buf.data(), n));
      received += n;
      if (progress) {
        std::optional<std::uint64_t> total;
        if (parser_.content_length()) total = *parser_.content_length();
        progress(received, total);
      }
    }
    if (ec && ec != http::error::need_buffer) {
      return unavailable(where() + " cut the response short after " + std::to_string(received) +
                         " bytes (" + ec.message() +
                         "); a download whose data fails verification ends this way");
    }
  }
  return Status{};
}

Result<ClientResponse> Exchange::run(const ClientRequest& request, BodySink* sink) {
  LAFS_RETURN_IF_ERROR(connect());
  http::async_read_header(socket_, buffer_, parser_, [this](SysError e, std::size_t) {
    head_done_ = true;
    head_ec_ = e;
  });
  std::uint64_t sent = 0;
  const Status sent_status = send(request, &sent);
  if (!sent_status.is_ok()) {
    // The gateway may have answered and closed; its answer says more than our write error.
    const bool transport = sent_status.code() == ErrorCode::kUnavailable;
    if (!transport || !wait_for(head_done_, Clock::now() + kEarlyAnswerGrace) || head_ec_) {
      return sent_status;
    }
  }
  auto wait = kHttpResponseWaitMin + std::chrono::seconds(sent / kHttpGatewayBytesPerSecondMin);
  if (request.response_wait.count() > 0) wait = std::max(wait, request.response_wait);
  const std::chrono::seconds idle = request.response_idle_timeout.count() > 0
                                        ? request.response_idle_timeout
                                        : std::chrono::seconds(kHttpIdleTimeout);
  LAFS_RETURN_IF_ERROR(await_head(wait));
  ClientResponse out;
  const auto& head = parser_.get();
  out.status = static_cast<int>(head.result_int());
  if (parser_.content_length()) out.content_length = *parser_.content_length();
  out.content_type = std::string(head[http::field::content_type]);
  if (out.ok()) {
    DiscardSink discard;
    LAFS_RETURN_IF_ERROR(
        read_body(sink != nullptr ? *sink : discard, request.download_progress, idle));
  } else {
    // An error body is best effort: the status alone is the answer.
    ErrorBodySink error_body;
    (void)read_body(error_body, nullptr, idle);
    out.error_body = error_body.take();
  }
  return out;
}

}  // namespace

FdSource::FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return;
  const off_t at = ::lseek(fd_, 0, SEEK_CUR);
  if (at < 0 || at > st.st_size) return;
  size_ = static_cast<std::uint64_t>(st.st_size - at);
}

Result<std::size_t> FdSource::read(char* buf, std::size_t max) {
  while (true) {
    const ssize_t n = ::read(fd_, buf, max);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return io_error("read " + name_ + ": " + std::strerror(errno));
  }
}

Result<std::size_t> StringSource::read(char* buf, std::size_t max) {
  const std::size_t n = std::min(max, text_.size() - at_);
  std::memcpy(buf, text_.data() + at_, n);
  at_ += n;
  return n;
}

Status FdSink::write(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write " + name_ + ": " + std::strerror(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return Status{};
}

Status StringSink::write(const char* data, std::size_t size) {
  if (size > max_bytes_ - text_.size()) {
    return resource_exhausted("the answer is longer than " + std::to_string(max_bytes_) +
                              " bytes, more than this command keeps in memory");
  }
  text_.append(data, size);
  return Status{};
}

Result<ClientResponse> http_request(const node::NodeUrl& url, const ClientRequest& request,
                                    BodySink* sink) {
  Exchange exchange(url);
  return exchange.run(request, sink);
}

}  // namespace lafs::cli
