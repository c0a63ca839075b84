// The file commands (docs/cli.md): put, get, ls, mkdir, cp, mv, ln, rm, the alias commands,
// check, deep-check and status, each a client of a node's web API (docs/webapi.md). A command
// checks its arguments before it touches the network (exit 2 for bad ones), then speaks to the
// gateway named by NODEDIR/node.url or --node-url (exit 1 when the operation fails). Caps never
// appear in messages; they are printed only where the user asked for one.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bin/commands.h"
#include "bin/http_client.h"
#include "bin/process_util.h"
#include "core/cap/cap.h"
#include "core/node/aliases.h"
#include "core/node/http.h"

namespace lafs::cli {
namespace {

namespace json = boost::json;
using node::GridPath;
using node::percent_encode;
using node::printable_name;
using node::uri_path;

// Bounds.
constexpr std::size_t kNodeUrlFileBytesMax = 4096;
constexpr std::size_t kCapAnswerBytesMax = 4096;  // a write's answer is one cap (<= 256 chars)
// A t=json answer is kept whole to be parsed: a directory of a million entries (the format's
// limit) would not fit, a hundred thousand do.
constexpr std::size_t kJsonAnswerBytesMax = 128 << 20;
constexpr std::size_t kCapStdinBytesMax = 4096;  // `add-alias NAME -`
// One line of a deep-check's answer: an object's check (and repair) results, a few KiB.
constexpr std::size_t kDeepCheckLineBytesMax = 1 << 20;
// The wait for a check's answer, and between a deep-check's lines, when it reads every share
// (--verify) or writes new ones (--repair): a safety net against a hung gateway that still lets
// a verify of a very large file finish.
constexpr std::chrono::seconds kCheckReadingWait{6 * 3600};
constexpr std::size_t kServerMessageCharsMax = 300;  // the gateway's one-line error, as shown
constexpr int kTreeDepthMax = 64;                    // cp -r nesting, either side
constexpr std::chrono::seconds kAliasesLockTimeout{10};
constexpr std::chrono::milliseconds kAliasesLockPoll{50};
constexpr std::uint64_t kProgressMinBytes = 1 << 20;  // smaller transfers get no bar
constexpr std::chrono::milliseconds kProgressRedrawInterval{250};
constexpr std::size_t kProgressLabelCharsMax = 30;

// Bad usage or input exits 2 (as "not built yet" does); any other failure exits 1.
int exit_for(const Status& s) {
  const bool usage =
      s.code() == ErrorCode::kInvalidArgument || s.code() == ErrorCode::kUnimplemented;
  return usage ? 2 : 1;
}

void report(const std::string& cmd, const Status& s) {
  if (s.is_ok()) {
    exit_code = 0;
    return;
  }
  std::cerr << "lafs " << cmd << ": " << s.message() << "\n";
  exit_code = exit_for(s);
}

void warn(const std::string& cmd, const std::string& message) {
  std::cerr << "lafs " << cmd << ": " << message << "\n";
}

std::string errno_text() {
  return std::strerror(errno);
}

// ---------------------------------------------------------------------------------------------
// Local files

std::string parent_dir(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The last component, trailing slashes ignored: "a/b/" -> "b", "/" -> "".
std::string base_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// An owned file descriptor, closed when dropped.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

enum class LocalKind { kMissing, kFile, kDir, kSymlink, kOther };

// What is at `path`: lstat when `follow` is false (symlinks are reported, never followed).
Result<LocalKind> local_kind(const std::string& path, bool follow) {
  struct stat st {};
  const int rc = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (rc != 0) {
    if (errno == ENOENT) return LocalKind::kMissing;
    return io_error("stat " + path + ": " + errno_text());
  }
  if (S_ISLNK(st.st_mode)) return LocalKind::kSymlink;
  if (S_ISDIR(st.st_mode)) return LocalKind::kDir;
  if (S_ISREG(st.st_mode)) return LocalKind::kFile;
  return LocalKind::kOther;
}

// The names in a local directory, sorted (so that a copy's order, and its messages, repeat).
Result<std::vector<std::string>> list_local_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return io_error("open directory " + path + ": " + errno_text());
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return io_error("read directory " + path + ": " + std::strerror(err));
  std::sort(names.begin(), names.end());
  return names;
}

// A downloaded file, written under a temporary name in its directory and renamed into place only
// when complete: a failed or cut-short download never leaves a complete-looking file, and an
// existing file is replaced whole. A symlink at the path is replaced, not written through.
class AtomicOutput {
 public:
  static Result<std::unique_ptr<AtomicOutput>> create(const std::string& path) {
    auto out = std::unique_ptr<AtomicOutput>(new AtomicOutput);
    out->path_ = path;
    out->temp_ = join_path(parent_dir(path), ".lafs-download-XXXXXX");
    out->fd_ = ::mkstemp(out->temp_.data());
    if (out->fd_ < 0) {
      return io_error("create a temporary file next to " + path + ": " + errno_text());
    }
    return out;
  }
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  ~AtomicOutput() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }
  int fd() const { return fd_; }

  Status commit() {
    const mode_t mask = ::umask(0);  // mkstemp made it 0600; a download gets the usual mode
    ::umask(mask);
    if (::fchmod(fd_, 0666 & ~mask) != 0) return io_error("chmod " + temp_ + ": " + errno_text());
    if (::fsync(fd_) != 0) return io_error("fsync " + temp_ + ": " + errno_text());
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return io_error("close " + temp_ + ": " + errno_text());
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
      return io_error("rename " + temp_ + " to " + path_ + ": " + errno_text());
    }
    committed_ = true;
    return Status{};
  }

 private:
  AtomicOutput() = default;
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// ---------------------------------------------------------------------------------------------
// Progress on stderr

// Only on a terminal, and not when the data itself goes to the terminal.
bool progress_wanted(bool data_to_stdout) {
  return ::isatty(STDERR_FILENO) == 1 && !(data_to_stdout && ::isatty(STDOUT_FILENO) == 1);
}

std::string human_bytes(double n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t unit = 0;
  while (n >= 1024 && unit + 1 < std::size(kUnits)) {
    n /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", n, kUnits[unit]);
  return buf;
}

// One line redrawn in place at most every kProgressRedrawInterval, erased when done.
class ProgressBar {
 public:
  ProgressBar(const std::string& label, bool enabled)
      : label_(printable_name(label.substr(0, kProgressLabelCharsMax))), enabled_(enabled) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() {
    if (drawn_width_ > 0) std::fprintf(stderr, "\r%*s\r", static_cast<int>(drawn_width_), "");
  }

  ProgressFn fn() {
    if (!enabled_) return {};
    return [this](std::uint64_t done, std::optional<std::uint64_t> total) { update(done, total); };
  }

 private:
  void update(std::uint64_t done, std::optional<std::uint64_t> total) {
    if (total && *total < kProgressMinBytes) return;
    const auto now = std::chrono::steady_clock::now();
    const bool finished = total && done == *total;  // shown while the gateway stores it
    if (drawn_width_ > 0 && now - last_ < kProgressRedrawInterval && !finished) return;
    last_ = now;
    const double elapsed_s = std::chrono::duration<double>(now - start_).count();
    std::string line = label_ + "  " + human_bytes(static_cast<double>(done));
    if (total) {
      line += " / " + human_bytes(static_cast<double>(*total)) + "  " +
              std::to_string(*total == 0 ? 100 : done * 100 / *total) + "%";
    }
    if (elapsed_s > 0.5) line += "  " + human_bytes(static_cast<double>(done) / elapsed_s) + "/s";
    const std::size_t width = std::max(line.size(), drawn_width_);
    std::fprintf(stderr, "\r%-*s", static_cast<int>(width), line.c_str());
    std::fflush(stderr);
    drawn_width_ = width;
  }

  std::string label_;
  bool enabled_;
  std::size_t drawn_width_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_;
};

// ---------------------------------------------------------------------------------------------
// The gateway

// "WHAT: message", or the message alone for a request about no object in particular.
std::string about(std::string_view what, const std::string& message) {
  return what.empty() ? message : std::string(what) + ": " + message;
}

// A non-2xx answer as a Status: the gateway's one-line message, then the HTTP status.
Status http_failure(const ClientResponse& r, std::string_view what) {
  std::string message = r.error_body.substr(0, r.error_body.find('\n'));
  while (!message.empty() && (message.back() == '\r' || message.back() == ' ')) message.pop_back();
  if (message.size() > kServerMessageCharsMax)
    message = message.substr(0, kServerMessageCharsMax) + "...";
  message = printable_name(message);
  if (message.empty()) message = std::string(node::http_reason(r.status));
  if (r.status == 501) {  // about the command, not the object
    if (message.rfind("not built yet", 0) != 0) message = "not built yet: " + message;
    return unimplemented(message);
  }
  message = about(what, message + " (HTTP " + std::to_string(r.status) + ")");
  switch (r.status) {
    case 400:
    case 416:
      return invalid_argument(message);
    case 403:
      return permission_denied(message);
    case 404:
      return not_found(message);
    case 409:
      return conflict(message);
    case 411:
    case 413:
    case 431:
      return resource_exhausted(message);
    case 500:
      return internal_error(message);
    default:
      return unavailable(message);
  }
}

// A cap the gateway answered must be one: it is printed, stored as an alias or put in a URL.
Result<std::string> answered_cap(const std::string& body, std::string_view what) {
  std::string text = body;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.erase(0, 1);
  const auto cap = cap::parse_cap(text);
  if (!cap.ok()) {
    return protocol_error(about(
        what, "the node answered something that is not a cap (" + cap.status().message() + ")"));
  }
  return text;
}

// The answer to t=mkdir: a directory's write cap, or the gateway is broken.
Result<std::string> answered_dir_cap(const std::string& body, std::string_view what) {
  auto text = answered_cap(body, what);
  if (!text.ok()) return text;
  const auto cap = cap::parse_cap(*text);
  if (!cap->directory || cap->authority() != cap::Authority::kWrite) {
    return protocol_error(about(what, "the node answered a new directory with " +
                                          node::cap_for_messages(*text) +
                                          ", not a directory write cap"));
  }
  return text;
}

class Gateway {
 public:
  explicit Gateway(node::NodeUrl url) : url_(std::move(url)) {}

  // `request.target` is a path from the API root ("/uri/...", "/?t=json"). `what` names the
  // object for messages ("docs:a.txt").
  Status transfer(ClientRequest request, BodySink* sink, std::string_view what) {
    LAFS_ASSERT(request.target.starts_with("/"));
    request.target = url_.base_path + request.target.substr(1);
    auto r = http_request(url_, request, sink);
    if (!r.ok()) return what.empty() ? r.status() : r.status().with_context(what);
    if (!r->ok()) return http_failure(*r, what);
    return Status{};
  }

  // A request whose answer is small (a cap, a listing): the 2xx body.
  Result<std::string> call(std::string method, std::string path, std::string_view what,
                           BodySource* body = nullptr, std::size_t max_bytes = kCapAnswerBytesMax) {
    ClientRequest request;
    request.method = std::move(method);
    request.target = std::move(path);
    request.body = body;
    request.content_type = "text/plain; charset=utf-8";  // bodies sent through call() are caps
    StringSink sink(max_bytes);
    LAFS_RETURN_IF_ERROR(transfer(std::move(request), &sink, what));
    return sink.text();
  }

  Result<json::value> get_json(std::string path, std::string_view what) {
    auto text = call("GET", std::move(path), what, nullptr, kJsonAnswerBytesMax);
    if (!text.ok()) return text.status();
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec) {
      return protocol_error(about(what, "the node answered malformed JSON (" + ec.message() + ")"));
    }
    return v;
  }

 private:
  node::NodeUrl url_;
};

// ---------------------------------------------------------------------------------------------
// The t=json descriptions

// A file or directory as the gateway describes it (docs/webapi.md).
struct GridNode {
  enum class Type { kFile, kDir, kUnknown };
  Type type = Type::kUnknown;
  bool is_mutable = false;
  std::optional<std::uint64_t> size;
  std::string rw_uri;  // empty unless reached through a write cap
  std::string ro_uri;
  std::optional<double> link_modified_s;  // children only: from "metadata"

