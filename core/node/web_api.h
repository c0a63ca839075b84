// The web API (docs/webapi.md): Tahoe's WAPI shapes over a node's client. An HttpHandler, so it
// runs behind the real HTTP server (net/real/http_server.h) and, in tests, in the simulator.
#pragma once

#include <cstdint>
#include <string>

#include "core/node/http.h"
#include "core/node/node.h"

namespace lafs::node {

struct WebApiOptions {
  // Request bodies at most this long (413 beyond); the node's [client] upload_bytes_max.
  std::uint64_t upload_bytes_max = std::uint64_t{1} << 40;
  // A mutable file's whole contents are held in memory while published: bodies beyond this
  // get 413 (the share size bound of docs/specs/mutable.md leaves room at 3-of-10).
  std::uint64_t mutable_bytes_max = std::uint64_t{64} << 20;
  // Uploads being received at once: spooled immutable ones (disk) and mutable ones (memory,
  // up to mutable_bytes_max each). Beyond: 503, try again later.
  std::size_t uploads_max = 16;
  std::size_t mutable_bodies_max = 4;
  // Caps and other small bodies (t=uri) at most this long.
  std::size_t small_body_bytes_max = 4096;
  // Where uploads are spooled (on the node's Disk); made when missing.
  std::string spool_dir = "tmp";
  std::size_t read_chunk_bytes = 1 << 20;
  std::string version = "0.1.0";
  // Host header values answered ("127.0.0.1:3456", "localhost:3456", ...; ASCII
  // case-insensitive); any other, or none, gets 403. Empty: no check (in-memory tests).
  std::vector<std::string> allowed_hosts;
  // PUT, POST and DELETE need the ui::kCsrfHeader header (docs/webui.md "Browser safety").
  bool require_csrf_header = true;
};

struct WebApiStats {
  std::uint64_t requests = 0;
  std::uint64_t responses_2xx = 0, responses_4xx = 0, responses_5xx = 0;
  std::uint64_t uploads_started = 0, uploads_finished = 0, uploads_failed = 0;
  std::uint64_t downloads_started = 0, downloads_finished = 0, downloads_failed = 0;
  std::uint64_t bytes_uploaded = 0, bytes_downloaded = 0;
};

class WebApi final : public HttpHandler {
 public:
  // `node` must have the client role and outlive the API.
  WebApi(Node* node, WebApiOptions options = {});

  Task<void> handle(const HttpRequest& request, HttpBodyReader& body,
                    HttpResponseWriter& response) override;

  const WebApiStats& stats() const { return stats_; }
  // Set once the gateway's address is known, before the first request.
  std::vector<std::string>& allowed_hosts() { return options_.allowed_hosts; }

 private:
  struct Call;
  Task<void> dispatch(Call& call);
  Task<void> root(Call& call);
  Task<void> static_file(Call& call, std::string_view path);
  Task<void> statistics(Call& call);
  Task<void> uri_root(Call& call);
  Task<void> uri_path(Call& call);
  Task<void> get_file(Call& call, const cap::Cap& cap);
  Task<void> describe(Call& call, const cap::Cap& cap);
  // The HTML pages (web_ui.h): a directory, and any cap's info page.
  Task<void> directory_page(Call& call, const cap::Cap& root, const cap::Cap& dir);
  Task<void> info_page(Call& call, const cap::Cap& cap);
  Task<void> reply_page(Call& call, const std::string& html);
  // The directory at the first `depth` path segments below `root` (root itself for 0), which
  // must be a directory this request may change (`what` names the operation in errors).
  Task<Result<cap::Cap>> writable_directory(const Call& call, const cap::Cap& root,
                                            std::size_t depth, std::string_view what,
                                            const std::vector<client::ServerRef>& servers);
  Task<void> put_child(Call& call, const cap::Cap& root);
  Task<void> replace_mutable(Call& call, const cap::Cap& cap);
  Task<void> mkdir_in(Call& call, const cap::Cap& root);
  Task<void> remove_child(Call& call, const cap::Cap& root);
  Task<void> rename(Call& call, const cap::Cap& root);
  // POST ?t=check (with verify, repair, add-lease; output=JSON or a page) and ?t=deep-check or
  // ?t=stream-deep-check (one JSON line per object as it is checked, then the summary).
  Task<void> check(Call& call, const cap::Cap& root);
  Task<void> deep_check(Call& call, const cap::Cap& root, bool stream);
  // The cap at the request's path below `root` (root itself without a path).
  // The flags and the resolved object of a t=check or t=deep-check request, or nullopt when
  // the error is already answered.
  struct CheckRequest;
  Task<std::optional<CheckRequest>> check_request(Call& call, const cap::Cap& root,
                                                  const std::vector<client::ServerRef>& servers);
  Task<Result<cap::Cap>> target_of(const Call& call, const cap::Cap& root,
                                   const std::vector<client::ServerRef>& servers);
  // Uploads the request body as a new file; the cap, or the error already answered.
  Task<Result<cap::Cap>> upload_body(Call& call, bool mutable_file);
  // A mutable file's new contents from the body, within the bounds.
  Task<Result<Bytes>> read_mutable_body(Call& call);
  // Awaited within the full expression, so the references stay valid (decision 0016).
  Task<void> reply(Call& call, int status, const std::string& body,
                   std::string_view content_type = "text/plain; charset=utf-8",
                   const std::vector<HttpHeader>* extra = nullptr);
  Task<void> reply_error(Call& call, const Status& status, int fallback_code = 0);

  Node* node_;
  WebApiOptions options_;
  WebApiStats stats_;
  std::uint64_t spool_counter_ = 0;
  std::size_t uploads_active_ = 0;
  std::size_t mutable_bodies_active_ = 0;
};

// Decodes %XX escapes; with `plus_is_space` (query strings) '+' is a space. Errors:
// InvalidArgument for a malformed escape or a decoded NUL.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// A Range header for a body of `size` bytes: [first, last] inclusive. nullopt when the header
// is not a single byte range we serve (it is then ignored, as RFC 9110 allows); an error
// (416) when it is well-formed but outside the body.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};
Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size);

}  // namespace lafs::node
