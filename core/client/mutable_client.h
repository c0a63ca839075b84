// Mutable files through storage servers: create, the server map, publish (two phases with
// test-and-set on every share), retrieve (the newest recoverable version), and modify
// (read-modify-write with bounded retries). Runs on any Env. Spec: docs/specs/mutable.md; the
// guarantees under concurrent writers: docs/uncoordinated-writes.md.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/cap/cap.h"
#include "core/client/immutable_client.h"
#include "core/client/mutable_share.h"
#include "core/env/env.h"
#include "core/rpc/rpc_pool.h"

namespace lafs::client {

struct MutableClientOptions {
  Duration call_timeout = seconds(30);
  // Server map: queries in flight at once, and how many servers in a row (in ring order, after
  // the last one holding a share) must answer "nothing here" before the walk stops.
  std::size_t servermap_parallel = 16;
  std::size_t servermap_empty_run = 10;
  // A share is sent in calls of at most this many bytes (a server's frame bound is 8 MiB).
  std::size_t write_chunk_bytes = 1 << 20;
  std::size_t read_chunk_bytes = 1 << 20;
  // read_range() fetches this many plaintext bytes of segments per round (at least one segment).
  std::size_t read_window_bytes = 4 << 20;
  // A slot that changed since the server map, to a version older than ours (a crashed
  // writer's leftover), is tested again against what it holds now at most this many times.
  std::uint32_t slot_retries_max = 2;
  // modify(): attempts in all, and the randomised backoff between them (doubling from base).
  std::uint32_t modify_attempts_max = 8;
  Duration retry_backoff_base = milliseconds(20);
  Duration retry_backoff_max = seconds(5);
};

// What the servers hold of one mutable file, learned from the first kMutablePrefixBytes of
// every share (each header's signature checked against the cap's fingerprint).
struct ServerMap {
  struct Share {
    std::size_t server = 0;  // index into `servers`
    std::uint32_t share_number = 0;
    Bytes raw_checkstring;                // the bytes at kCheckstringOffset, as the server has them
    std::optional<MutableHeader> header;  // set when the prefix checked out
    std::string problem;                  // otherwise why not
  };
  crypto::StorageIndex storage_index{};
  crypto::Fingerprint fingerprint{};
  std::vector<ServerRef> servers;  // the ring order, as far as it was walked
  std::vector<bool> answered;      // per server: it answered the query
  std::vector<Share> shares;

  // Versions seen in good headers -> their distinct share numbers.
  std::map<MutableVersion, std::set<std::uint32_t>> versions() const;
  // The newest version with at least k distinct good shares.
  std::optional<MutableVersion> newest_recoverable() const;
  std::optional<MutableVersion> newest_seen() const;
  // newest_recoverable(), or NotFound (no share at all) / Unavailable (shares, none
  // recoverable) naming `what` ("mutable file", "directory").
  Result<MutableVersion> newest_recoverable_or_error(std::string_view what) const;
  // A good header of this version (for its parameters and the wrapped signing key).
  const MutableHeader* header_of(const MutableVersion& v) const;
  std::size_t answered_count() const;
};

struct RetrieveResult {
  Bytes contents;
  MutableVersion version;
  MutableParams params;
};

struct PublishResult {
  MutableVersion version;
  std::size_t shares_written = 0;
  std::uint32_t happiness = 0;
  std::uint64_t bytes_written = 0;  // share bytes (repair() sets it)
};

class MutableClient {
 public:
  MutableClient(Env* env, rpc::RpcPool* pool, const ClientSecrets* secrets,
                MutableClientOptions options = {})
      : env_(env), pool_(pool), secrets_(secrets), options_(options) {}

  // A new mutable file (a fresh Ed25519 key from the Env's Random) holding `contents`,
  // published as sequence number 1. `params.data_length` is ignored (set from contents).
  Task<Result<cap::SskWriteCap>> create(Bytes contents, std::vector<ServerRef> servers,
                                        MutableParams params, std::uint32_t happy);
  // The same with a key the caller made (a directory encrypts its children's write caps under
  // its write key before the first publish).
  Task<Result<cap::SskWriteCap>> create_with_key(crypto::SigningKey key, Bytes contents,
                                                 std::vector<ServerRef> servers,
                                                 MutableParams params, std::uint32_t happy);

  Task<ServerMap> update_servermap(crypto::StorageIndex si, crypto::Fingerprint fingerprint,
                                   std::vector<ServerRef> servers);

  // The newest recoverable version: every share checked (signature, fingerprint, block and
  // share trees) before use, only shares of one version combined. An older version is
  // returned only when every newer one is unrecoverable. NotFound when no share exists.
  Task<Result<RetrieveResult>> retrieve(cap::Cap cap, std::vector<ServerRef> servers);

  // Publishes `contents` as the next version. With `expected`, fails with Conflict when the
  // file's newest version is not `expected` (someone else published since it was read). The
  // write itself is test-and-set on every share; finding another writer's version at or above
  // our sequence number is a Conflict ("uncoordinated write"). Unavailable when fewer than
  // `happy` servers took a share.
  Task<Result<PublishResult>> publish(cap::SskWriteCap cap, Bytes contents,
                                      std::vector<ServerRef> servers, MutableParams params,
                                      std::uint32_t happy,
                                      std::optional<MutableVersion> expected = std::nullopt);

