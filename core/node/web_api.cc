#include "core/node/web_api.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <map>

#include "core/node/aliases.h"
#include "core/node/check_json.h"
#include "core/node/json.h"
#include "core/node/web_ui.h"

namespace lafs::node {

namespace {

constexpr std::string_view kPlain = "text/plain; charset=utf-8";
constexpr std::string_view kJson = "application/json";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_u64(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// A write into a directory needs its write cap.
Status check_writable_directory(const cap::Cap& dir, std::string_view what) {
  if (!dir.directory) return invalid_argument(std::string(what) + ": not a directory");
  if (dir.authority() != cap::Authority::kWrite) {
    return permission_denied(std::string(what) + ": read-only directory (this cap cannot write)");
  }
  return Status{};
}

// The status code an error gets; `reading` when the error came from fetching a file's
// contents, where "not found" means the file is gone, not a missing name.
int http_status_for(const Status& s, bool reading) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kFailedPrecondition:
      return 400;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return reading ? 410 : 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kResourceExhausted:
      return 413;
    case ErrorCode::kUnimplemented:
      return 501;
    case ErrorCode::kUnavailable:
      return reading ? 410 : 503;
    case ErrorCode::kCorruption:
      return 410;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kNoSpace:
      return 507;
    default:
      return 500;
  }
}

// The request body through the node's Disk: convergent encryption reads the file twice, and
// memory must not grow with it.
class DiskSource final : public client::ByteSource {
 public:
  DiskSource(File* file, std::uint64_t size) : file_(file), size_(size) {}
  std::uint64_t size() const override { return size_; }
  Task<Result<Bytes>> read(std::uint64_t offset, std::size_t length) override {
    Bytes out(length);
    std::size_t done = 0;
    while (done < length) {
      MutableByteView rest(out.data() + done, length - done);
      auto n = co_await file_->read_at(offset + done, rest);
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return io_error("spooled upload shorter than written");
      done += *n;
    }
    co_return out;
  }

 private:
  File* file_;
  std::uint64_t size_;
};

std::string_view format_of(const cap::Cap& c) {
  if (c.is_literal()) return "lit";
  if (c.is_mutable()) return "ssk";
  return "chk";
}

// ["filenode"|"dirnode", {...}] for one cap; `metadata` and `size` when known.
void describe_node(JsonWriter& j, const cap::Cap& c, std::optional<std::uint64_t> size,
                   const client::EntryMetadata* metadata) {
  j.begin_array();
  j.value(c.directory ? "dirnode" : "filenode");
  j.begin_object();
  j.key("format").value(format_of(c));
  j.key("mutable").value(c.is_mutable());
  if (c.authority() == cap::Authority::kWrite) j.key("rw_uri").value(cap::format_cap(c));
  if (auto r = cap::read_cap(c)) j.key("ro_uri").value(cap::format_cap(*r));
  if (auto v = cap::verify_cap(c)) j.key("verify_uri").value(cap::format_cap(*v));
  if (auto* chk = std::get_if<cap::ChkReadCap>(&c.file)) size = chk->params.size_bytes;
  if (auto* lit = std::get_if<cap::LiteralCap>(&c.file)) size = lit->data.size();
  if (size && !c.directory) j.key("size").value(*size);
  if (metadata != nullptr) {
    j.key("metadata").begin_object();
    j.key("link_created").value(static_cast<double>(to_unix_seconds(metadata->link_created)));
    j.key("link_modified").value(static_cast<double>(to_unix_seconds(metadata->link_modified)));
    j.end_object();
  }
  j.end_object();
  j.end_array();
}

// What a cap names, for page titles: "immutable file", "directory", ...
std::string kind_of(const cap::Cap& c) {
  if (c.directory) return c.is_mutable() ? "directory" : "immutable directory";
  if (c.is_literal()) return "literal file (its bytes are in its cap)";
  return c.is_mutable() ? "mutable file" : "immutable file";
}

// The flags of t=check and t=deep-check. Tahoe's spellings of a boolean are accepted; anything
// else is refused rather than read as false (a typo must not skip a verify).
struct CheckFlags {
  bool verify = false, repair = false, add_lease = false;
};

Result<bool> boolean_param(const std::map<std::string, std::string>& query,
                           const std::string& name) {
  auto it = query.find(name);
  if (it == query.end()) return false;
  std::string v;
  for (char c : it->second) {
    v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (v == "true" || v == "t" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "f" || v == "0" || v == "off" || v == "no") return false;
  return invalid_argument(name + "= takes true or false, not '" + it->second + "'");
}

Result<CheckFlags> check_flags(const std::map<std::string, std::string>& query) {
  CheckFlags f;
  for (auto [name, field] : {std::pair{"verify", &f.verify}, std::pair{"repair", &f.repair},
                             std::pair{"add-lease", &f.add_lease}}) {
    auto v = boolean_param(query, name);
    if (!v.ok()) return v.status();
    *field = *v;
  }
  return f;
}

// Holds one unit of a bounded count for as long as it lives (a coroutine frame's local).
class CountGuard {
 public:
  explicit CountGuard(std::size_t* count) : count_(count) { ++*count_; }
  CountGuard(const CountGuard&) = delete;
  CountGuard& operator=(const CountGuard&) = delete;
  ~CountGuard() { --*count_; }

 private:
  std::size_t* count_;
};

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return invalid_argument("malformed percent-escape in the URL");
      const int hi = hex_digit(text[i + 1]);
      const int lo = hex_digit(text[i + 2]);
      if (hi < 0 || lo < 0) return invalid_argument("malformed percent-escape in the URL");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return invalid_argument("the URL decodes to a NUL byte");
    out.push_back(c);
  }
  return out;
}

Result<std::optional<ByteRange>> parse_range(std::string_view header, std::uint64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return std::optional<ByteRange>{};
  std::string_view spec = header.substr(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>{};  // one only
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>{};
  const std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  std::uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix: the last N bytes
    std::uint64_t n = 0;
    if (!parse_u64(b, &n)) return std::optional<ByteRange>{};
    if (n == 0 || size == 0) return failed_precondition("range not satisfiable");
    n = std::min(n, size);
    return std::optional<ByteRange>{ByteRange{size - n, size - 1}};
  }
  if (!parse_u64(a, &first)) return std::optional<ByteRange>{};
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!parse_u64(b, &last) || last < first) {
    return std::optional<ByteRange>{};
  }
  if (first >= size) return failed_precondition("range not satisfiable");
  last = std::min(last, size - 1);
  return std::optional<ByteRange>{ByteRange{first, last}};
}

struct WebApi::Call {
  const HttpRequest& request;
  HttpBodyReader& body;
  HttpResponseWriter& response;
  std::string path;                          // decoded below /uri/CAP as segments
  std::map<std::string, std::string> query;  // decoded
  std::vector<std::string> segments;         // names after the cap, decoded
  std::string cap_text;                      // the cap's segment, decoded
  int status = 0;