  bool is_dir() const { return type == Type::kDir; }
  bool is_file() const { return type == Type::kFile; }
  const std::string& strongest_cap() const { return rw_uri.empty() ? ro_uri : rw_uri; }
  const std::string& read_cap() const { return ro_uri.empty() ? rw_uri : ro_uri; }
};

using Children = std::vector<std::pair<std::string, GridNode>>;  // sorted by name

struct Described {
  GridNode node;
  Children children;  // directories only
};

std::optional<std::uint64_t> json_uint(const json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  return std::nullopt;
}

// A cap from a description goes into URLs, so it must parse; one that does not (a newer format,
// a broken gateway) makes the node unknown rather than the whole listing unreadable.
Result<GridNode> parse_node(const json::value& v, std::string_view what) {
  const auto bad = [what](const std::string& m) {
    return protocol_error(std::string(what) + ": the node's JSON description is malformed: " + m);
  };
  const json::array* a = v.if_array();
  if (a == nullptr || a->size() != 2 || !(*a)[0].is_string() || !(*a)[1].is_object()) {
    return bad("expected [\"filenode\" or \"dirnode\", {...}]");
  }
  GridNode n;
  const json::string& type = (*a)[0].get_string();
  n.type = type == "filenode"  ? GridNode::Type::kFile
           : type == "dirnode" ? GridNode::Type::kDir
                               : GridNode::Type::kUnknown;
  const json::object& o = (*a)[1].get_object();
  if (const json::value* m = o.if_contains("mutable"); m != nullptr && m->is_bool()) {
    n.is_mutable = m->get_bool();
  }
  if (const json::value* s = o.if_contains("size"); s != nullptr && !s->is_null()) {
    n.size = json_uint(*s);
    if (!n.size) return bad("'size' is not a whole number");
  }
  for (auto [key, field] : {std::pair{"rw_uri", &n.rw_uri}, std::pair{"ro_uri", &n.ro_uri}}) {
    const json::value* c = o.if_contains(key);
    if (c == nullptr) continue;
    if (!c->is_string()) return bad(std::string("'") + key + "' is not a string");
    *field = std::string(c->get_string());
    if (!cap::parse_cap(*field).ok()) {
      n = GridNode{};  // unusable: shown as '?', skipped by cp
      return n;
    }
  }
  if (const json::value* md = o.if_contains("metadata"); md != nullptr && md->is_object()) {
    const json::value* lm = md->get_object().if_contains("link_modified");
    if (lm != nullptr && lm->is_number()) n.link_modified_s = lm->to_number<double>();
  }
  return n;
}

Result<Described> parse_described(const json::value& v, std::string_view what) {
  Described d;
  auto n = parse_node(v, what);
  if (!n.ok()) return n.status();
  d.node = std::move(*n);
  if (!d.node.is_dir()) return d;
  const json::value* children = v.get_array()[1].get_object().if_contains("children");
  if (children == nullptr || !children->is_object()) {
    return protocol_error(std::string(what) + ": the node's directory listing has no children");
  }
  for (const auto& [name, child] : children->get_object()) {
    auto c = parse_node(child, std::string(what) + "/" + printable_name(name));
    if (!c.ok()) return c.status();
    d.children.emplace_back(std::string(name), std::move(*c));
  }
  std::sort(d.children.begin(), d.children.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return d;
}

Result<Described> describe_path(Gateway& gw, const std::string& path, std::string_view what) {
  auto v = gw.get_json(path + "?t=json", what);
  if (!v.ok()) return v.status();
  return parse_described(*v, what);
}

Result<Described> describe(Gateway& gw, const GridPath& p) {
  return describe_path(gw, uri_path(p.root_cap, p.names), p.shown);
}

// ---------------------------------------------------------------------------------------------
// Sessions: the node directory, its aliases and its gateway

struct CommonOptions {
  std::string node_dir;
  std::string node_url;
};

void add_common_options(CLI::App* cmd, CommonOptions* o) {
  cmd->add_option("-d,--node-directory", o->node_dir,
                  "The node directory holding node.url and private/aliases (default: "
                  "$LAFS_NODE_DIR, else ~/.lafs)");
  cmd->add_option("-u,--node-url", o->node_url,
                  "The gateway's URL, instead of the one in NODEDIR/node.url "
                  "(e.g. http://127.0.0.1:3456/)");
}

class Session {
 public:
  static Result<Session> open(const CommonOptions& o) {
    Session s;
    if (!o.node_dir.empty()) {
      s.node_dir_ = o.node_dir;
    } else if (const char* env = std::getenv("LAFS_NODE_DIR"); env != nullptr && *env != '\0') {
      s.node_dir_ = env;
    } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
      s.node_dir_ = join_path(home, ".lafs");
    } else {
      return invalid_argument("no node directory: give -d NODEDIR (HOME is not set)");
    }
    if (!o.node_url.empty()) {
      auto url = node::parse_node_url(o.node_url);
      if (!url.ok()) return invalid_argument("--node-url: " + url.status().message());
      s.url_ = std::move(*url);
    }
    auto aliases = load_aliases(s.aliases_path());
    if (!aliases.ok()) return aliases.status();
    s.aliases_ = std::move(*aliases);
    return s;
  }

  const std::string& node_dir() const { return node_dir_; }
  std::string private_dir() const { return join_path(node_dir_, "private"); }
  std::string aliases_path() const { return join_path(private_dir(), "aliases"); }
  const node::Aliases& aliases() const { return aliases_; }

  // The aliases file as it is now; an absent file is an empty table. A malformed one is an
  // error naming its line, never silently half-read.
  static Result<node::Aliases> load_aliases(const std::string& path) {
    auto text = read_small_file(path, node::kAliasesBytesMax);
    if (!text.ok() && text.status().code() == ErrorCode::kNotFound) return node::Aliases{};
    if (!text.ok()) return text.status();
    auto parsed = node::Aliases::parse(*text, path);
    if (!parsed.ok()) return failed_precondition(parsed.status().message());
    return parsed;
  }

  // The gateway, from --node-url or NODEDIR/node.url (read only now, so that bad arguments are
  // reported without a node).
  Result<Gateway> gateway() {
    if (url_) return Gateway(*url_);
    const std::string path = join_path(node_dir_, "node.url");
    auto text = read_small_file(path, kNodeUrlFileBytesMax);
    if (!text.ok() && text.status().code() == ErrorCode::kNotFound) {
      return failed_precondition("no node.url in " + node_dir_ +
                                 " (start a node there with 'lafs run', give -d NODEDIR, or give "
                                 "--node-url URL)");
    }
    if (!text.ok()) return text.status();
    auto url = node::parse_node_url(*text);
    if (!url.ok()) return failed_precondition(path + ": " + url.status().message());
    url_ = *url;
    return Gateway(*url_);
  }

 private:
  std::string node_dir_;
  std::optional<node::NodeUrl> url_;
  node::Aliases aliases_;
};

// Runs `body` with an open session and reports its outcome as `lafs CMD: message` and exit_code.
template <typename Body>
void run_command(const std::string& cmd, const CommonOptions& o, Body body) {
  auto session = Session::open(o);
  if (!session.ok()) return report(cmd, session.status());
  report(cmd, body(*session));
}

// ---------------------------------------------------------------------------------------------
// put, get

// Where `put` sends its body, and the URL path of that place.
Result<std::string> put_path(const GridPath& dest, const std::string& local, bool is_mutable) {
  const std::string query = is_mutable ? "?mutable=true" : "";
  std::vector<std::string> names = dest.names;
  if (names.empty() && dest.alias.empty()) {
    const auto cap = cap::parse_cap(dest.root_cap);
    LAFS_ASSERT(cap.ok());  // parse_grid_path checked it
    if (!cap->directory && cap->is_mutable() && cap->authority() == cap::Authority::kWrite) {
      return uri_path(dest.root_cap, {});  // new contents for a mutable file
    }
    if (!cap->directory) {
      return invalid_argument(dest.shown +
                              " cannot be written: only a mutable file's write cap takes new "
                              "contents");
    }
  }
  if (names.empty() || dest.trailing_slash) {
    const std::string name = base_name(local);
    if (local == "-" || name.empty() || name == "." || name == "..") {
      return invalid_argument(dest.shown + " is a directory: give the new file's name (" +
                              dest.shown + (dest.names.empty() ? "" : "/") + "NAME)");
    }
    names.push_back(name);
  }
  return uri_path(dest.root_cap, names) + query;
}

Status put_command(Session& s, const std::string& local, const std::optional<std::string>& target,
                   bool is_mutable) {
  std::optional<GridPath> dest;
  if (target) {
    auto d = node::parse_grid_path(*target, s.aliases());
    if (!d.ok()) return d.status();
    dest = std::move(*d);
  }
  std::string path = std::string("/uri") + (is_mutable ? "?mutable=true" : "");
  if (dest) {
    auto p = put_path(*dest, local, is_mutable);
    if (!p.ok()) return p.status();
    path = std::move(*p);
  }
  const std::string what = dest ? dest->shown : "";
  UniqueFd file;
  if (local != "-") {
    file = UniqueFd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) return io_error("open " + local + ": " + errno_text());
  }
  const int fd = local == "-" ? STDIN_FILENO : file.get();
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return invalid_argument(local + " is a directory (copy directories with 'lafs cp -r')");
  }
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  FdSource source(fd, local == "-" ? "stdin" : local);
  ProgressBar bar(
      local == "-" ? "stdin" : base_name(local),
      progress_wanted(false) && source.size().value_or(kProgressMinBytes) >= kProgressMinBytes);
  ClientRequest request;
  request.method = "PUT";
  request.target = path;
  request.body = &source;
  request.upload_progress = bar.fn();
  StringSink answer(kCapAnswerBytesMax);
  LAFS_RETURN_IF_ERROR(gw->transfer(std::move(request), &answer, what));
  auto cap = answered_cap(answer.text(), what);
  if (!cap.ok()) return cap.status();
  std::cout << *cap << "\n";  // asked for: the new file's cap
  return Status{};
}