  // Read-modify-write: retrieve, apply `change`, publish expecting the version read; on a
  // Conflict wait a random backoff and start again, at most modify_attempts_max times.
  // `change` returning an error stops the loop with that error.
  using Change = std::function<Result<Bytes>(const Bytes& current)>;
  Task<Result<PublishResult>> modify(cap::SskWriteCap cap, Change change,
                                     std::vector<ServerRef> servers, std::uint32_t happy);

  // Repair: regenerates the missing shares of the newest recoverable version exactly (the same
  // sequence number, the same salts read from a good share, the same signature: Ed25519 is
  // deterministic) and writes them where placement wants them, each slot tested against what
  // the map saw there. No new version is made, so repeated repairs converge instead of
  // flapping (Tahoe's repairer publishes a new sequence number). Slots holding the version
  // are never written. Returns the version and how many shares were written. Errors: as
  // retrieve's when no version is recoverable; Corruption if the shares rebuilt do not carry
  // the signed root; Conflict when another writer publishes meanwhile.
  // `distrusted` (server node key, share number): slots a verifier found corrupt; they are
  // rewritten in place with the good share.
  Task<Result<PublishResult>> repair(
      cap::SskWriteCap cap, std::vector<ServerRef> servers, std::uint32_t happy,
      std::set<std::pair<net::PublicKey, std::uint32_t>> distrusted = {});

  // ---- Segment-level (ranged) access ----

  // Segments of `version` (a version of `map` with k good shares), each block checked through
  // its tree path and its share's uncle chain against the signed root, decoded from k shares.
  // Only those segments' salts, blocks and tree paths are fetched.
  Task<Result<std::map<std::uint64_t, Bytes>>> read_segments(const ServerMap& map,
                                                             crypto::ReadKey read_key,
                                                             MutableVersion version,
                                                             std::vector<std::uint64_t> segments);

  struct SegmentUpdate {
    std::map<std::uint64_t, Bytes> segments;  // index -> new plaintext (its full new length)
    std::uint64_t new_length = 0;             // the file's length after the update
  };
  // Publishes the next version: `base` (the map's newest recoverable) with these segments
  // replaced or appended. When every slot the map saw holds `base`, all n share numbers are
  // present, the file does not shrink and the tree width stays the same, only the segments'
  // salts and blocks, their tree paths, the chains and the prefixes are written (a ranged
  // update); otherwise the whole file is read, changed and republished. Conflict as publish().
  Task<Result<PublishResult>> update_segments(cap::SskWriteCap cap, const ServerMap& map,
                                              MutableVersion base, SegmentUpdate update,
                                              std::uint32_t happy);

  // Writes `data` at `offset` (zero-filling a gap, extending the file) through update_segments,
  // reading only the partly covered segments; retries on Conflict like modify().
  Task<Result<PublishResult>> write_range(cap::SskWriteCap cap, std::uint64_t offset, Bytes data,
                                          std::vector<ServerRef> servers, std::uint32_t happy);

  // Streams plaintext bytes [offset, offset + length) (clipped to the file) of the newest
  // recoverable version to `sink`, read_segments() a window of read_window_bytes at a time:
  // memory stays at one window whatever the file's size. The sink's error stops the read.
  using Sink = std::function<Status(ByteView)>;
  Task<Result<MutableVersion>> read_range(cap::Cap cap, std::uint64_t offset, std::uint64_t length,
                                          std::vector<ServerRef> servers, Sink sink);
  // The newest recoverable version of a file, found once (one server-map walk, no segment
  // reads): its size is known before any byte is read, and every read from it is of that one
  // version. A verify cap gets a snapshot without a read key (size only). Errors as retrieve's.
  struct Snapshot {
    ServerMap map;
    std::optional<crypto::ReadKey> read_key;
    MutableVersion version;
    MutableParams params;  // params.data_length: the version's plaintext length
  };
  Task<Result<Snapshot>> snapshot(cap::Cap cap, std::vector<ServerRef> servers);

  // The same with a sink that may wait (an HTTP response applying backpressure).
  using AsyncSink = std::function<Task<Status>(ByteView)>;
  Task<Result<MutableVersion>> stream_range(cap::Cap cap, std::uint64_t offset,
                                            std::uint64_t length, std::vector<ServerRef> servers,
                                            AsyncSink sink);
  // Streams [offset, offset + length) (clipped) of the snapshot's version.
  Task<Status> stream_range(const Snapshot& snapshot, std::uint64_t offset, std::uint64_t length,
                            AsyncSink sink);

  struct Stats {
    std::uint64_t bytes_written = 0;  // share bytes sent in slot writes (all servers)
    std::uint64_t bytes_read = 0;     // share bytes received in slot reads
    std::uint64_t ranged_updates = 0;
    std::uint64_t full_publishes = 0;
  };
  const Stats& stats() const { return stats_; }
  const MutableClientOptions& options() const { return options_; }
  // The randomised wait before retry `attempt` (>= 1) after a Conflict.
  Duration retry_backoff(std::uint32_t attempt);

  // Test hook: awaited between the two publish phases (a test stops the writer there).
  std::function<Task<void>()> between_phases_for_test;

 private:
  Task<Result<PublishResult>> publish_with_map(const cap::SskWriteCap& cap,
                                               const crypto::SigningKey& key, Bytes contents,
                                               const ServerMap& map, MutableParams params,
                                               std::uint32_t happy);

  Env* env_;
  rpc::RpcPool* pool_;
  const ClientSecrets* secrets_;
  MutableClientOptions options_;
  Stats stats_;
};

}  // namespace lafs::client