  std::string param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
  bool has(const std::string& name) const { return query.count(name) != 0; }
  bool is_head() const { return request.method == "HEAD"; }
  std::string joined(std::size_t count) const {
    std::string out;
    for (std::size_t i = 0; i < count && i < segments.size(); ++i) {
      if (i > 0) out.push_back('/');
      out += segments[i];
    }
    return out;
  }
};

WebApi::WebApi(Node* node, WebApiOptions options) : node_(node), options_(std::move(options)) {
  LAFS_ASSERT_MSG(node_->client() != nullptr, "the web API needs a node with the client role");
}

Task<void> WebApi::reply(Call& call, int status, const std::string& body,
                         std::string_view content_type, const std::vector<HttpHeader>* extra) {
  call.status = status;
  std::vector<HttpHeader> headers{{"Content-Type", std::string(content_type)},
                                  {"X-Content-Type-Options", "nosniff"},
                                  {"Referrer-Policy", "no-referrer"}};
  if (extra != nullptr) headers.insert(headers.end(), extra->begin(), extra->end());
  const std::uint64_t length = body.size();
  if (!(co_await call.response.start(status, std::move(headers), length)).is_ok()) co_return;
  if (!body.empty() && !call.is_head()) {
    Bytes bytes = to_bytes(body);
    if (!(co_await call.response.write(std::move(bytes))).is_ok()) co_return;
  }
  co_await call.response.finish();
}

Task<void> WebApi::reply_error(Call& call, const Status& status, int code) {
  if (code == 0) code = http_status_for(status, false);
  std::string message = status.message();
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (code >= 500) {
    node_->env()->logger().log(LogLevel::kWarning, "web",
                               std::to_string(code) + " for " + call.request.method + " " +
                                   redact_target(call.request.target) + ": " + message);
  }
  co_await reply(call, code, message + "\n");
}

Task<void> WebApi::handle(const HttpRequest& request, HttpBodyReader& body,
                          HttpResponseWriter& response) {
  ++stats_.requests;
  Call call{request, body, response, {}, {}, {}, {}, 0};
  co_await dispatch(call);
  if (call.status >= 200 && call.status < 300) ++stats_.responses_2xx;
  if (call.status >= 400 && call.status < 500) ++stats_.responses_4xx;
  if (call.status >= 500) ++stats_.responses_5xx;
}

namespace {

bool host_allowed(const std::vector<std::string>& allowed, std::string_view host) {
  for (const std::string& a : allowed) {
    if (ascii_iequals(a, host)) return true;
  }
  return false;
}

}  // namespace

Task<void> WebApi::dispatch(Call& call) {
  if (!options_.allowed_hosts.empty()) {
    // DNS rebinding: a web page whose name now resolves to 127.0.0.1 reaches this port with its
    // own name in Host. Only our own names are answered.
    const std::optional<std::string_view> host = call.request.header("Host");
    if (!host || !host_allowed(options_.allowed_hosts, *host)) {
      co_await reply_error(
          call,
          permission_denied("foreign Host header: this gateway answers to " +
                            options_.allowed_hosts.front() + " ([client] web.hosts adds names)"),
          403);
      co_return;
    }
    // Cross-site request forgery, a second line behind the guard header below: browsers say
    // where a request comes from; tools (curl, the CLI) send neither header.
    const std::string& m = call.request.method;
    if (m != "GET" && m != "HEAD") {
      const std::optional<std::string_view> site = call.request.header("Sec-Fetch-Site");
      const std::optional<std::string_view> origin = call.request.header("Origin");
      bool foreign = site && *site != "same-origin" && *site != "none";
      if (origin) {
        std::string_view o = *origin;
        const std::size_t scheme = o.find("://");
        if (scheme != std::string_view::npos) o.remove_prefix(scheme + 3);
        foreign = foreign || !host_allowed(options_.allowed_hosts, o);
      }
      if (foreign) {
        co_await reply_error(call,
                             permission_denied("cross-site request refused: a page of another "
                                               "site cannot change anything here"),
                             403);
        co_return;
      }
    }
  }
  // Cross-site request forgery: a page elsewhere can make a browser send a form POST here (with
  // our Host). Every change must carry a header that such a form cannot set and that a script
  // of another origin cannot set without a CORS preflight, which is never granted.
  if (options_.require_csrf_header && call.request.method != "GET" &&
      call.request.method != "HEAD") {
    const std::optional<std::string_view> guard = call.request.header(ui::kCsrfHeader);
    if (!guard || guard->empty()) {
      co_await reply_error(call,
                           permission_denied(call.request.method + " needs the header " +
                                             std::string(ui::kCsrfHeader) +
                                             ": 1 (the guard against cross-site requests; "
                                             "the CLI and the web pages send it)"),
                           403);
      co_return;
    }
  }
  std::string_view target = call.request.target;
  std::string_view raw_path = target, raw_query;
  if (const std::size_t q = target.find('?'); q != std::string_view::npos) {
    raw_path = target.substr(0, q);
    raw_query = target.substr(q + 1);
  }
  while (!raw_query.empty()) {
    const std::size_t amp = raw_query.find('&');
    std::string_view param = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (param.empty()) continue;
    const std::size_t eq = param.find('=');
    auto k = percent_decode(param.substr(0, eq), true);
    auto v = percent_decode(
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1), true);
    if (!k.ok() || !v.ok()) {
      co_await reply_error(call, invalid_argument("malformed query string"), 400);
      co_return;
    }
    call.query[*k] = *v;
  }
  if (raw_path == "/" || raw_path.empty()) {
    co_await root(call);
    co_return;
  }
  if (raw_path == "/statistics" || raw_path == "/statistics/") {
    co_await statistics(call);
    co_return;
  }
  if (raw_path == "/static/lafs.css" || raw_path == "/static/lafs.js" ||
      raw_path == "/favicon.ico") {
    co_await static_file(call, raw_path);
    co_return;
  }
  if (raw_path == "/uri" || raw_path == "/uri/") {
    co_await uri_root(call);
    co_return;
  }
  constexpr std::string_view kUri = "/uri/";
  if (raw_path.substr(0, kUri.size()) != kUri) {
    co_await reply_error(call, not_found("no such page (the API lives under /uri)"), 404);
    co_return;
  }
  std::string_view rest = raw_path.substr(kUri.size());
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();  // a trailing '/'
  auto cap_text = percent_decode(parts[0], false);
  if (!cap_text.ok()) {
    co_await reply_error(call, cap_text.status(), 400);
    co_return;
  }
  call.cap_text = *cap_text;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto name = percent_decode(parts[i], false);
    if (!name.ok()) {
      co_await reply_error(call, name.status(), 400);
      co_return;
    }
    if (name->empty()) {
      co_await reply_error(call, invalid_argument("empty name in the path (two '/' in a row)"),
                           400);
      co_return;
    }
    if (name->find('/') != std::string::npos) {
      co_await reply_error(call, invalid_argument("a name in the path contains '/'"), 400);
      co_return;
    }
    call.segments.push_back(std::move(*name));
  }
  co_await uri_path(call);
}