// Downloads `cap` into the local file `path` (replaced whole, only once complete) or stdout.
Status download(Gateway& gw, const std::string& cap, std::optional<std::uint64_t> size,
                const std::optional<std::string>& path, const std::string& what) {
  ClientRequest request;
  request.method = "GET";
  request.target = uri_path(cap, {});
  ProgressBar bar(what,
                  progress_wanted(!path) && size.value_or(kProgressMinBytes) >= kProgressMinBytes);
  request.download_progress = bar.fn();
  if (!path) {
    FdSink out(STDOUT_FILENO, "stdout");
    return gw.transfer(std::move(request), &out, what);
  }
  auto out = AtomicOutput::create(*path);
  if (!out.ok()) return out.status();
  FdSink sink((*out)->fd(), *path);
  LAFS_RETURN_IF_ERROR(gw.transfer(std::move(request), &sink, what));
  return (*out)->commit();
}

Status get_command(Session& s, const std::string& source, std::optional<std::string> local) {
  auto src = node::parse_grid_path(source, s.aliases());
  if (!src.ok()) return src.status();
  if (local == "-") local.reset();
  if (local) {
    auto kind = local_kind(*local, true);
    if (!kind.ok()) return kind.status();
    if (*kind == LocalKind::kDir) {  // into the directory, under the source's name
      if (src->names.empty()) {
        return invalid_argument(*local + " is a directory, and " + src->shown +
                                " has no name to give the file there: name the local file");
      }
      LAFS_RETURN_IF_ERROR(node::check_safe_local_name(src->names.back()));
      local = join_path(*local, src->names.back());
    }
  }
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  auto d = describe(*gw, *src);
  if (!d.ok()) return d.status();
  if (d->node.is_dir()) {
    return invalid_argument(src->shown +
                            " is a directory (list it with 'lafs ls', copy it with "
                            "'lafs cp -r')");
  }
  if (!d->node.is_file() || d->node.read_cap().empty()) {
    return failed_precondition(src->shown + " is not a file this client can read");
  }
  // Fetched by its cap, so that what is read is what was just described.
  return download(*gw, d->node.read_cap(), d->node.size, local, src->shown);
}

// ---------------------------------------------------------------------------------------------
// ls

