// Directories: a mutable (or immutable) file holding a table of named children, each with its
// read cap, its write cap encrypted under a key from the directory's write key, and link
// metadata. A read-only directory yields read-only children, transitively. Spec:
// docs/specs/directory.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cap/cap.h"
#include "core/client/dir_pages.h"
#include "core/client/immutable_client.h"
#include "core/client/mutable_client.h"

namespace lafs::client {

inline constexpr std::size_t kEntryNameBytesMax = 255;  // after NFC, in UTF-8
// Entries of one directory at most (a mutable directory's pages grow with it; a change still
// writes only its pages).
inline constexpr std::size_t kDirectoryEntriesMax = 1'000'000;

// The canonical form of an entry name: NFC. InvalidArgument (naming the problem) for invalid
// UTF-8, an empty name, '/', NUL, "." or "..", or more than kEntryNameBytesMax bytes.
Result<std::string> normalize_entry_name(std::string_view raw);

struct EntryMetadata {
  WallTime link_created{};
  WallTime link_modified{};
  std::optional<std::uint64_t> size;
  friend bool operator==(const EntryMetadata&, const EntryMetadata&) = default;
};

struct DirectoryEntry {
  std::string name;
  cap::Cap read_cap;                  // what a reader of the directory gets
  std::optional<cap::Cap> write_cap;  // only through a directory write cap
  EntryMetadata metadata;
  bool is_directory() const { return read_cap.directory; }
};

// The table itself, without I/O: what the directory file holds. Entries keyed by NFC name.
class DirectoryTable {
 public:
  // Parses a directory file's plaintext. With the directory's write key, children's write
  // caps are decrypted (and checked against their read caps); without it they stay hidden.
  static Result<DirectoryTable> parse(ByteView plaintext,
                                      const std::optional<crypto::WriteKey>& write_key);
  // The same for a mutable directory's file: B+tree pages (dir_pages.h), all of them.
  static Result<DirectoryTable> parse_pages(ByteView plaintext,
                                            const std::optional<crypto::WriteKey>& write_key);
  // The file's plaintext. Children's write caps are encrypted under `write_key` with fresh
  // salts from `random`; kept as they were for entries this table did not change.
  Result<Bytes> serialize(const std::optional<crypto::WriteKey>& write_key, Random& random) const;

  const std::map<std::string, DirectoryEntry>& entries() const { return entries_; }
  const DirectoryEntry* find(const std::string& normalized) const;

  // AlreadyExists when `name` is present and !replace. A child with a write cap needs a
  // writable directory to keep it; in a table parsed without the write key it is refused.
  Status put(DirectoryEntry entry, bool replace, WallTime now);
  // NotFound when absent.
  Result<DirectoryEntry> remove(const std::string& normalized);

 private:
  std::map<std::string, DirectoryEntry> entries_;
  std::map<std::string, Bytes> sealed_;  // entries whose encrypted write cap is kept as stored
};

class DirectoryEditor;  // the pages of one change (directory.cc)

struct DirectoryOptions {
  // k and n of mutable directories; their segment size is always kDirPageBytes (one page).
  MutableParams mutable_params{3, 10, kDirPageBytes, 0};
  EncodingParams immutable_params;  // for immutable directories
  std::uint32_t happy = 7;
};

class DirectoryClient {
 public:
  DirectoryClient(Env* env, MutableClient* mutable_client, ImmutableClient* immutable_client,
                  DirectoryOptions options = {})
      : env_(env), mutable_(mutable_client), immutable_(immutable_client), options_(options) {}

  // A new mutable directory holding `children` (name -> child write or read cap); returns its
  // write cap (kind dir).
  Task<Result<cap::Cap>> create(std::vector<ServerRef> servers,
                                std::vector<std::pair<std::string, cap::Cap>> children = {});
  // A new immutable directory: every child must be deeply immutable (chk, lit, dir-chk,
  // dir-lit); returns its read cap (dir-chk, or dir-lit when tiny).
  Task<Result<cap::Cap>> create_immutable(std::vector<ServerRef> servers,
                                          std::vector<std::pair<std::string, cap::Cap>> children);

  Task<Result<std::vector<DirectoryEntry>>> list(cap::Cap dir, std::vector<ServerRef> servers);
  Task<Result<DirectoryEntry>> get(cap::Cap dir, std::string name, std::vector<ServerRef> servers);
  // Adds or (with replace) replaces a child. `size` goes into the metadata.
  Task<Status> add(cap::Cap dir, std::string name, cap::Cap child, bool replace,
                   std::vector<ServerRef> servers, std::optional<std::uint64_t> size = {});
  Task<Status> remove(cap::Cap dir, std::string name, std::vector<ServerRef> servers);
  // Within one directory: one publish. Across directories: add to the target, then remove from
  // the source (a crash in between leaves the child in both, never in neither).
  Task<Status> rename(cap::Cap from_dir, std::string from_name, cap::Cap to_dir,
                      std::string to_name, bool replace, std::vector<ServerRef> servers);
  // Creates a directory and links it as `name` in `parent`; returns the new directory's cap.
  Task<Result<cap::Cap>> mkdir(cap::Cap parent, std::string name, std::vector<ServerRef> servers,
                               std::vector<std::pair<std::string, cap::Cap>> children = {});
  // "a/b/c" below `root` (a trailing '/' allowed; empty components are not). Each component
  // but the last must be a directory.
  Task<Result<cap::Cap>> resolve(cap::Cap root, std::string path, std::vector<ServerRef> servers);

 private:
  Task<Result<DirectoryTable>> load(const cap::Cap& dir, const std::vector<ServerRef>& servers);
  // One change to a mutable directory: loads the pages on the paths of `names`, applies `edit`
  // and writes the changed pages with a ranged update; Conflict retries like modify().
  Task<Status> change(const cap::Cap& dir, const std::vector<ServerRef>& servers,
                      std::vector<std::string> names, std::function<Status(DirectoryEditor&)> edit);

  Env* env_;
  MutableClient* mutable_;
  ImmutableClient* immutable_;
  DirectoryOptions options_;
};

// The cap to store for a child: its write cap stays a write cap; anything else as given.
// Split into (read cap, write cap) the way a directory entry holds them.
Result<std::pair<cap::Cap, std::optional<cap::Cap>>> split_child_cap(const cap::Cap& child);

}  // namespace lafs::client