Task<void> WebApi::root(Call& call) {
  if (call.request.method != "GET" && call.request.method != "HEAD") {
    co_await reply_error(call, invalid_argument("the node page takes GET"), 405);
    co_return;
  }
  client::ClientService* c = node_->client();
  if (call.param("t") != "json") {
    ui::WelcomeView v;
    v.nickname = node_->config().nickname;
    v.node_key_hex = net::to_hex(node_->key().public_key());
    v.version = options_.version;
    v.introducer_polls = c->subscriber().stats().polls;
    v.introducer_failures = c->subscriber().consecutive_failures();
    v.introducer_connected = v.introducer_polls > 0 && v.introducer_failures == 0;
    const client::EncodingParams& e = c->options().encoding;
    v.needed = e.needed;
    v.happy = e.happy;
    v.total = e.total;
    v.segment_size = e.segment_size;
    const MonoTime now = node_->env()->clock().monotonic_now();
    auto ago = [&](MonoTime t) {
      const auto s = std::chrono::duration_cast<seconds>(now - t).count();
      return s < 1 ? std::string("just now") : std::to_string(s) + " s ago";
    };
    for (const auto& [hex, a] : c->subscriber().servers()) {
      ui::ServerRow row;
      row.nickname = a.nickname;
      row.node_key_hex = hex;
      row.address = a.addresses.empty() ? std::string() : a.addresses.front();
      row.available_bytes = a.available_bytes;
      row.read_only = a.read_only;
      const rpc::PeerContact* contact = node_->pool().contact(a.node_key);
      if (contact == nullptr || (!contact->last_success && !contact->last_failure)) {
        row.last_contact = "not yet";
      } else if (contact->last_success &&
                 (!contact->last_failure || *contact->last_success >= *contact->last_failure)) {
        row.last_contact = ago(*contact->last_success);
      } else {
        row.last_contact = "failed " + ago(*contact->last_failure) + ": " + contact->last_error;
      }
      v.servers.push_back(std::move(row));
    }
    if (const client::MaintenanceAgent* m = node_->maintenance()) {
      const auto& st = m->stats();
      const auto days = std::chrono::duration_cast<hours>(m->options().interval).count() / 24.0;
      std::array<char, 32> every{};
      std::snprintf(every.data(), every.size(), "%g", days);
      v.maintenance = "every " + std::string(every.data()) +
                      " days over the aliases' directories; " + std::to_string(st.cycles) +
                      " cycles, " + std::to_string(st.objects_checked) + " objects checked, " +
                      std::to_string(st.repairs_successful) + " repaired" +
                      (st.errors > 0 ? ", " + std::to_string(st.errors) + " errors" : "");
    } else {
      v.maintenance = "off ([client] maintenance.enabled)";
    }
    std::stable_sort(
        v.servers.begin(), v.servers.end(),
        [](const ui::ServerRow& a, const ui::ServerRow& b) { return a.nickname < b.nickname; });
    const std::string html = ui::render_welcome(v);
    co_await reply_page(call, html);
    co_return;
  }
  JsonWriter j;
  j.begin_object();
  j.key("nickname").value(node_->config().nickname);
  j.key("node_key").value(net::to_hex(node_->key().public_key()));
  j.key("version").value(options_.version);
  j.key("introducer").begin_object();
  j.key("announcements").value(std::uint64_t{c->server_count()});
  j.key("polls").value(c->subscriber().stats().polls);
  j.key("consecutive_failures").value(std::uint64_t{c->subscriber().consecutive_failures()});
  j.end_object();
  const client::EncodingParams& e = c->options().encoding;
  j.key("encoding").begin_object();
  j.key("k").value(e.needed).key("happy").value(e.happy).key("n").value(e.total);
  j.key("segment_size").value(e.segment_size);
  j.end_object();
  j.key("servers").begin_array();
  for (const auto& [hex, a] : c->subscriber().servers()) {
    j.begin_object();
    j.key("nickname").value(a.nickname);
    j.key("node_key").value(hex);
    j.key("address").value(a.addresses.empty() ? std::string() : a.addresses.front());
    j.key("available_bytes").value(a.available_bytes);
    j.key("read_only").value(a.read_only);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  co_await reply(call, 200, j.take(), kJson);
}

Task<void> WebApi::reply_page(Call& call, const std::string& html) {
  // Pages hold caps: never cached, never framed, no script but our own.
  std::vector<HttpHeader> extra{{"Content-Security-Policy", std::string(ui::kPagePolicy)},
                                {"X-Frame-Options", "DENY"},
                                {"Cache-Control", "no-store"}};
  co_await reply(call, 200, html, "text/html; charset=utf-8", &extra);
}

Task<void> WebApi::static_file(Call& call, std::string_view path) {
  if (call.request.method != "GET" && call.request.method != "HEAD") {
    co_await reply_error(call, invalid_argument("static files take GET"), 405);
    co_return;
  }
  std::string body;
  std::string_view type;
  if (path.ends_with(".css")) {
    body = ui::stylesheet();
    type = "text/css; charset=utf-8";
  } else if (path.ends_with(".js")) {
    body = ui::script();
    type = "text/javascript; charset=utf-8";
  } else {
    body = ui::icon();
    type = "image/svg+xml";
  }
  std::vector<HttpHeader> extra{{"Cache-Control", "no-cache"}};
  co_await reply(call, 200, body, type, &extra);
}

Task<void> WebApi::statistics(Call& call) {
  if (call.request.method != "GET" && call.request.method != "HEAD") {
    co_await reply_error(call, invalid_argument("/statistics takes GET"), 405);
    co_return;
  }
  const WebApiStats& s = stats_;
  JsonWriter j;
  j.begin_object();
  j.key("requests").value(s.requests);
  j.key("responses_2xx").value(s.responses_2xx);
  j.key("responses_4xx").value(s.responses_4xx);
  j.key("responses_5xx").value(s.responses_5xx);
  j.key("uploads_started").value(s.uploads_started);
  j.key("uploads_finished").value(s.uploads_finished);
  j.key("uploads_failed").value(s.uploads_failed);
  j.key("downloads_started").value(s.downloads_started);
  j.key("downloads_finished").value(s.downloads_finished);
  j.key("downloads_failed").value(s.downloads_failed);
  j.key("bytes_uploaded").value(s.bytes_uploaded);
  j.key("bytes_downloaded").value(s.bytes_downloaded);
  j.key("storage_servers_known").value(std::uint64_t{node_->client()->server_count()});
  j.end_object();
  co_await reply(call, 200, j.take(), kJson);
}

Task<Result<Bytes>> WebApi::read_mutable_body(Call& call) {
  const std::uint64_t limit = options_.mutable_bytes_max;
  if (call.request.content_length && *call.request.content_length > limit) {
    co_return resource_exhausted("the body is " + std::to_string(*call.request.content_length) +
                                 " bytes; this node takes at most " + std::to_string(limit) +
                                 " for a mutable file");
  }
  if (mutable_bodies_active_ >= options_.mutable_bodies_max) {
    co_return unavailable("too many mutable uploads at once (" +
                          std::to_string(options_.mutable_bodies_max) + "); try again");
  }
  CountGuard held(&mutable_bodies_active_);
  Bytes contents;
  while (true) {
    auto piece = co_await call.body.read(options_.read_chunk_bytes);
    if (!piece.ok()) co_return piece.status();
    if (piece->empty()) break;
    if (contents.size() + piece->size() > limit) {
      co_return resource_exhausted("a mutable file of more than " + std::to_string(limit) +
                                   " bytes");
    }
    contents.insert(contents.end(), piece->begin(), piece->end());
  }
  stats_.bytes_uploaded += contents.size();
  co_return contents;
}

Task<Result<cap::Cap>> WebApi::upload_body(Call& call, bool mutable_file) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  const HttpRequest& req = call.request;
  const std::uint64_t limit = mutable_file ? options_.mutable_bytes_max : options_.upload_bytes_max;
  if (req.content_length && *req.content_length > limit) {
    co_return resource_exhausted("the body is " + std::to_string(*req.content_length) +
                                 " bytes; this node takes at most " + std::to_string(limit) +
                                 (mutable_file ? " for a mutable file" : ""));
  }
  client::ClientService* c = node_->client();
  if (mutable_file) {
    auto body = co_await read_mutable_body(call);
    if (!body.ok()) co_return body.status();
    ++stats_.uploads_started;
    Bytes contents = std::move(*body);
    const client::EncodingParams& e = c->options().encoding;
    client::MutableParams params{e.needed, e.total, e.segment_size, 0};
    auto made =
        co_await node_->mutable_client()->create(std::move(contents), servers, params, e.happy);
    if (!made.ok()) {
      ++stats_.uploads_failed;
      co_return made.status();
    }
    ++stats_.uploads_finished;
    co_return cap::Cap{*made, false};
  }

  // Immutable: spool to the node's disk, then upload from there.
  if (uploads_active_ >= options_.uploads_max) {
    co_return unavailable("too many uploads at once (" + std::to_string(options_.uploads_max) +
                          "); try again");
  }
  CountGuard held(&uploads_active_);
  ++stats_.uploads_started;
  Disk& disk = node_->env()->disk();
  Status made_dir = co_await disk.mkdir(options_.spool_dir);
  if (!made_dir.is_ok() && made_dir.code() != ErrorCode::kAlreadyExists) co_return made_dir;
  std::array<std::uint8_t, 8> rnd{};
  node_->env()->random().fill(rnd);
  const std::string path = options_.spool_dir + "/upload-" + std::to_string(++spool_counter_) +
                           "-" + net::to_hex(ByteView(rnd.data(), rnd.size()));
  OpenOptions oo;
  oo.create = true;
  oo.exclusive = true;
  auto file = co_await disk.open(path, oo);
  if (!file.ok()) co_return file.status().with_context("spooling the upload");
  std::uint64_t size = 0;
  Status spooled;
  while (true) {
    auto piece = co_await call.body.read(options_.read_chunk_bytes);
    if (!piece.ok()) {
      spooled = piece.status();
      break;
    }
    if (piece->empty()) break;
    if (size + piece->size() > limit) {
      spooled = resource_exhausted("the body is over this node's limit of " +
                                   std::to_string(limit) + " bytes");
      break;
    }
    spooled = co_await (*file)->write_at(size, *piece);
    if (!spooled.is_ok()) break;
    size += piece->size();
  }
  Result<client::UploadResult> up = unavailable("not uploaded");
  if (spooled.is_ok()) {
    stats_.bytes_uploaded += size;
    DiskSource source(file->get(), size);
    const bool convergent = call.param("convergent") != "false";
    up = co_await c->upload(&source, convergent);
  }
  file->reset();
  Status removed = co_await disk.remove(path);
  if (!removed.is_ok()) {
    node_->env()->logger().log(LogLevel::kWarning, "web",
                               "could not remove a spooled upload: " + removed.to_string());
  }
  if (!spooled.is_ok()) {
    ++stats_.uploads_failed;
    co_return spooled;
  }
  if (!up.ok()) {
    ++stats_.uploads_failed;
    co_return up.status();
  }
  ++stats_.uploads_finished;
  co_return up->cap;
}