std::string format_time(std::optional<double> seconds) {
  if (!seconds) return "-";
  const std::time_t t = static_cast<std::time_t>(*seconds);
  std::tm tm{};
  if (::localtime_r(&t, &tm) == nullptr) return "-";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

// Tahoe's four letters: type (d, -, ?), r when readable, w when writable here, x for directories.
std::string mode_letters(const GridNode& n) {
  std::string m = n.is_dir() ? "d" : n.is_file() ? "-" : "?";
  m += n.read_cap().empty() ? '-' : 'r';
  m += n.rw_uri.empty() ? '-' : 'w';
  m += n.is_dir() ? 'x' : '-';
  return m;
}

void print_long(const Children& rows) {
  std::vector<std::string> sizes;
  std::size_t width = 1;
  for (const auto& [name, n] : rows) {
    sizes.push_back(n.is_dir() ? "-" : n.size ? std::to_string(*n.size) : "?");
    width = std::max(width, sizes.back().size());
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& [name, n] = rows[i];
    std::cout << mode_letters(n) << " " << std::string(width - sizes[i].size(), ' ') << sizes[i]
              << " " << format_time(n.link_modified_s) << " " << printable_name(name) << "\n";
  }
}

Status ls_command(Session& s, const std::optional<std::string>& target, bool long_form,
                  bool as_json) {
  auto p = node::parse_grid_path(target.value_or("/"), s.aliases());
  if (!p.ok()) return p.status();
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  auto text = gw->call("GET", uri_path(p->root_cap, p->names) + "?t=json", p->shown, nullptr,
                       kJsonAnswerBytesMax);
  if (!text.ok()) return text.status();
  if (as_json) {  // the gateway's own answer, as asked
    std::cout << *text << (text->ends_with("\n") ? "" : "\n");
    return Status{};
  }
  boost::system::error_code ec;
  const json::value v = json::parse(*text, ec);
  if (ec) return protocol_error(p->shown + ": the node answered malformed JSON");
  auto d = parse_described(v, p->shown);
  if (!d.ok()) return d.status();
  Children rows = d->node.is_dir()
                      ? std::move(d->children)
                      : Children{{p->names.empty() ? p->shown : p->names.back(), d->node}};
  if (long_form) {
    print_long(rows);
  } else {
    for (const auto& [name, n] : rows) std::cout << printable_name(name) << "\n";
  }
  return Status{};
}

// ---------------------------------------------------------------------------------------------
// mkdir, rm, mv, ln

Status mkdir_command(Session& s, const std::optional<std::string>& target) {
  std::optional<GridPath> p;
  if (target) {
    auto parsed = node::parse_grid_path(*target, s.aliases());
    if (!parsed.ok()) return parsed.status();
    if (parsed->names.empty()) {
      return invalid_argument(parsed->shown + " exists: name the new directory inside it (" +
                              parsed->shown + "NAME)");
    }
    p = std::move(*parsed);
  }
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  const std::string path = p ? uri_path(p->root_cap, p->names, p->names.size() - 1) +
                                   "?t=mkdir&name=" + percent_encode(p->names.back())
                             : "/uri?t=mkdir";
  const std::string what = p ? p->shown : "";
  auto answer = gw->call("POST", path, what);
  if (!answer.ok()) return answer.status();
  auto cap = answered_dir_cap(*answer, what);
  if (!cap.ok()) return cap.status();
  std::cout << *cap << "\n";  // asked for: the new directory's cap
  return Status{};
}

Status rm_command(Session& s, const std::string& target) {
  auto p = node::parse_grid_path(target, s.aliases());
  if (!p.ok()) return p.status();
  if (p->names.empty()) {
    return invalid_argument(p->shown +
                            " is a root, not an entry of a directory: rm unlinks a name "
                            "from its directory (remove an alias from private/aliases)");
  }
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  return gw->call("DELETE", uri_path(p->root_cap, p->names), p->shown).status();
}

// The directory an entry goes into and its name there (mv and ln): TO itself when it is a root,
// ends with '/' or is an existing directory (the entry keeps `default_name`); otherwise TO's
// parent, under TO's last name (an existing file there is replaced, as in Tahoe).
struct EntryTarget {
  GridPath dir;  // names: the directory's path
  std::string name;
  std::string shown;
};

Result<EntryTarget> entry_target(Gateway& gw, const GridPath& to,
                                 const std::optional<std::string>& default_name) {
  bool into = to.names.empty() || to.trailing_slash;
  if (!into) {
    auto d = describe(gw, to);
    if (d.ok()) {
      into = d->node.is_dir();
    } else if (d.status().code() != ErrorCode::kNotFound) {
      return d.status();
    }
  }
  EntryTarget t;
  t.dir = to;
  if (into) {
    if (!default_name) {
      return invalid_argument(to.shown + " is a directory: name the new entry (" + to.shown +
                              (to.names.empty() ? "" : "/") + "NAME)");
    }
    t.name = *default_name;
    t.shown =
        to.shown + (to.names.empty() || to.trailing_slash ? "" : "/") + printable_name(t.name);
    return t;
  }
  t.name = to.names.back();
  t.dir.names.pop_back();
  t.shown = to.shown;
  return t;
}

// The write cap of a directory, for to_dir= (a cap is unambiguous where a path would have to say
// what it is relative to).
Result<std::string> dir_write_cap(Gateway& gw, const GridPath& dir) {
  auto d = describe(gw, dir);
  if (!d.ok()) return d.status();
  if (!d->node.is_dir()) return invalid_argument(dir.shown + " is not a directory");
  if (d->node.rw_uri.empty()) {
    return permission_denied(dir.shown + " is read-only (reached through a read cap)");
  }
  return d->node.rw_uri;
}

Status mv_command(Session& s, const std::string& from_arg, const std::string& to_arg) {
  auto from = node::parse_grid_path(from_arg, s.aliases());
  if (!from.ok()) return from.status();
  auto to = node::parse_grid_path(to_arg, s.aliases());
  if (!to.ok()) return to.status();
  if (from->names.empty()) {
    return invalid_argument(from->shown +
                            " is a root, not an entry of a directory: mv moves "
                            "entries");
  }
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  auto target = entry_target(*gw, *to, from->names.back());
  if (!target.ok()) return target.status();
  GridPath from_dir = *from;
  from_dir.names.pop_back();
  std::string path = uri_path(from->root_cap, from_dir.names) +
                     "?t=rename&from_name=" + percent_encode(from->names.back()) +
                     "&to_name=" + percent_encode(target->name);
  const bool same_path =
      target->dir.root_cap == from->root_cap && target->dir.names == from_dir.names;
  if (!same_path) {
    auto to_cap = dir_write_cap(*gw, target->dir);
    if (!to_cap.ok()) return to_cap.status();
    auto from_cap = dir_write_cap(*gw, from_dir);
    if (!from_cap.ok()) return from_cap.status();
    if (*to_cap != *from_cap) path += "&to_dir=" + percent_encode(*to_cap);
  }
  return gw->call("POST", path, from->shown).status();
}

Status ln_command(Session& s, const std::string& from_arg, const std::string& to_arg) {
  auto from = node::parse_grid_path(from_arg, s.aliases());
  if (!from.ok()) return from.status();
  auto to = node::parse_grid_path(to_arg, s.aliases());
  if (!to.ok()) return to.status();
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  std::string cap = from->root_cap;  // a root links itself: it has no name to keep
  std::optional<std::string> name;
  if (!from->names.empty()) {
    auto d = describe(*gw, *from);
    if (!d.ok()) return d.status();
    cap = d->node.strongest_cap();
    if (cap.empty()) return failed_precondition(from->shown + " has no cap this client can use");
    name = from->names.back();
  }
  auto target = entry_target(*gw, *to, name);
  if (!target.ok()) return target.status();
  std::vector<std::string> names = target->dir.names;
  names.push_back(target->name);
  StringSource body(cap);
  return gw->call("PUT", uri_path(target->dir.root_cap, names) + "?t=uri", target->shown, &body)
      .status();
}

// ---------------------------------------------------------------------------------------------
// cp

// One end of a copy, classified.
struct CpItem {
  bool local = false;
  std::string local_path;
  GridPath grid;
  GridNode node;  // grid items: what the path names (kUnknown when missing)
  Children children;
  bool listed = false;  // grid directories: `children` holds the listing
  bool exists = false;
  bool is_dir = false;
  std::string name;  // the name it has in its parent; empty for a bare cap or an alias root
  std::string shown;
};

// A directory being copied into: a local path, or a grid directory's write cap.
struct DirTarget {
  bool local = false;
  std::string local_path;
  std::string cap;
  std::set<std::string> subdirs;  // grid: names of existing child directories
  std::string shown;
};

// Where one file goes: a local path, or the URL path of a grid entry.
struct FileTarget {
  bool local = false;
  std::string local_path;
  std::string grid_path;
  std::string shown;
};

class Copier {
 public:
  explicit Copier(Gateway& gw) : gw_(gw) {}

  Status run(std::vector<CpItem> sources, CpItem dest);

 private:
  Status copy_file(const CpItem& from, const FileTarget& to);
  Status copy_tree(const CpItem& from, DirTarget& to, int depth);
  Status copy_local_tree(const CpItem& from, DirTarget& to, int depth);
  Status copy_grid_tree(const CpItem& from, DirTarget& to, int depth);
  Status copy_entry(const CpItem& item, DirTarget& to, int depth);
  Result<DirTarget> subdir(const DirTarget& parent, const std::string& name);
  Result<DirTarget> top_dir(const CpItem& dest);
  Result<FileTarget> file_in(const DirTarget& dir, const std::string& name);
  Status upload(const std::string& local_path, int fd, const FileTarget& to);
  void note_written(const DirTarget& dir);
  bool skip_grid_dir(const CpItem& from);

  Gateway& gw_;
  std::set<std::string> written_dirs_;  // read caps of grid directories written into
  std::set<std::string> walking_;       // read caps of the grid directories being copied from
  std::size_t unsafe_names_ = 0;
};

// One name for a directory whichever of its caps we hold: its read cap. Write and read caps of
// one directory compare equal through it.
std::string dir_identity(const std::string& text) {
  const auto c = cap::parse_cap(text);
  const auto read = c.ok() ? cap::read_cap(*c) : std::nullopt;
  return read ? cap::format_cap(*read) : text;
}

Result<DirTarget> grid_dir_target(const GridNode& node, const Children& children,
                                  const std::string& shown) {
  if (node.rw_uri.empty()) {
    return permission_denied(shown + " is read-only (reached through a read cap)");
  }
  const auto cap = cap::parse_cap(node.rw_uri);
  if (!cap.ok() || !cap->directory || cap->authority() != cap::Authority::kWrite) {
    return protocol_error(shown +
                          ": the node described a directory whose rw_uri is not a "
                          "directory write cap");
  }
  DirTarget t;
  t.cap = node.rw_uri;
  t.shown = shown;
  for (const auto& [name, child] : children) {
    if (child.is_dir()) t.subdirs.insert(name);
  }
  return t;
}

Result<DirTarget> Copier::top_dir(const CpItem& dest) {
  if (dest.local) {
    if (!dest.exists && ::mkdir(dest.local_path.c_str(), 0777) != 0) {
      return io_error("mkdir " + dest.local_path + ": " + errno_text());
    }
    DirTarget t;
    t.local = true;
    t.local_path = dest.local_path;
    t.shown = dest.local_path;
    return t;
  }
  if (dest.exists) return grid_dir_target(dest.node, dest.children, dest.shown);
  LAFS_ASSERT(!dest.grid.names.empty());  // a root always exists
  auto answer = gw_.call("POST",
                         uri_path(dest.grid.root_cap, dest.grid.names, dest.grid.names.size() - 1) +
                             "?t=mkdir&name=" + percent_encode(dest.grid.names.back()),
                         dest.shown);
  if (!answer.ok()) return answer.status();
  auto cap = answered_dir_cap(*answer, dest.shown);
  if (!cap.ok()) return cap.status();
  DirTarget t;
  t.cap = *cap;
  t.shown = dest.shown;
  return t;
}

Result<DirTarget> Copier::subdir(const DirTarget& parent, const std::string& name) {
  DirTarget t;
  t.local = parent.local;
  t.shown = parent.shown + (parent.shown.ends_with("/") || parent.shown.ends_with(":") ? "" : "/") +
            printable_name(name);
  if (parent.local) {
    t.local_path = join_path(parent.local_path, name);
    auto kind = local_kind(t.local_path, false);
    if (!kind.ok()) return kind.status();
    if (*kind == LocalKind::kMissing && ::mkdir(t.local_path.c_str(), 0777) != 0) {
      return io_error("mkdir " + t.local_path + ": " + errno_text());
    }
    if (*kind != LocalKind::kMissing && *kind != LocalKind::kDir) {
      return failed_precondition(t.shown +
                                 " exists and is not a directory (cp never writes "
                                 "through a symlink)");
    }
    return t;
  }
  if (parent.subdirs.contains(name)) {  // reuse it, keeping what is there
    auto d = describe_path(gw_, uri_path(parent.cap, {name}), t.shown);
    if (!d.ok()) return d.status();
    auto reused = grid_dir_target(d->node, d->children, t.shown);
    if (reused.ok()) note_written(*reused);
    return reused;
  }
  auto answer =
      gw_.call("POST", uri_path(parent.cap, {}) + "?t=mkdir&name=" + percent_encode(name), t.shown);
  if (!answer.ok()) return answer.status();
  auto cap = answered_dir_cap(*answer, t.shown);
  if (!cap.ok()) return cap.status();
  t.cap = *cap;
  note_written(t);
  return t;
}

Result<FileTarget> Copier::file_in(const DirTarget& dir, const std::string& name) {
  FileTarget t;
  t.local = dir.local;
  t.shown = dir.shown + (dir.shown.ends_with("/") || dir.shown.ends_with(":") ? "" : "/") +
            printable_name(name);
  if (dir.local) {
    t.local_path = join_path(dir.local_path, name);
    auto kind = local_kind(t.local_path, false);
    if (!kind.ok()) return kind.status();
    if (*kind == LocalKind::kDir) {
      return failed_precondition(t.shown + " is a directory; cp does not replace it with a file");
    }
    return t;
  }
  if (dir.subdirs.contains(name)) {
    return failed_precondition(t.shown +
                               " is a directory on the grid; cp does not replace it "
                               "with a file");
  }
  t.grid_path = uri_path(dir.cap, {name});
  return t;
}

Status Copier::upload(const std::string& local_path, int fd, const FileTarget& to) {
  FdSource source(fd, local_path);
  ProgressBar bar(base_name(local_path),
                  progress_wanted(false) && source.size().value_or(0) >= kProgressMinBytes);
  ClientRequest request;
  request.method = "PUT";
  request.target = to.grid_path;
  request.body = &source;
  request.upload_progress = bar.fn();
  StringSink answer(kCapAnswerBytesMax);
  LAFS_RETURN_IF_ERROR(gw_.transfer(std::move(request), &answer, to.shown));
  return answered_cap(answer.text(), to.shown).status();
}

Status Copier::copy_file(const CpItem& from, const FileTarget& to) {
  LAFS_ASSERT(!(from.local && to.local));  // refused before anything was copied
  if (from.local) {
    // O_NOFOLLOW: lstat said it was a regular file; a symlink swapped in since is not followed.
    const UniqueFd fd(::open(from.local_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return io_error("open " + from.local_path + ": " + errno_text());
    return upload(from.local_path, fd.get(), to);
  }
  if (to.local) {
    return download(gw_, from.node.read_cap(), from.node.size, to.local_path, from.shown);
  }
  if (!from.node.is_mutable) {  // an immutable file is copied by linking the same cap
    StringSource body(from.node.read_cap());
    return gw_.call("PUT", to.grid_path + "?t=uri", to.shown, &body).status();
  }
  // A mutable file's copy is a new immutable file with its current contents, spooled through a
  // temporary file so that memory stays bounded.
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const std::unique_ptr<std::FILE, Closer> spool(std::tmpfile());  // unlinked already
  if (spool == nullptr) return io_error("create a temporary file: " + errno_text());
  const int fd = ::fileno(spool.get());
  ClientRequest get;
  get.method = "GET";
  get.target = uri_path(from.node.read_cap(), {});
  FdSink sink(fd, "a temporary file");
  LAFS_RETURN_IF_ERROR(gw_.transfer(std::move(get), &sink, from.shown));
  if (::lseek(fd, 0, SEEK_SET) != 0) return io_error("seek a temporary file: " + errno_text());
  return upload(from.shown, fd, to);
}

// Grid directories written into are remembered, so that a copy into its own source (cp -r docs:a
// docs:a/b) does not copy the copy it is making.
void Copier::note_written(const DirTarget& dir) {
  if (!dir.local) written_dirs_.insert(dir_identity(dir.cap));
}

bool Copier::skip_grid_dir(const CpItem& from) {
  if (from.local) return false;
  const std::string key = dir_identity(from.node.read_cap());
  if (written_dirs_.contains(key)) {
    warn("cp", "skipping " + from.shown + ": it is a directory this copy writes into");
    return true;
  }
  if (walking_.contains(key)) {
    warn("cp", "skipping " + from.shown + ": it contains itself (a directory cycle)");
    return true;
  }
  return false;
}

Status Copier::copy_entry(const CpItem& item, DirTarget& to, int depth) {
  if (item.is_dir) {
    if (skip_grid_dir(item)) return Status{};
    auto sub = subdir(to, item.name);
    if (!sub.ok()) return sub.status();
    return copy_tree(item, *sub, depth + 1);
  }
  auto target = file_in(to, item.name);
  if (!target.ok()) return target.status();
  return copy_file(item, *target);
}

Status Copier::copy_tree(const CpItem& from, DirTarget& to, int depth) {
  if (depth > kTreeDepthMax) {
    return resource_exhausted(from.shown + ": more than " + std::to_string(kTreeDepthMax) +
                              " levels of directories");
  }
  return from.local ? copy_local_tree(from, to, depth) : copy_grid_tree(from, to, depth);
}

// Symlinks are never followed: each is skipped with a warning, as are sockets, devices and
// fifos, which have no contents to copy.
Status Copier::copy_local_tree(const CpItem& from, DirTarget& to, int depth) {
  auto names = list_local_dir(from.local_path);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    CpItem item;
    item.local = true;
    item.local_path = join_path(from.local_path, name);
    item.name = name;
    item.shown = item.local_path;
    auto kind = local_kind(item.local_path, false);
    if (!kind.ok()) return kind.status();
    if (*kind == LocalKind::kSymlink || *kind == LocalKind::kOther) {
      warn("cp", "skipping " + item.local_path +
                     (*kind == LocalKind::kSymlink ? ": a symlink (cp never follows symlinks)"
                                                   : ": not a regular file or directory"));
      continue;
    }
    if (*kind == LocalKind::kMissing) continue;  // removed while we copy
    item.is_dir = *kind == LocalKind::kDir;
    LAFS_RETURN_IF_ERROR(copy_entry(item, to, depth));
  }
  return Status{};
}

Status Copier::copy_grid_tree(const CpItem& from, DirTarget& to, int depth) {
  const std::string key = dir_identity(from.node.read_cap());
  Children children = from.children;
  if (!from.listed) {  // a top-level source was listed when it was classified
    auto d = describe_path(gw_, uri_path(key, {}), from.shown);
    if (!d.ok()) return d.status();
    children = std::move(d->children);
  }
  walking_.insert(key);
  Status result;
  for (const auto& [name, node] : children) {
    CpItem item;
    item.node = node;
    item.name = name;
    item.is_dir = node.is_dir();
    item.shown = from.shown + (from.shown.ends_with("/") || from.shown.ends_with(":") ? "" : "/") +
                 printable_name(name);
    if (to.local) {
      if (Status safe = node::check_safe_local_name(name); !safe.is_ok()) {
        warn("cp", "refusing " + item.shown + ": " + safe.message());
        ++unsafe_names_;
        continue;
      }
    }
    if (!node.is_dir() && !node.is_file()) {
      warn("cp", "skipping " + item.shown + ": not a file or directory this client knows");
      continue;
    }
    result = copy_entry(item, to, depth);
    if (!result.is_ok()) break;
  }
  walking_.erase(key);
  return result;
}

// The rules of POSIX cp, as Tahoe's cp follows them (docs/cli.md): one file to a file, or to a
// missing name, is copied to that name; one directory to a missing name becomes that name (its
// contents go in directly); otherwise DEST is a directory, each file goes in under its name,
// each named directory becomes a subdirectory, and an unnamed directory's contents go in
// directly.
Status Copier::run(std::vector<CpItem> sources, CpItem dest) {
  const bool one_file = sources.size() == 1 && !sources[0].is_dir;
  const bool dest_is_file = dest.exists && !dest.is_dir;
  if (one_file && (dest_is_file || (!dest.exists && !dest.grid.trailing_slash &&
                                    !dest.local_path.ends_with("/")))) {
    FileTarget to;
    to.local = dest.local;
    to.local_path = dest.local_path;
    to.grid_path = dest.local ? "" : uri_path(dest.grid.root_cap, dest.grid.names);
    to.shown = dest.shown;
    return copy_file(sources[0], to);
  }
  if (dest_is_file) {
    return invalid_argument(dest.shown + " is a file: copying " +
                            (sources.size() > 1 ? "several sources" : "a directory") +
                            " needs a directory");
  }
  for (const CpItem& src : sources) {
    if (!src.is_dir && src.name.empty()) {
      return invalid_argument(src.shown +
                              " is a file without a name (a bare file cap): copy it "
                              "to a file name, not into a directory");
    }
  }
  auto top = top_dir(dest);
  if (!top.ok()) return top.status();
  note_written(*top);
  const bool one_dir_to_new = sources.size() == 1 && sources[0].is_dir && !dest.exists;
  for (const CpItem& src : sources) {
    const bool unnamed_dir = src.is_dir && (src.name.empty() || one_dir_to_new);
    if (unnamed_dir && skip_grid_dir(src)) continue;
    const Status s = unnamed_dir ? copy_tree(src, *top, 1) : copy_entry(src, *top, 0);
    if (!s.is_ok()) return s;
  }
  if (unsafe_names_ > 0) {
    return failed_precondition(std::to_string(unsafe_names_) +
                               " entries were not copied: their names are unsafe as local file "
                               "names");
  }
  return Status{};
}

Result<CpItem> classify_local(const std::string& path, bool is_dest, bool recursive) {
  CpItem item;
  item.local = true;
  item.local_path = path;
  item.shown = path;
  // A destination the user named may be a symlink to a directory; a source is never followed.
  auto kind = local_kind(path, is_dest);
  if (!kind.ok()) return kind.status();
  switch (*kind) {
    case LocalKind::kMissing:
      if (!is_dest) return not_found(path + ": no such file or directory");
      return item;
    case LocalKind::kSymlink:
      return invalid_argument(path +
                              " is a symlink, and cp never follows symlinks (name its "
                              "target)");
    case LocalKind::kOther:
      return invalid_argument(path + " is not a regular file or directory");
    case LocalKind::kDir:
      if (!is_dest && !recursive) return invalid_argument(path + " is a directory (use -r)");
      item.is_dir = true;
      break;
    case LocalKind::kFile:
      if (is_dest && path.ends_with("/")) return invalid_argument(path + " is not a directory");
      break;
  }
  item.exists = true;
  const std::string name = base_name(path);
  // "." and ".." (and "/") name no entry: their contents are copied, as an unnamed directory.
  item.name = (name == "." || name == ".." || name == "/") ? "" : name;
  return item;
}

Result<CpItem> classify_grid(Gateway& gw, GridPath p, bool is_dest, bool recursive) {
  CpItem item;
  item.shown = p.shown;
  item.name = p.names.empty() ? "" : p.names.back();
  auto d = describe(gw, p);
  item.grid = std::move(p);
  if (!d.ok()) {
    if (is_dest && d.status().code() == ErrorCode::kNotFound && !item.grid.names.empty()) {
      return item;  // a new name
    }
    return d.status();
  }
  item.exists = true;
  item.node = std::move(d->node);
  item.children = std::move(d->children);
  item.is_dir = item.node.is_dir();
  item.listed = item.is_dir;
  if (!item.is_dir && !item.node.is_file()) {
    return failed_precondition(item.shown + " is not a file or directory this client knows");
  }
  if (item.is_dir && !is_dest && !recursive) {
    return invalid_argument(item.shown + " is a directory (use -r)");
  }
  if (!item.is_dir && is_dest && item.grid.trailing_slash) {
    return invalid_argument(item.shown + " is not a directory");
  }
  return item;
}

Status cp_command(Session& s, const std::vector<std::string>& args, bool recursive) {
  if (args.size() < 2) return invalid_argument("give at least one SOURCE and a DEST");
  // Every argument is read before anything is copied, so that bad ones cost nothing.
  std::vector<node::PathArgument> parsed;
  for (const std::string& arg : args) {
    if (arg == "-") {
      return invalid_argument("cp does not read stdin or write stdout: use put and get");
    }
    auto p = node::parse_path_argument(arg, s.aliases(), node::PathMode::kLocalOrGrid);
    if (!p.ok()) return p.status();  // its message names the problem, never a cap
    parsed.push_back(std::move(*p));
  }
  const bool dest_local = std::holds_alternative<node::LocalPath>(parsed.back());
  for (std::size_t i = 0; i + 1 < parsed.size(); ++i) {
    if (dest_local && std::holds_alternative<node::LocalPath>(parsed[i])) {
      return invalid_argument(args[i] + " and " + args.back() +
                              " are both local: cp copies to or from the grid (write a grid path "
                              "as ALIAS:PATH)");
    }
  }
  // Local arguments first: they need no node.
  std::vector<CpItem> items(parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (const auto* local = std::get_if<node::LocalPath>(&parsed[i])) {
      auto item = classify_local(local->path, i + 1 == parsed.size(), recursive);
      if (!item.ok()) return item.status();
      items[i] = std::move(*item);
    }
  }
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (auto* grid = std::get_if<GridPath>(&parsed[i])) {
      auto item = classify_grid(*gw, std::move(*grid), i + 1 == parsed.size(), recursive);
      if (!item.ok()) return item.status();
      items[i] = std::move(*item);
    }
  }
  CpItem dest = std::move(items.back());
  items.pop_back();
  Copier copier(*gw);
  return copier.run(std::move(items), std::move(dest));
}

// ---------------------------------------------------------------------------------------------
// Aliases

// Holds an exclusive lock on private/aliases.lock, so that two commands adding aliases at once
// do not lose one of them. Waits at most kAliasesLockTimeout.
class AliasesLock {
 public:
  static Result<std::unique_ptr<AliasesLock>> take(const std::string& private_dir) {
    const std::string path = join_path(private_dir, "aliases.lock");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return io_error("open " + path + ": " + errno_text());
    auto lock = std::unique_ptr<AliasesLock>(new AliasesLock(fd));
    const auto deadline = std::chrono::steady_clock::now() + kAliasesLockTimeout;
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return io_error("lock " + path + ": " + errno_text());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return timeout_error(path + " stayed locked for " +
                             std::to_string(kAliasesLockTimeout.count()) +
                             " s (another lafs command is changing the aliases)");
      }
      std::this_thread::sleep_for(kAliasesLockPoll);
    }
    return lock;
  }
  AliasesLock(const AliasesLock&) = delete;
  AliasesLock& operator=(const AliasesLock&) = delete;
  ~AliasesLock() { ::close(fd_); }  // closing releases the lock

 private:
  explicit AliasesLock(int fd) : fd_(fd) {}
  int fd_;
};

