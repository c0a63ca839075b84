// The pure pieces of the `lafs` file commands (docs/cli.md), kept here so that they are unit and
// property tested: the aliases file (NODEDIR/private/aliases), command-line path arguments
// (`alias:path`, `lafs1:...[/path]`, local paths), the gateway URL in NODEDIR/node.url,
// percent-encoding of URL path segments, and the check that a directory entry name read from the
// grid is safe to create in a local directory. No I/O: callers read files and pass their text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/runtime/status.h"

namespace lafs::node {

inline constexpr std::size_t kAliasesBytesMax = 1 << 20;  // thousands of aliases
inline constexpr std::size_t kAliasesLineBytesMax = 4096;
inline constexpr std::size_t kAliasNameBytesMax = 64;
// The alias a grid-only argument without one refers to ("lafs ls docs" lists "lafs:docs"), as
// Tahoe's `tahoe:`.
inline constexpr std::string_view kDefaultAlias = "lafs";

// Alias names are 1..64 of [A-Za-z0-9_-]. A name shaped like a cap prefix ("lafs" followed by
// digits, any case, or "URI") is refused, so that "NAME:..." on a command line never reads as both
// an alias and a cap. InvalidArgument naming the problem.
Status check_alias_name(std::string_view name);

// An alias's cap must be a directory cap that can be listed (dir, dir-read, dir-chk, dir-lit):
// InvalidArgument otherwise. Messages never repeat the cap.
Status check_alias_cap(std::string_view cap);

// The aliases file: one `NAME: CAP` line per alias, in Tahoe's format. Blank lines and lines
// whose first non-blank character is '#' are ignored; blanks around the name and the cap are
// ignored. Strict: a malformed line, a bad name, a bad cap or a name given twice is refused.
class Aliases {
 public:
  // Errors are InvalidArgument naming the file and line: "aliases:3: unknown alias ...".
  // `file_name` is only for messages.
  static Result<Aliases> parse(std::string_view text, std::string file_name);

  // The cap of `name`, or nullopt.
  std::optional<std::string> find(std::string_view name) const;
  const std::map<std::string, std::string, std::less<>>& entries() const { return entries_; }

  // InvalidArgument for a bad name or cap, AlreadyExists when the name is taken.
  Status add(const std::string& name, const std::string& cap);

  // Canonical text: one "NAME: CAP" line per alias, sorted by name. parse(format()) gives back
  // the same table.
  std::string format() const;

 private:
  std::map<std::string, std::string, std::less<>> entries_;
};

// `text` (an aliases file's contents, maybe empty) with "NAME: CAP" appended as its last line,
// so that adding an alias keeps the user's comments and order. Check with Aliases::add first.
std::string append_alias_line(std::string_view text, std::string_view name, std::string_view cap);

// A place on the grid named by a command-line argument: a root (the directory cap of an alias,
// or a cap given on the command line) and the names below it.
struct GridPath {
  std::string root_cap;            // a secret: never in a message; `shown` is for messages
  std::string alias;               // the alias the root came from; empty for a cap argument
  std::vector<std::string> names;  // components below the root: none empty, ".", or ".."
  bool trailing_slash = false;     // written as a directory ("docs:photos/")
  std::string shown;               // "docs:photos/a.jpg", or "lafs1:dir:.../a.jpg" for a cap
};

struct LocalPath {
  std::string path;
};

using PathArgument = std::variant<LocalPath, GridPath>;

enum class PathMode {
  kGridOnly,     // ls, get SOURCE, put TARGET, mkdir, mv, ln, rm, check: always the grid
  kLocalOrGrid,  // cp: an argument without an alias or cap is a local path
};

// Reads a path argument. Rules, first match wins:
//  1. (kLocalOrGrid) starting with "/", "./", "../" or "~", or exactly "." or "..": local.
//  2. starting like a cap ("lafs" digits ":", or "URI:"): the cap runs to the first '/', names
//     follow. A cap that does not parse is refused with the parser's message ("malformed cap:
//     ..."); names below a cap that is not a directory's are refused.
//  3. a ':' whose prefix is a valid alias name (so no '/'): "alias:path". An unknown alias is
//     refused (a local file with a colon in its name is written "./a:b").
//  4. otherwise: local (kLocalOrGrid), or a path under the default alias (kGridOnly; "/docs" and
//     "docs" are both "lafs:docs"), which must exist.
// In grid paths, empty components and "." are dropped ("a//b/." is "a/b") and ".." is refused:
// a directory has no parent on the grid. Errors are InvalidArgument naming the problem and
// never the cap.
Result<PathArgument> parse_path_argument(std::string_view arg, const Aliases& aliases,
                                         PathMode mode);
// The kGridOnly form.
Result<GridPath> parse_grid_path(std::string_view arg, const Aliases& aliases);

// "lafs1:dir:..." for messages: the kind of `cap` without its keys ("a cap" if it does not parse).
std::string cap_for_messages(std::string_view cap);

// Every byte except RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~) as %XX, upper-case
// hex. Used for path segments and query values alike, so '/', '?', '#', '&', '=', '+', '%', space
// and non-ASCII bytes never reach the gateway unescaped.
std::string percent_encode(std::string_view text);
// The inverse. InvalidArgument for a '%' not followed by two hex digits; '+' stays '+'.
Result<std::string> percent_decode(std::string_view text);

// "/uri/CAP/NAME/..." for the first `count` names of `names` (all of them by default): the cap as
// it is (its characters, a-z 0-9 ':' '-', are legal in a path), each name percent-encoded.
std::string uri_path(std::string_view cap, const std::vector<std::string>& names,
                     std::size_t count = SIZE_MAX);

// The gateway's address, from NODEDIR/node.url or --node-url.
struct NodeUrl {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 80;
  std::string base_path;     // starts and ends with '/': requests go to base_path + "uri/..."
  std::string text() const;  // "http://host:port/base/"
};
// "http://HOST[:PORT][/PATH/]", blanks around it ignored (node.url ends with a newline).
// Refused (InvalidArgument naming the problem): other schemes (https: this client speaks plain
// HTTP to a gateway that listens on loopback), user info, a query or fragment, a bad port.
Result<NodeUrl> parse_node_url(std::string_view text);

// Whether a directory entry name read from the grid may be created as a file or directory inside
// a local directory (`cp -r` from the grid). Refused: empty, ".", "..", or containing '/' (and so
// absolute) or NUL. The gateway refuses such names when they are written, but a directory is
// whatever its writer published, and a hostile writer must not make `cp -r` write outside its
// destination. InvalidArgument naming the problem (the name shown with printable_name).
Status check_safe_local_name(std::string_view name);

// `name` with control characters (bytes < 0x20 and 0x7f) replaced by '?', for terminals: a name
// read from the grid must not be able to move the cursor or retitle the window.
std::string printable_name(std::string_view name);

}  // namespace lafs::node