Task<void> WebApi::uri_root(Call& call) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  const std::string& m = call.request.method;
  const std::string t = call.param("t");
  if ((m == "POST" || m == "PUT") && t == "mkdir") {
    std::vector<std::pair<std::string, cap::Cap>> no_children;
    auto made = co_await node_->directories()->create(servers, no_children);
    if (!made.ok()) {
      co_await reply_error(call, made.status());
      co_return;
    }
    co_await reply(call, 200, cap::format_cap(*made));
    co_return;
  }
  if (m == "PUT" && t.empty()) {
    const bool mutable_file = call.param("mutable") == "true";
    auto up = co_await upload_body(call, mutable_file);
    if (!up.ok()) {
      co_await reply_error(call, up.status());
      co_return;
    }
    co_await reply(call, 200, cap::format_cap(*up));
    co_return;
  }
  if ((m == "GET" || m == "HEAD") && t.empty() && call.has("uri")) {
    // The welcome page's "Open a cap" form (and Tahoe's GET /uri?uri=CAP): to the cap's page.
    std::string text = call.param("uri");
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    std::size_t lead = 0;
    while (lead < text.size() && std::isspace(static_cast<unsigned char>(text[lead]))) ++lead;
    auto parsed = cap::parse_cap(std::string_view(text).substr(lead));
    if (!parsed.ok()) {
      co_await reply_error(call, invalid_argument("malformed cap: " + parsed.status().message()),
                           400);
      co_return;
    }
    const std::string where =
        "/uri/" + cap::format_cap(*parsed) + (parsed->directory ? "/" : "?t=info");
    std::vector<HttpHeader> extra{{"Location", where}, {"Cache-Control", "no-store"}};
    co_await reply(call, 303, "see " + where + "\n", kPlain, &extra);
    co_return;
  }
  if (!t.empty()) {
    co_await reply_error(call, invalid_argument("/uri takes t=mkdir, not t=" + t), 400);
    co_return;
  }
  co_await reply_error(
      call, invalid_argument("/uri takes PUT (upload), POST ?t=mkdir or GET ?uri=CAP"), 405);
}