// Appends NAME: CAP to NODEDIR/private/aliases (made 0700 when missing), keeping the rest of the
// file as the user wrote it.
Status store_alias(const Session& s, const std::string& name, const std::string& cap) {
  auto kind = local_kind(s.node_dir(), true);
  if (!kind.ok()) return kind.status();
  if (*kind != LocalKind::kDir) {
    return failed_precondition("node directory " + s.node_dir() + " does not exist");
  }
  if (::mkdir(s.private_dir().c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error("mkdir " + s.private_dir() + ": " + errno_text());
  }
  auto lock = AliasesLock::take(s.private_dir());
  if (!lock.ok()) return lock.status();
  // Read again under the lock: the table may have changed since the session opened.
  auto text = read_small_file(s.aliases_path(), node::kAliasesBytesMax);
  if (!text.ok() && text.status().code() != ErrorCode::kNotFound) return text.status();
  const std::string current = text.ok() ? *text : std::string();
  auto table = node::Aliases::parse(current, s.aliases_path());
  if (!table.ok()) return failed_precondition(table.status().message());
  LAFS_RETURN_IF_ERROR(table->add(name, cap));
  return write_file_atomically(s.private_dir() + "/aliases",
                               node::append_alias_line(current, name, cap), 0600);
}

// Tahoe accepts "NAME:" too.
std::string alias_name_argument(std::string name) {
  if (name.ends_with(":")) name.pop_back();
  return name;
}

Status create_alias_command(Session& s, const std::string& name_arg) {
  const std::string name = alias_name_argument(name_arg);
  LAFS_RETURN_IF_ERROR(node::check_alias_name(name));
  if (s.aliases().find(name)) return already_exists("alias '" + name + "' already exists");
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  auto answer = gw->call("POST", "/uri?t=mkdir", "");
  if (!answer.ok()) return answer.status();
  auto cap = answered_dir_cap(*answer, "");
  if (!cap.ok()) return cap.status();
  LAFS_RETURN_IF_ERROR(store_alias(s, name, *cap));
  std::cout << "Alias '" << name << "' created\n";
  return Status{};
}

Status add_alias_command(Session& s, const std::string& name_arg, const std::string& cap_arg) {
  const std::string name = alias_name_argument(name_arg);
  LAFS_RETURN_IF_ERROR(node::check_alias_name(name));
  std::string cap = cap_arg;
  if (cap_arg == "-") {  // from stdin, so that the cap is not in the process list
    std::string text;
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, stdin)) {
      text.append(buf, n);
      if (text.size() > kCapStdinBytesMax) {
        return invalid_argument("stdin holds more than a cap (" +
                                std::to_string(kCapStdinBytesMax) + " bytes read)");
      }
    }
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    cap = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  }
  LAFS_RETURN_IF_ERROR(node::check_alias_cap(cap));
  LAFS_RETURN_IF_ERROR(store_alias(s, name, cap));
  std::cout << "Alias '" << name << "' added\n";
  return Status{};
}