Task<void> WebApi::uri_path(Call& call) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  auto parsed = cap::parse_cap(call.cap_text);
  if (!parsed.ok()) {
    co_await reply_error(call, invalid_argument("malformed cap: " + parsed.status().message()),
                         400);
    co_return;
  }
  const cap::Cap root_cap = *parsed;
  const std::string& m = call.request.method;
  const std::string t = call.param("t");
  if (t == "check" || t == "stream-deep-check" || t == "deep-check") {
    // They may add leases and write shares: a change, so POST (and the CSRF guard), as in Tahoe.
    if (m != "POST") {
      std::vector<HttpHeader> allow{{"Allow", "POST"}};
      const std::string message = "t=" + t + " takes POST, not " + m + "\n";
      co_await reply(call, 405, message, kPlain, &allow);
    } else if (t == "check") {
      co_await check(call, root_cap);
    } else {
      co_await deep_check(call, root_cap, t == "stream-deep-check");
    }
    co_return;
  }
  if (t == "stream-manifest") {
    co_await reply_error(call, unimplemented("not built yet: t=stream-manifest"), 501);
    co_return;
  }
  if (m == "GET" || m == "HEAD") {
    if (!t.empty() && t != "json" && t != "info") {
      co_await reply_error(call, invalid_argument("GET takes t=json, t=info or no t, not t=" + t),
                           400);
      co_return;
    }
    cap::Cap target = root_cap;
    if (!call.segments.empty()) {
      const std::string path = call.joined(SIZE_MAX);
      auto child = co_await node_->directories()->resolve(root_cap, path, servers);
      if (!child.ok()) {
        co_await reply_error(call, child.status());
        co_return;
      }
      target = *child;
    }
    if (t == "json") {
      co_await describe(call, target);
    } else if (t == "info") {
      co_await info_page(call, target);
    } else if (target.directory) {
      co_await directory_page(call, root_cap, target);
    } else {
      co_await get_file(call, target);
    }
    co_return;
  }
  if (m == "PUT") {
    if (t == "uri" || (t.empty() && !call.segments.empty())) {
      co_await put_child(call, root_cap);
    } else if (t == "mkdir" && !call.segments.empty()) {
      co_await mkdir_in(call, root_cap);
    } else if (t.empty()) {
      co_await replace_mutable(call, root_cap);
    } else {
      co_await reply_error(call, invalid_argument("PUT takes t=uri, t=mkdir or no t, not t=" + t),
                           400);
    }
    co_return;
  }
  if (m == "POST") {
    if (t == "mkdir") {
      co_await mkdir_in(call, root_cap);
    } else if (t == "rename" || t == "relink") {
      co_await rename(call, root_cap);
    } else {
      co_await reply_error(
          call,
          invalid_argument(
              "POST takes t=mkdir, t=rename, t=check, t=deep-check or t=stream-deep-check, not t=" +
              t),
          400);
    }
    co_return;
  }
  if (m == "DELETE") {
    if (!t.empty()) {
      co_await reply_error(call, invalid_argument("DELETE takes no t=, not t=" + t), 400);
      co_return;
    }
    co_await remove_child(call, root_cap);
    co_return;
  }
  co_await reply_error(call, invalid_argument(m + " is not a method of /uri/CAP"), 405);
}

Task<void> WebApi::get_file(Call& call, const cap::Cap& cap) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  if (cap.authority() == cap::Authority::kVerify) {
    co_await reply_error(call, permission_denied("a verify cap cannot read the file"), 403);
    co_return;
  }
  client::ClientService* c = node_->client();
  // The size first: from the cap (immutable) or the newest version's signed header (mutable,
  // whose snapshot is then the one version read), so that ranges are exact and Content-Length
  // is always sent.
  std::uint64_t size = 0;
  if (auto* chk = std::get_if<cap::ChkReadCap>(&cap.file)) size = chk->params.size_bytes;
  if (auto* lit = std::get_if<cap::LiteralCap>(&cap.file)) size = lit->data.size();
  std::optional<client::MutableClient::Snapshot> snapshot;
  if (cap.is_mutable()) {
    auto snap = co_await node_->mutable_client()->snapshot(cap, servers);
    if (!snap.ok()) {
      co_await reply_error(call, snap.status(), http_status_for(snap.status(), true));
      co_return;
    }
    snapshot = std::move(*snap);
    size = snapshot->params.data_length;
  }
  // A user's file is never trusted content: a browser gets it sandboxed (no script can act on
  // the gateway's origin), unsniffed, and never tells another site the URL (a cap) it came from.
  // The type comes from the name the file is opened under (?filename=, or the path's last
  // name), so that a browser shows a picture or a page; the sandbox holds whatever it is.
  const std::string filename = call.has("filename")
                                   ? call.param("filename")
                                   : (call.segments.empty() ? std::string() : call.segments.back());
  std::vector<HttpHeader> headers{{"Content-Type", ui::content_type_for(filename)},
                                  {"Content-Security-Policy", "sandbox"},
                                  {"X-Content-Type-Options", "nosniff"},
                                  {"Referrer-Policy", "no-referrer"},
                                  {"Accept-Ranges", "bytes"}};
  if (call.param("save") == "true") {
    headers.push_back({"Content-Disposition", ui::content_disposition(filename)});
  }
  std::uint64_t first = 0, length = size;
  int status = 200;
  if (std::optional<std::string_view> range = call.request.header("Range")) {
    auto r = parse_range(*range, size);
    if (!r.ok()) {
      std::vector<HttpHeader> extra{{"Content-Range", "bytes */" + std::to_string(size)}};
      const std::string message = "range outside the file (" + std::to_string(size) + " bytes)\n";
      co_await reply(call, 416, message, kPlain, &extra);
      co_return;
    }
    if (*r) {
      first = (*r)->first;
      length = (*r)->last - (*r)->first + 1;
      status = 206;
      headers.push_back({"Content-Range", "bytes " + std::to_string((*r)->first) + "-" +
                                              std::to_string((*r)->last) + "/" +
                                              std::to_string(size)});
    }
  }
  ++stats_.downloads_started;
  if (call.is_head() || length == 0) {
    call.status = status;
    const std::optional<std::uint64_t> content_length = length;
    if ((co_await call.response.start(status, std::move(headers), content_length)).is_ok()) {
      co_await call.response.finish();
    }
    ++stats_.downloads_finished;
    co_return;
  }
  // Headers go out with the first verified bytes, so a file that cannot be read at all gets a
  // proper error status instead of a cut 200. The sink is awaited by stream_range for each
  // piece, so the references it captures outlive every call.
  bool started = false;
  Status write_error;
  std::uint64_t sent = 0;
  auto deliver = [&](ByteView piece) -> Task<Status> {
    if (!started) {
      started = true;
      call.status = status;
      std::vector<HttpHeader> h = headers;
      const std::optional<std::uint64_t> content_length = length;
      Status s = co_await call.response.start(status, std::move(h), content_length);
      if (!s.is_ok()) {
        write_error = s;
        co_return s;
      }
    }
    Bytes copy(piece.begin(), piece.end());
    Status w = co_await call.response.write(std::move(copy));
    if (!w.is_ok()) {
      write_error = w;
      co_return w;
    }
    sent += piece.size();
    co_return Status{};
  };
  Status fetched;
  if (!cap.is_mutable()) {
    client::ImmutableClient::AsyncSink sink = deliver;
    fetched = co_await c->immutable().stream_range(cap, servers, first, length, sink);
  } else {
    client::MutableClient::AsyncSink sink = deliver;
    fetched = co_await node_->mutable_client()->stream_range(*snapshot, first, length, sink);
  }
  stats_.bytes_downloaded += sent;
  if (!fetched.is_ok()) {
    ++stats_.downloads_failed;
    if (!started) {
      co_await reply_error(call, fetched, http_status_for(fetched, true));
    } else if (write_error.is_ok()) {
      // Mid-stream: the response cannot change its status any more; cut it (no finish()), so
      // the client sees a truncated body, never a complete-looking wrong one.
      node_->env()->logger().log(
          LogLevel::kWarning, "web",
          "download failed after " + std::to_string(sent) + " bytes: " + fetched.to_string());
    }
    co_return;
  }
  ++stats_.downloads_finished;
  co_await call.response.finish();
}

Task<void> WebApi::describe(Call& call, const cap::Cap& cap) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  JsonWriter j;
  if (!cap.directory) {
    std::optional<std::uint64_t> size;
    if (cap.is_mutable() && cap.authority() != cap::Authority::kVerify) {
      auto snap = co_await node_->mutable_client()->snapshot(cap, servers);
      if (!snap.ok()) {
        co_await reply_error(call, snap.status(), http_status_for(snap.status(), true));
        co_return;
      }
      size = snap->params.data_length;
    }
    describe_node(j, cap, size, nullptr);
    co_await reply(call, 200, j.take(), kJson);
    co_return;
  }
  if (cap.authority() == cap::Authority::kVerify) {
    co_await reply_error(call, permission_denied("a verify cap cannot list a directory"), 403);
    co_return;
  }
  auto entries = co_await node_->directories()->list(cap, servers);
  if (!entries.ok()) {
    co_await reply_error(call, entries.status(), http_status_for(entries.status(), true));
    co_return;
  }
  j.begin_array();
  j.value("dirnode");
  j.begin_object();
  j.key("format").value(format_of(cap));
  j.key("mutable").value(cap.is_mutable());
  if (cap.authority() == cap::Authority::kWrite) j.key("rw_uri").value(cap::format_cap(cap));
  if (auto r = cap::read_cap(cap)) j.key("ro_uri").value(cap::format_cap(*r));
  if (auto v = cap::verify_cap(cap)) j.key("verify_uri").value(cap::format_cap(*v));
  j.key("children").begin_object();
  for (const client::DirectoryEntry& e : *entries) {
    j.key(e.name);
    const cap::Cap& shown = e.write_cap ? *e.write_cap : e.read_cap;
    describe_node(j, shown, e.metadata.size, &e.metadata);
  }
  j.end_object();
  j.end_object();
  j.end_array();
  co_await reply(call, 200, j.take(), kJson);
}

Task<void> WebApi::directory_page(Call& call, const cap::Cap& root, const cap::Cap& dir) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  if (dir.authority() == cap::Authority::kVerify) {
    co_await reply_error(call, permission_denied("a verify cap cannot list a directory"), 403);
    co_return;
  }
  auto listed = co_await node_->directories()->list(dir, servers);
  if (!listed.ok()) {
    co_await reply_error(call, listed.status(), http_status_for(listed.status(), true));
    co_return;
  }
  std::vector<client::DirectoryEntry> entries = std::move(*listed);
  std::stable_partition(entries.begin(), entries.end(),
                        [](const client::DirectoryEntry& e) { return e.is_directory(); });
  const std::string root_text = cap::format_cap(root);
  ui::DirectoryView v;
  v.api_path = node::uri_path(root_text, call.segments);
  v.writable = dir.authority() == cap::Authority::kWrite;
  v.crumbs.push_back({"root", node::uri_path(root_text, {}) + "/"});
  for (std::size_t i = 0; i < call.segments.size(); ++i) {
    v.crumbs.push_back({call.segments[i], node::uri_path(root_text, call.segments, i + 1) + "/"});
  }
  const std::string dir_name = call.segments.empty() ? std::string() : call.segments.back();
  v.info_href = "/uri/" + cap::format_cap(dir) + "?t=info" +
                (dir_name.empty() ? "" : "&filename=" + percent_encode(dir_name));
  v.json_href = v.api_path + "?t=json";
  for (const client::DirectoryEntry& e : entries) {
    ui::EntryRow row;
    row.name = e.name;
    row.directory = e.is_directory();
    row.mutable_file = e.read_cap.is_mutable();
    row.size = e.metadata.size;
    if (auto* chk = std::get_if<cap::ChkReadCap>(&e.read_cap.file))
      row.size = chk->params.size_bytes;
    if (auto* lit = std::get_if<cap::LiteralCap>(&e.read_cap.file)) row.size = lit->data.size();
    if (e.metadata.link_modified != WallTime{}) row.modified = e.metadata.link_modified;
    const std::string name = percent_encode(e.name);
    if (row.directory) {
      row.href = v.api_path + "/" + name + "/";
    } else {
      // A file is opened by its own read cap, never under this directory's path: a page in it
      // (sandboxed anyway) learns nothing but its own cap from its address.
      row.href = "/uri/" + cap::format_cap(e.read_cap) + "?filename=" + name;
    }
    const cap::Cap& strongest = e.write_cap ? *e.write_cap : e.read_cap;
    row.info_href = "/uri/" + cap::format_cap(strongest) + "?t=info&filename=" + name;
    v.entries.push_back(std::move(row));
  }
  const std::string html = ui::render_directory(v);
  co_await reply_page(call, html);
}

Task<void> WebApi::info_page(Call& call, const cap::Cap& cap) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  ui::InfoView v;
  v.name = call.has("filename") ? call.param("filename")
                                : (call.segments.empty() ? std::string() : call.segments.back());
  v.kind = kind_of(cap);
  if (auto* chk = std::get_if<cap::ChkReadCap>(&cap.file)) v.size = chk->params.size_bytes;
  if (auto* lit = std::get_if<cap::LiteralCap>(&cap.file)) v.size = lit->data.size();
  if (cap.is_mutable() && !cap.directory && cap.authority() != cap::Authority::kVerify) {
    auto snap = co_await node_->mutable_client()->snapshot(cap, servers);
    if (snap.ok()) v.size = snap->params.data_length;  // else: shown without a size
  }
  if (cap.authority() == cap::Authority::kWrite) v.write_cap = cap::format_cap(cap);
  if (auto r = cap::read_cap(cap)) v.read_cap = cap::format_cap(*r);
  if (auto ver = cap::verify_cap(cap)) v.verify_cap = cap::format_cap(*ver);
  const std::string name_query = v.name.empty() ? "" : "filename=" + percent_encode(v.name);
  if (cap.directory) {
    v.open_href = "/uri/" + cap::format_cap(cap) + "/";
  } else if (!v.read_cap.empty()) {
    v.open_href = "/uri/" + v.read_cap + (name_query.empty() ? "" : "?" + name_query);
    v.download_href =
        "/uri/" + v.read_cap + "?" + (name_query.empty() ? "" : name_query + "&") + "save=true";
  }
  // The page's own cap is the strongest it has: a verify cap checks, and repairs an immutable
  // file; a mutable one's repair needs the write cap.
  v.check_path = "/uri/" + cap::format_cap(cap);
  v.can_repair = !cap.is_literal() && (!cap.is_mutable() || !v.write_cap.empty());
  if (cap.is_literal()) {
    v.repair_note = "A literal's bytes are in its cap: it has no shares to repair.";
  } else if (!v.can_repair) {
    v.repair_note = "Repairing a mutable file or directory needs its write cap.";
  }
  v.can_deep_check = cap.directory && cap.authority() != cap::Authority::kVerify;
  const std::string html = ui::render_info(v);
  co_await reply_page(call, html);
}