Status list_aliases_command(Session& s, bool readonly, bool as_json) {
  json::object out;
  std::size_t width = 0;
  for (const auto& [name, cap] : s.aliases().entries()) width = std::max(width, name.size());
  for (const auto& [name, text] : s.aliases().entries()) {
    const auto c = cap::parse_cap(text);
    LAFS_ASSERT(c.ok());  // the aliases file was checked when read
    const std::string read = cap::format_cap(*cap::read_cap(*c));
    if (as_json) {
      json::object entry;
      if (c->authority() == cap::Authority::kWrite) entry["readwrite"] = text;
      entry["readonly"] = read;
      out[name] = std::move(entry);
    } else {
      std::cout << name << ":" << std::string(width - name.size() + 1, ' ')
                << (readonly ? read : text) << "\n";
    }
  }
  if (as_json) std::cout << json::serialize(out) << "\n";
  return Status{};
}

// ---------------------------------------------------------------------------------------------
// check, deep-check, status

struct CheckFlags {
  bool verify = false;
  bool repair = false;
  bool add_lease = false;
  bool as_json = false;
  bool verbose = false;  // deep-check: a line per object
};

// The request of `lafs check` and `lafs deep-check`. The gateway answers a check only when it is
// done, and a deep-check's lines come a batch at a time: with --verify or --repair, whole files
// are read (and written) first, so the usual bounds would cut a healthy check of a big file.
ClientRequest check_request(const GridPath& p, const CheckFlags& f, bool deep) {
  std::string query = deep ? "?t=stream-deep-check" : "?t=check&output=JSON";
  if (f.verify) query += "&verify=true";
  if (f.repair) query += "&repair=true";
  if (f.add_lease) query += "&add-lease=true";
  ClientRequest request;
  request.method = "POST";
  request.target = uri_path(p.root_cap, p.names) + query;
  if (f.verify || f.repair) {
    request.response_wait = kCheckReadingWait;
    request.response_idle_timeout = kCheckReadingWait;
  }
  return request;
}

std::uint64_t json_u64(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr ? 0 : json_uint(*v).value_or(0);
}

bool json_bool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// A string from the gateway, safe for a terminal.
std::string json_string(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? printable_name(v->get_string()) : std::string();
}

const json::object* json_child(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// "Healthy", "Not Healthy: why" or "Unrecoverable: why", as Tahoe's `check` says it.
std::string check_verdict(const json::object& r) {
  if (json_bool(r, "is_literal")) return "Healthy (a literal: its data is in its cap, no shares)";
  if (json_bool(r, "healthy")) return "Healthy";
  return (json_bool(r, "recoverable") ? "Not Healthy: " : "Unrecoverable: ") +
         json_string(r, "summary");
}

// A check result (docs/webapi.md "Checking") in the shape of Tahoe's `tahoe check`.
void print_check(const json::object& r, std::string_view title) {
  std::cout << title << ": " << check_verdict(r) << "\n";
  if (json_bool(r, "is_literal")) return;
  std::cout << " storage index: " << json_string(r, "storage_index") << "\n";
  std::cout << " good-shares: " << json_u64(r, "distinct_shares") << " (encoding is "
            << json_u64(r, "needed") << "-of-" << json_u64(r, "total") << ")\n";
  std::cout << " shares found: " << json_u64(r, "shares_found") << " on "
            << json_u64(r, "good_hosts") << " servers, happiness " << json_u64(r, "happiness")
            << " (healthy needs " << json_u64(r, "happy") << ")\n";
  std::cout << " servers: " << json_u64(r, "servers_responding") << " of "
            << json_u64(r, "servers_queried") << " answered\n";
  // Shares of other versions than the one judged (the newest recoverable): Tahoe's wrong-shares.
  std::uint64_t wrong = 0;
  const json::value* versions = r.if_contains("versions");
  if (versions != nullptr && versions->is_array()) {
    bool judged = false;
    for (const json::value& v : versions->get_array()) {
      if (!v.is_object()) continue;
      if (!judged && json_bool(v.get_object(), "recoverable")) {
        judged = true;
        continue;
      }
      wrong += json_u64(v.get_object(), "distinct_shares");
    }
  }
  std::cout << " wrong-shares: " << wrong << "\n";
  const json::value* corrupt = r.if_contains("corrupt");
  const std::size_t corrupt_count =
      corrupt != nullptr && corrupt->is_array() ? corrupt->get_array().size() : 0;
  std::cout << " corrupt-shares: " << corrupt_count << "\n";
  for (std::size_t i = 0; i < corrupt_count; ++i) {
    const json::value& c = corrupt->get_array()[i];
    if (!c.is_object()) continue;
    std::cout << "  share " << json_u64(c.get_object(), "share") << " on server "
              << json_string(c.get_object(), "server").substr(0, 16) << ": "
              << json_string(c.get_object(), "problem") << "\n";
  }
  if (json_u64(r, "leases_renewed") > 0) {
    std::cout << " leases renewed: " << json_u64(r, "leases_renewed") << "\n";
  }
}

// "Repair successful: 3 shares written", ..., for a repair result.
std::string repair_verdict(const json::object& r) {
  std::string out;
  if (!json_bool(r, "attempted")) {
    out = json_bool(r, "successful") ? "No repair needed" : "Repair not attempted";
  } else {
    out = (json_bool(r, "successful") ? "Repair successful: " : "Repair unsuccessful: ") +
          std::to_string(json_u64(r, "shares_written")) + " shares written";
  }
  const std::string problem = json_string(r, "problem");
  return problem.empty() ? out : out + " (" + problem + ")";
}

Result<json::object> parse_object(const std::string& text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return protocol_error(
        about(what, "the node answered malformed JSON" + (ec ? " (" + ec.message() + ")" : "")));
  }
  return std::move(v.get_object());
}