Task<Result<cap::Cap>> WebApi::writable_directory(const Call& call, const cap::Cap& root,
                                                  std::size_t depth, std::string_view what,
                                                  const std::vector<client::ServerRef>& servers) {
  cap::Cap dir = root;
  if (depth > 0) {
    const std::string path = call.joined(depth);
    auto found = co_await node_->directories()->resolve(root, path, servers);
    if (!found.ok()) co_return found.status();
    dir = *found;
  }
  LAFS_CO_RETURN_IF_ERROR(check_writable_directory(dir, what));
  co_return dir;
}

Task<void> WebApi::put_child(Call& call, const cap::Cap& root) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  if (call.segments.empty()) {
    co_await reply_error(call, invalid_argument("t=uri needs a name: PUT /uri/DIRCAP/NAME?t=uri"),
                         400);
    co_return;
  }
  const std::string name = call.segments.back();
  auto found = co_await writable_directory(call, root, call.segments.size() - 1, "PUT", servers);
  if (!found.ok()) {
    co_await reply_error(call, found.status());
    co_return;
  }
  const cap::Cap parent = *found;
  cap::Cap child;
  std::optional<std::uint64_t> size;
  if (call.param("t") == "uri") {
    std::string text;
    while (true) {
      auto piece = co_await call.body.read(options_.small_body_bytes_max);
      if (!piece.ok()) {
        co_await reply_error(call, piece.status());
        co_return;
      }
      if (piece->empty()) break;
      text.append(piece->begin(), piece->end());
      if (text.size() > options_.small_body_bytes_max) {
        co_await reply_error(call, resource_exhausted("a cap body over 4 KiB"), 413);
        co_return;
      }
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    std::size_t lead = 0;
    while (lead < text.size() && std::isspace(static_cast<unsigned char>(text[lead]))) ++lead;
    auto parsed = cap::parse_cap(std::string_view(text).substr(lead));
    if (!parsed.ok()) {
      co_await reply_error(
          call, invalid_argument("malformed cap in the body: " + parsed.status().message()), 400);
      co_return;
    }
    child = *parsed;
  } else {
    auto up = co_await upload_body(call, call.param("mutable") == "true");
    if (!up.ok()) {
      co_await reply_error(call, up.status());
      co_return;
    }
    child = *up;
    if (auto* chk = std::get_if<cap::ChkReadCap>(&child.file)) size = chk->params.size_bytes;
    if (auto* lit = std::get_if<cap::LiteralCap>(&child.file)) size = lit->data.size();
  }
  const bool replace = call.param("replace") != "false";
  Status added = co_await node_->directories()->add(parent, name, child, false, servers, size);
  int status = 201;
  if (added.code() == ErrorCode::kAlreadyExists && replace) {
    added = co_await node_->directories()->add(parent, name, child, true, servers, size);
    status = 200;
  }
  if (!added.is_ok()) {
    co_await reply_error(call, added);
    co_return;
  }
  co_await reply(call, status, cap::format_cap(child));
}

Task<void> WebApi::replace_mutable(Call& call, const cap::Cap& cap) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  if (cap.directory) {
    co_await reply_error(call,
                         invalid_argument("PUT to a directory cap: use PUT /uri/DIRCAP/NAME to "
                                          "add a child"),
                         400);
    co_return;
  }
  if (!cap.is_mutable()) {
    co_await reply_error(call, invalid_argument("an immutable file cannot be replaced"), 400);
    co_return;
  }
  auto* w = std::get_if<cap::SskWriteCap>(&cap.file);
  if (w == nullptr) {
    co_await reply_error(call, permission_denied("read-only cap: it cannot write this file"), 403);
    co_return;
  }
  auto body = co_await read_mutable_body(call);
  if (!body.ok()) {
    co_await reply_error(call, body.status());
    co_return;
  }
  Bytes contents = std::move(*body);
  client::ClientService* c = node_->client();
  auto shared = std::make_shared<Bytes>(std::move(contents));
  client::MutableClient::Change change = [shared](const Bytes&) -> Result<Bytes> {
    return *shared;
  };
  auto published =
      co_await node_->mutable_client()->modify(*w, change, servers, c->options().encoding.happy);
  if (!published.ok()) {
    co_await reply_error(call, published.status(), http_status_for(published.status(), false));
    co_return;
  }
  co_await reply(call, 200, cap::format_cap(cap));
}

Task<void> WebApi::mkdir_in(Call& call, const cap::Cap& root) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  std::string name = call.param("name");
  std::size_t parent_depth = call.segments.size();
  if (!call.has("name")) {
    if (call.segments.empty()) {
      co_await reply_error(call, invalid_argument("t=mkdir needs name= or a path ending in it"),
                           400);
      co_return;
    }
    name = call.segments.back();
    parent_depth = call.segments.size() - 1;
  }
  auto found = co_await writable_directory(call, root, parent_depth, "mkdir", servers);
  if (!found.ok()) {
    co_await reply_error(call, found.status());
    co_return;
  }
  const cap::Cap parent = *found;
  std::vector<std::pair<std::string, cap::Cap>> no_children;
  auto made = co_await node_->directories()->mkdir(parent, name, servers, no_children);
  if (!made.ok()) {
    co_await reply_error(call, made.status());
    co_return;
  }
  co_await reply(call, 200, cap::format_cap(*made));
}

Task<void> WebApi::remove_child(Call& call, const cap::Cap& root) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  if (call.segments.empty()) {
    co_await reply_error(call, invalid_argument("DELETE needs a name: /uri/DIRCAP/NAME"), 400);
    co_return;
  }
  auto found = co_await writable_directory(call, root, call.segments.size() - 1, "DELETE", servers);
  if (!found.ok()) {
    co_await reply_error(call, found.status());
    co_return;
  }
  const cap::Cap parent = *found;
  Status removed = co_await node_->directories()->remove(parent, call.segments.back(), servers);
  if (!removed.is_ok()) {
    co_await reply_error(call, removed);
    co_return;
  }
  co_await reply(call, 200, "");
}

Task<void> WebApi::rename(Call& call, const cap::Cap& root) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  const std::string from = call.param("from_name");
  const std::string to = call.has("to_name") ? call.param("to_name") : from;
  if (from.empty()) {
    co_await reply_error(call, invalid_argument("t=rename needs from_name="), 400);
    co_return;
  }
  cap::Cap dir = root;
  if (!call.segments.empty()) {
    const std::string path = call.joined(SIZE_MAX);
    auto p = co_await node_->directories()->resolve(root, path, servers);
    if (!p.ok()) {
      co_await reply_error(call, p.status());
      co_return;
    }
    dir = *p;
  }
  cap::Cap to_dir = dir;
  if (call.has("to_dir")) {
    const std::string target = call.param("to_dir");
    if (target.substr(0, cap::kCapPrefix.size()) == cap::kCapPrefix) {
      auto parsed = cap::parse_cap(target);
      if (!parsed.ok()) {
        co_await reply_error(
            call, invalid_argument("to_dir: malformed cap: " + parsed.status().message()), 400);
        co_return;
      }
      to_dir = *parsed;
    } else if (!target.empty()) {
      auto p = co_await node_->directories()->resolve(root, target, servers);
      if (!p.ok()) {
        co_await reply_error(call, p.status());
        co_return;
      }
      to_dir = *p;
    }
  }
  Status a = check_writable_directory(dir, "rename");
  if (a.is_ok()) a = check_writable_directory(to_dir, "rename target");
  if (!a.is_ok()) {
    co_await reply_error(call, a);
    co_return;
  }
  const bool replace = call.param("replace") != "false";
  Status moved = co_await node_->directories()->rename(dir, from, to_dir, to, replace, servers);
  if (!moved.is_ok()) {
    co_await reply_error(call, moved);
    co_return;
  }
  co_await reply(call, 200, "");
}

Task<Result<cap::Cap>> WebApi::target_of(const Call& call, const cap::Cap& root,
                                         const std::vector<client::ServerRef>& servers) {
  if (call.segments.empty()) co_return root;
  const std::string path = call.joined(SIZE_MAX);
  auto found = co_await node_->directories()->resolve(root, path, servers);
  if (!found.ok()) co_return found.status();
  co_return *found;
}

struct WebApi::CheckRequest {
  CheckFlags flags;
  cap::Cap target;
};

Task<std::optional<WebApi::CheckRequest>> WebApi::check_request(
    Call& call, const cap::Cap& root, const std::vector<client::ServerRef>& servers) {
  auto flags = check_flags(call.query);
  if (!flags.ok()) {
    co_await reply_error(call, flags.status(), 400);
    co_return std::nullopt;
  }
  auto found = co_await target_of(call, root, servers);
  if (!found.ok()) {
    co_await reply_error(call, found.status());
    co_return std::nullopt;
  }
  co_return CheckRequest{*flags, *found};
}

Task<void> WebApi::check(Call& call, const cap::Cap& root) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  auto request = co_await check_request(call, root, servers);
  if (!request) co_return;  // answered
  const CheckFlags* flags = &request->flags;
  const cap::Cap target = request->target;
  const std::uint32_t happy = node_->client()->options().encoding.happy;
  client::CheckOptions options;
  options.verify = flags->verify;
  options.add_lease = flags->add_lease;
  ui::CheckView v;
  std::string json;
  if (flags->repair) {
    client::RepairOptions repair_options;
    auto repaired = co_await node_->checker()->check_and_repair(target, servers, happy, options,
                                                                repair_options);
    if (!repaired.ok()) {
      co_await reply_error(call, repaired.status());
      co_return;
    }
    json = repair_result_json(*repaired);
    v.check = repaired->before;
    v.repair = std::move(*repaired);
  } else {
    auto checked = co_await node_->checker()->check(target, servers, happy, options);
    if (!checked.ok()) {
      co_await reply_error(call, checked.status());
      co_return;
    }
    json = check_result_json(*checked);
    v.check = std::move(*checked);
  }
  if (ascii_iequals(call.param("output"), "json")) {
    co_await reply(call, 200, json, kJson);
    co_return;
  }
  v.name = call.segments.empty() ? std::string() : call.segments.back();
  v.kind = kind_of(target);
  v.verified = flags->verify;
  v.info_href = "/uri/" + cap::format_cap(target) + "?t=info" +
                (v.name.empty() ? "" : "&filename=" + percent_encode(v.name));
  const std::string html = ui::render_check(v);
  co_await reply_page(call, html);
}

Task<void> WebApi::deep_check(Call& call, const cap::Cap& root, bool stream) {
  // Named locals as co_await arguments throughout (docs/decisions/0016).
  std::vector<client::ServerRef> servers = node_->client()->servers();
  auto request = co_await check_request(call, root, servers);
  if (!request) co_return;  // answered
  const CheckFlags* flags = &request->flags;
  const cap::Cap target = request->target;
  // Refused here, before a streamed answer has committed to 200.
  if (!target.directory) {
    co_await reply_error(
        call, invalid_argument("t=deep-check walks a directory; for a file use t=check"), 400);
    co_return;
  }
  if (target.authority() == cap::Authority::kVerify) {
    co_await reply_error(call,
                         permission_denied("a verify cap cannot list a directory: deep-check "
                                           "needs its read or write cap"),
                         403);
    co_return;
  }
  const std::uint32_t happy = node_->client()->options().encoding.happy;
  client::DeepCheckOptions options;
  options.check.verify = flags->verify;
  options.check.add_lease = flags->add_lease;
  options.repair = flags->repair;
  if (!stream) {
    client::DeepCheckSink ignore = [](const client::DeepCheckObject&) -> Task<Status> {
      co_return Status{};
    };
    auto summary = co_await node_->deep_checker()->run(target, servers, happy, options, ignore);
    if (!summary.ok()) {
      co_await reply_error(call, summary.status());
      co_return;
    }
    if (ascii_iequals(call.param("output"), "json")) {
      const std::string json = deep_check_summary_json(*summary);
      co_await reply(call, 200, json, kJson);
      co_return;
    }
    ui::DeepCheckView v;
    v.name = call.segments.empty() ? std::string() : call.segments.back();
    v.info_href = "/uri/" + cap::format_cap(target) + "?t=info" +
                  (v.name.empty() ? "" : "&filename=" + percent_encode(v.name));
    v.verified = flags->verify;
    v.repaired = flags->repair;
    v.summary = std::move(*summary);
    const std::string html = ui::render_deep_check(v);
    co_await reply_page(call, html);
    co_return;
  }
  // One JSON object per line as each is checked, the summary last. The head goes out now: a
  // large tree takes long, and the client sees progress instead of a silent wait.
  call.status = 200;
  std::vector<HttpHeader> headers{{"Content-Type", std::string(kPlain)},
                                  {"X-Content-Type-Options", "nosniff"},
                                  {"Referrer-Policy", "no-referrer"},
                                  {"Cache-Control", "no-store"}};
  const std::optional<std::uint64_t> unknown_length;
  if (!(co_await call.response.start(200, std::move(headers), unknown_length)).is_ok()) co_return;
  Status write_error;
  client::DeepCheckSink sink = [&call,
                                &write_error](const client::DeepCheckObject& o) -> Task<Status> {
    Bytes line = to_bytes(deep_check_object_json(o) + "\n");
    Status w = co_await call.response.write(std::move(line));
    if (!w.is_ok()) write_error = w;
    co_return w;
  };
  auto summary = co_await node_->deep_checker()->run(target, servers, happy, options, sink);
  if (!write_error.is_ok()) co_return;  // the client went away: nothing more to tell it
  std::string last;
  if (summary.ok()) {
    last = deep_check_summary_json(*summary) + "\n";
  } else {
    // The status line is long gone: the walk's failure is the last line instead of the summary.
    JsonWriter j;
    j.begin_object().key("type").value("error").key("error").value(summary.status().message());
    j.end_object();
    last = j.take() + "\n";
    node_->env()->logger().log(LogLevel::kWarning, "web",
                               "deep-check of " + redact_target(call.request.target) +
                                   " stopped: " + summary.status().to_string());
  }
  Bytes bytes = to_bytes(last);
  if (!(co_await call.response.write(std::move(bytes))).is_ok()) co_return;
  co_await call.response.finish();
}

}  // namespace lafs::node