Status check_command(Session& s, const std::string& target, const CheckFlags& f) {
  auto p = node::parse_grid_path(target, s.aliases());
  if (!p.ok()) return p.status();
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  ClientRequest request = check_request(*p, f, false);
  StringSink answer(kJsonAnswerBytesMax);
  LAFS_RETURN_IF_ERROR(gw->transfer(std::move(request), &answer, p->shown));
  auto r = parse_object(answer.text(), p->shown);
  if (!r.ok()) return r.status();
  // Without repair the answer is the check; with it, the repair and the checks around it.
  const json::object* before = f.repair ? json_child(*r, "before") : &*r;
  if (before == nullptr)
    return protocol_error(p->shown + ": the node's repair answer has no check");
  const json::object* after = f.repair ? json_child(*r, "after") : nullptr;
  if (f.as_json) {
    std::cout << answer.text() << (answer.text().ends_with("\n") ? "" : "\n");
  } else {
    print_check(*before, "Summary");
    if (f.repair) {
      std::cout << repair_verdict(*r) << "\n";
      if (after != nullptr) print_check(*after, "Post-repair summary");
    }
  }
  const json::object& final_state = after != nullptr ? *after : *before;
  if (json_bool(final_state, "healthy")) return Status{};
  return failed_precondition(
      p->shown + (after != nullptr ? " is still " : " is ") +
      (json_bool(final_state, "recoverable") ? "not healthy" : "unrecoverable") + ": " +
      json_string(final_state, "summary"));
}

// Splits a streamed body into lines and hands each to `on_line` as it completes.
class LineSink : public BodySink {
 public:
  using OnLine = std::function<Status(const std::string&)>;
  LineSink(std::size_t line_bytes_max, OnLine on_line)
      : line_bytes_max_(line_bytes_max), on_line_(std::move(on_line)) {}
  Status write(const char* data, std::size_t size) override {
    for (std::size_t i = 0; i < size; ++i) {
      if (data[i] != '\n') {
        if (line_.size() >= line_bytes_max_) {
          return resource_exhausted("a line of the node's answer is longer than " +
                                    std::to_string(line_bytes_max_) + " bytes");
        }
        line_.push_back(data[i]);
        continue;
      }
      LAFS_RETURN_IF_ERROR(on_line_(line_));
      line_.clear();
    }
    return Status{};
  }
  // A last line without a newline.
  Status finish() {
    if (line_.empty()) return Status{};
    Status s = on_line_(line_);
    line_.clear();
    return s;
  }

 private:
  std::size_t line_bytes_max_;
  OnLine on_line_;
  std::string line_;
};

// One object of a deep-check, for -v: "PATH: verdict[; repair verdict]".
void print_deep_check_object(const json::object& o) {
  const std::string path = json_string(o, "path");
  std::cout << "'" << (path.empty() ? std::string("<root>") : path) << "': ";
  if (const std::string error = json_string(o, "error"); !error.empty()) {
    std::cout << "could not be checked: " << error << "\n";
    return;
  }
  const json::object* check = json_child(o, "check");
  std::cout << (check != nullptr ? check_verdict(*check) : std::string("?"));
  if (const json::object* repair = json_child(o, "repair")) {
    std::cout << "; " << repair_verdict(*repair);
  }
  std::cout << "\n";
}

Status deep_check_command(Session& s, const std::string& target, const CheckFlags& f) {
  auto p = node::parse_grid_path(target, s.aliases());
  if (!p.ok()) return p.status();
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  ClientRequest request = check_request(*p, f, true);
  std::optional<json::object> summary;
  std::string walk_error;  // a "type":"error" line: the walk stopped
  LineSink lines(kDeepCheckLineBytesMax, [&](const std::string& line) -> Status {
    if (line.empty()) return Status{};
    if (f.as_json) {
      std::cout << line << "\n" << std::flush;  // as received: a long walk shows progress
    }
    auto o = parse_object(line, p->shown);
    if (!o.ok()) return o.status();
    const std::string type = json_string(*o, "type");
    if (type == "summary") {
      summary = std::move(*o);
    } else if (type == "error") {
      walk_error = json_string(*o, "error");
    } else if (type == "object" && f.verbose && !f.as_json) {
      print_deep_check_object(*o);
      std::cout << std::flush;
    }
    return Status{};
  });
  LAFS_RETURN_IF_ERROR(gw->transfer(std::move(request), &lines, p->shown));
  LAFS_RETURN_IF_ERROR(lines.finish());
  if (!summary) {
    return unavailable(about(p->shown, walk_error.empty()
                                           ? "the node's answer ended without a summary"
                                           : "the deep-check stopped: " + walk_error));
  }
  const json::object& sum = *summary;
  const std::uint64_t unhealthy = json_u64(sum, "objects_unhealthy");
  const std::uint64_t repaired = f.repair ? json_u64(sum, "repairs_successful") : 0;
  const std::uint64_t remaining = unhealthy > repaired ? unhealthy - repaired : 0;
  const std::uint64_t errors = json_u64(sum, "errors");
  if (!f.as_json) {
    std::cout << "done: " << json_u64(sum, "objects_checked") << " objects checked, "
              << json_u64(sum, "objects_healthy") << " healthy, " << unhealthy << " unhealthy, "
              << json_u64(sum, "objects_unrecoverable") << " unrecoverable";
    if (errors > 0) std::cout << ", " << errors << " could not be checked";
    if (f.repair) {
      std::cout << "; repairs attempted " << json_u64(sum, "repairs_attempted") << ", successful "
                << json_u64(sum, "repairs_successful");
    }
    if (f.add_lease) std::cout << "; leases renewed " << json_u64(sum, "leases_renewed");
    std::cout << "\n";
    const json::value* paths = sum.if_contains("unhealthy_paths");
    if (paths != nullptr && paths->is_array() && !paths->get_array().empty()) {
      std::cout << (f.repair ? "unhealthy before the repair:\n" : "unhealthy:\n");
      for (const json::value& path : paths->get_array()) {
        if (!path.is_string()) continue;
        std::cout << "  "
                  << (path.get_string().empty() ? std::string("<root>")
                                                : printable_name(path.get_string()))
                  << "\n";
      }
      if (paths->get_array().size() < unhealthy) {
        std::cout << "  ... and " << unhealthy - paths->get_array().size() << " more\n";
      }
    }
  }
  if (remaining == 0 && errors == 0) return Status{};
  std::string why;
  if (remaining > 0) {
    why = std::to_string(remaining) + (remaining == 1 ? " object" : " objects") +
          (f.repair ? " still unhealthy after the repair" : " unhealthy");
  }
  if (errors > 0) {
    why += (why.empty() ? "" : ", ") + std::to_string(errors) + " could not be checked";
  }
  return failed_precondition(about(p->shown, why));
}

std::string json_text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return "?";
  if (v->is_string()) return printable_name(v->get_string());
  return json::serialize(*v);
}

// "requests.2xx: 12" lines for every scalar in the statistics, whatever their nesting.
void print_flat(const json::value& v, const std::string& prefix) {
  if (const json::object* o = v.if_object()) {
    for (const auto& [k, child] : *o) {
      print_flat(child, prefix.empty() ? std::string(k) : prefix + "." + std::string(k));
    }
    return;
  }
  std::cout << "  " << printable_name(prefix) << ": "
            << (v.is_string() ? printable_name(v.get_string()) : json::serialize(v)) << "\n";
}

void print_status(const json::object& o) {
  std::cout << "Node:       " << json_text(o, "nickname") << " (version " << json_text(o, "version")
            << ")\n";
  std::cout << "Node key:   " << json_text(o, "node_key") << "\n";
  if (const json::value* i = o.if_contains("introducer"); i != nullptr && i->is_object()) {
    std::cout << "Introducer: " << json_text(i->get_object(), "address") << " ("
              << json_text(i->get_object(), "announcements") << " announcements)\n";
  }
  if (const json::value* e = o.if_contains("encoding"); e != nullptr && e->is_object()) {
    const json::object& enc = e->get_object();
    std::cout << "Encoding:   k=" << json_text(enc, "k") << " happy=" << json_text(enc, "happy")
              << " n=" << json_text(enc, "n") << ", segments of " << json_text(enc, "segment_size")
              << " bytes\n";
  }
  const json::value* servers = o.if_contains("servers");
  if (servers == nullptr || !servers->is_array()) return;
  std::size_t writable = 0;
  for (const json::value& sv : servers->get_array()) {
    const json::value* ro = sv.is_object() ? sv.get_object().if_contains("read_only") : nullptr;
    if (ro == nullptr || !ro->is_bool() || !ro->get_bool()) ++writable;
  }
  std::cout << "Servers:    " << servers->get_array().size() << " known, " << writable
            << " accepting shares\n";
  for (const json::value& sv : servers->get_array()) {
    if (!sv.is_object()) continue;
    const json::object& so = sv.get_object();
    const json::value* avail = so.if_contains("available_bytes");
    const auto bytes = avail != nullptr ? json_uint(*avail) : std::nullopt;
    const json::value* ro = so.if_contains("read_only");
    std::cout << "  " << json_text(so, "nickname") << "  " << json_text(so, "address") << "  "
              << (bytes ? human_bytes(static_cast<double>(*bytes)) + " free" : "? free")
              << (ro != nullptr && ro->is_bool() && ro->get_bool() ? "  read-only" : "") << "  "
              << json_text(so, "node_key") << "\n";
  }
}

Status status_command(Session& s, bool as_json) {
  auto gw = s.gateway();
  if (!gw.ok()) return gw.status();
  auto text = gw->call("GET", "/?t=json", "", nullptr, kJsonAnswerBytesMax);
  if (!text.ok()) return text.status();
  if (as_json) {
    std::cout << *text << (text->ends_with("\n") ? "" : "\n");
    return Status{};
  }
  boost::system::error_code ec;
  const json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return protocol_error("the node answered malformed JSON");
  print_status(v.get_object());
  // Counters are extra: a node without them still has a status.
  auto stats = gw->get_json("/statistics?t=json", "");
  if (stats.ok() && stats->is_object()) {
    std::cout << "Statistics:\n";
    print_flat(*stats, "");
  }
  return Status{};
}

// ---------------------------------------------------------------------------------------------
// Registration

CLI::App* file_command(CLI::App& app, const std::string& name, const std::string& help,
                       CommonOptions* common) {
  CLI::App* cmd = app.add_subcommand(name, help);
  add_common_options(cmd, common);
  return cmd;
}

void add_transfer_commands(CLI::App& app) {
  {
    struct Opts {
      CommonOptions common;
      std::string local = "-";
      std::string target;
      bool is_mutable = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, "put", "Upload a file (stdin for '-' or none); print its cap",
                             &o->common);
    cmd->add_option("LOCAL", o->local, "The local file, or '-' for stdin (the default)");
    cmd->add_option("TARGET", o->target,
                    "Where to link it: ALIAS:PATH or DIRCAP/PATH, or a mutable file's write cap "
                    "to replace its contents; none: linked nowhere");
    cmd->add_flag("-m,--mutable", o->is_mutable, "Make a mutable file");
    cmd->callback([o] {
      run_command("put", o->common, [&](Session& s) {
        return put_command(s, o->local, o->target.empty() ? std::nullopt : std::optional(o->target),
                           o->is_mutable);
      });
    });
  }
  {
    struct Opts {
      CommonOptions common;
      std::string source;
      std::string local;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, "get", "Download a file to LOCAL or stdout", &o->common);
    cmd->add_option("SOURCE", o->source, "ALIAS:PATH, CAP or CAP/PATH")->required();
    cmd->add_option("LOCAL", o->local, "Local file or directory; '-' or none for stdout");
    cmd->callback([o] {
      run_command("get", o->common, [&](Session& s) {
        return get_command(s, o->source,
                           o->local.empty() ? std::nullopt : std::optional<std::string>(o->local));
      });
    });
  }
  {
    struct Opts {
      CommonOptions common;
      std::vector<std::string> args;
      bool recursive = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, "cp", "Copy files and directories to, from or within the grid",
                             &o->common);
    cmd->add_option("SOURCE... DEST", o->args,
                    "Sources then the destination: local paths or grid paths (ALIAS:PATH, "
                    "CAP/PATH); a leading ./ or / makes a path local")
        ->required();
    cmd->add_flag("-r,--recursive", o->recursive, "Copy directories and their contents");
    cmd->callback([o] {
      run_command("cp", o->common,
                  [&](Session& s) { return cp_command(s, o->args, o->recursive); });
    });
  }
}

void add_directory_commands(CLI::App& app) {
  {
    struct Opts {
      CommonOptions common;
      std::string target;
      bool long_form = false;
      bool as_json = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd =
        file_command(app, "ls", "List a directory (default: the 'lafs:' alias)", &o->common);
    cmd->add_option("TARGET", o->target, "ALIAS:PATH, CAP or CAP/PATH");
    cmd->add_flag("-l,--long", o->long_form, "Show type, size and modification time");
    cmd->add_flag("--json", o->as_json, "Print the node's t=json answer");
    cmd->callback([o] {
      run_command("ls", o->common, [&](Session& s) {
        return ls_command(s, o->target.empty() ? std::nullopt : std::optional(o->target),
                          o->long_form, o->as_json);
      });
    });
  }
  {
    struct Opts {
      CommonOptions common;
      std::string target;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, "mkdir", "Make a directory; print its cap", &o->common);
    cmd->add_option("TARGET", o->target, "ALIAS:PATH for the new directory; none: unlinked");
    cmd->callback([o] {
      run_command("mkdir", o->common, [&](Session& s) {
        return mkdir_command(s, o->target.empty() ? std::nullopt : std::optional(o->target));
      });
    });
  }
  {
    struct Opts {
      CommonOptions common;
      std::string target;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, "rm", "Unlink an entry from its directory", &o->common);
    cmd->alias("unlink");
    cmd->add_option("TARGET", o->target, "ALIAS:PATH or CAP/PATH")->required();
    cmd->callback([o] {
      run_command("rm", o->common, [&](Session& s) { return rm_command(s, o->target); });
    });
  }
  for (const std::string name : {"mv", "ln"}) {
    struct Opts {
      CommonOptions common;
      std::string from;
      std::string to;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, name,
                             name == "mv" ? "Move or rename an entry"
                                          : "Link an existing file or directory under a new name",
                             &o->common);
    cmd->add_option("FROM", o->from, "ALIAS:PATH or CAP/PATH")->required();
    cmd->add_option("TO", o->to, "ALIAS:PATH or CAP/PATH: a new name or a directory")->required();
    cmd->callback([o, name] {
      run_command(name, o->common, [&](Session& s) {
        return name == "mv" ? mv_command(s, o->from, o->to) : ln_command(s, o->from, o->to);
      });
    });
  }
}

void add_alias_commands(CLI::App& app) {
  {
    struct Opts {
      CommonOptions common;
      std::string name;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd =
        file_command(app, "create-alias", "Make a new directory and name it NAME", &o->common);
    cmd->add_option("NAME", o->name, "The alias: letters, digits, '_' and '-'")->required();
    cmd->callback([o] {
      run_command("create-alias", o->common,
                  [&](Session& s) { return create_alias_command(s, o->name); });
    });
  }
  {
    struct Opts {
      CommonOptions common;
      std::string name;
      std::string cap;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, "add-alias", "Name an existing directory cap", &o->common);
    cmd->add_option("NAME", o->name, "The alias: letters, digits, '_' and '-'")->required();
    cmd->add_option("CAP", o->cap,
                    "A directory's write or read cap, or '-' to read it from stdin (keeps it out "
                    "of the process list)")
        ->required();
    cmd->callback([o] {
      run_command("add-alias", o->common,
                  [&](Session& s) { return add_alias_command(s, o->name, o->cap); });
    });
  }
  {
    struct Opts {
      CommonOptions common;
      bool readonly = false;
      bool as_json = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = file_command(app, "list-aliases", "Print every alias and its cap", &o->common);
    cmd->add_flag("--readonly-uri", o->readonly, "Print read caps instead of write caps");
    cmd->add_flag("--json", o->as_json, "Print {NAME: {readwrite, readonly}}");
    cmd->callback([o] {
      run_command("list-aliases", o->common,
                  [&](Session& s) { return list_aliases_command(s, o->readonly, o->as_json); });
    });
  }
}

void add_node_query_commands(CLI::App& app) {
  for (const bool deep : {false, true}) {
    struct Opts {
      CommonOptions common;
      std::string target;
      CheckFlags flags;
    };
    auto o = std::make_shared<Opts>();
    const std::string name = deep ? "deep-check" : "check";
    auto* cmd = file_command(app, name,
                             deep ? "Check every file and directory reachable from TARGET"
                                  : "Check that a file or directory's shares are there",
                             &o->common);
    cmd->add_option("TARGET", o->target, "ALIAS:PATH, CAP or CAP/PATH")->required();
    cmd->add_flag("--verify", o->flags.verify, "Download and verify every share");
    cmd->add_flag("--repair", o->flags.repair, "Repair what is unhealthy");
    cmd->add_flag("--add-lease", o->flags.add_lease, "Add or renew leases on the shares found");
    cmd->add_flag(
        "--json", o->flags.as_json,
        deep ? "Print the node's JSON lines as they come" : "Print the node's JSON answer");
    if (deep) cmd->add_flag("-v,--verbose", o->flags.verbose, "Print a line per object checked");
    cmd->callback([o, name, deep] {
      run_command(name, o->common, [&](Session& s) {
        return deep ? deep_check_command(s, o->target, o->flags)
                    : check_command(s, o->target, o->flags);
      });
    });
  }
  struct Opts {
    CommonOptions common;
    bool as_json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd =
      file_command(app, "status", "Show the node and the storage servers it knows", &o->common);
  cmd->add_flag("--json", o->as_json, "Print the node's GET /?t=json answer");
  cmd->callback([o] {
    run_command("status", o->common, [&](Session& s) { return status_command(s, o->as_json); });
  });
}

}  // namespace

void add_file_commands(CLI::App& app) {
  add_transfer_commands(app);
  add_directory_commands(app);
  add_alias_commands(app);
  add_node_query_commands(app);
}

}  // namespace lafs::cli
