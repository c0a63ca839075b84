// Uploading and downloading immutable files through storage servers (first version: whole
// files in memory; the streaming pipeline with bounded memory replaces the inner loops next).
// Runs on any Env: the simulator's or the real one. Spec: docs/specs/immutable.md.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/cap/cap.h"
#include "core/client/immutable_share.h"
#include "core/env/env.h"
#include "core/rpc/rpc_pool.h"
#include "core/storage/storage_server.h"
#include "core/storage/storage_service.h"

namespace lafs::client {

// A storage server as the client knows it (from the introducer): its node key, which is also
// its server id for placement and lease secrets, and where to reach it.
struct ServerRef {
  net::PublicKey key{};
  std::string address;
};

// The server id a ServerRef names (its node key), as derivations take it.
inline crypto::ServerIdView server_id(const ServerRef& s) {
  return crypto::ServerIdView(s.key.data(), s.key.size());
}
// A lease secret in the storage protocol's form.
inline storage::LeaseSecretBytes to_bytes32(const crypto::LeaseSecret& s) {
  storage::LeaseSecretBytes out;
  std::copy_n(s.data(), out.size(), out.begin());
  return out;
}

struct ClientSecrets {
  crypto::ConvergenceSecret convergence;  // per client by default (docs/specs/crypto.md)
  crypto::LeaseSecret lease;
};

struct ImmutableClientOptions {
  Duration call_timeout = seconds(30);
  // A download's block reads wait at most this long: a server slower than that is dropped for
  // the rest of the download and another share used instead.
  Duration block_read_timeout = seconds(10);
  std::size_t write_chunk_bytes = 512 << 10;  // per storage.write call
  std::size_t read_chunk_bytes = 512 << 10;   // per storage.read call
  // A one-segment file whose shares are at most this (and write_chunk_bytes) is encoded first
  // and sent whole: one storage.put per server instead of allocate, write and close. 0: never.
  std::size_t put_whole_max = 512 << 10;
  // Servers an upload asks first, in ring order: at least this many, and at least n; more
  // (doubling) only while fewer than n of them can hold a share. Bounds the fan-out on large
  // grids.
  std::size_t survey_width_min = 4;
  // Servers a download asks first: the first 2k of the ring (a healthy file's shares are on
  // its first n), at least this many; then as many again, then twice that, ... while fewer
  // than k good shares are found, until every server has been asked.
  std::size_t download_survey_width_min = 4;
  // A share no larger than this is read in one call (prefix, blocks and trees at once) instead
  // of three: small files are most of the calls of a busy grid.
  std::size_t whole_share_read_max = 128 << 10;
  // Files whose ring positions are remembered (RingCache: ~8 bytes per file and server), and
  // the servers they are remembered for. 0 files: every ring is hashed afresh.
  std::size_t ring_cache_files = 4096;
  std::size_t ring_cache_servers = 4096;
  // What a server said of its space and mode (storage.version) is reused by later uploads for
  // this long, so a burst of small uploads asks each server once, not once per file. An
  // allocation refused for space corrects a stale answer the way it corrects a race, and
  // reachability is never taken from here (the survey's get_buckets must answer). Tahoe asks
  // once per connection; ten minutes keeps the space answers fresh for planning.
  Duration server_info_ttl = minutes(10);
  std::size_t server_info_max = 4096;  // servers remembered (the oldest answer is dropped)
};

// Where an upload's plaintext comes from: read in segment-sized pieces, twice for a convergent
// upload (the key pass, then the encoding pass), so a file need not be in memory.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  // Exactly `length` bytes at `offset`; offset + length <= size().
  virtual Task<Result<Bytes>> read(std::uint64_t offset, std::size_t length) = 0;
};

// A source over bytes in memory (which must outlive it).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(ByteView data) : data_(data) {}
  std::uint64_t size() const override { return data_.size(); }
  Task<Result<Bytes>> read(std::uint64_t offset, std::size_t length) override;

 private:
  ByteView data_;
};

struct UploadResult {
  cap::Cap cap;  // literal for tiny files, else chk
  std::size_t servers_used = 0;
  std::size_t shares_placed = 0;    // written by us or already present and checked
  std::size_t shares_existing = 0;  // of those, already present
  std::size_t shares_written = 0;   // new shares written and closed by this upload
  std::uint64_t bytes_written = 0;  // their bytes
};

class RingCache;
class RingOrder;

class ImmutableClient {
 public:
  ImmutableClient(Env* env, rpc::RpcPool* pool, const ClientSecrets* secrets,
                  ImmutableClientOptions options = {});
  ~ImmutableClient();

  // Convergent (with the client's secret) unless `convergent` is false (a random key). Tiny
  // files become literal caps. Fails with Unavailable naming how many servers were reachable
  // and how many `happy` needs when it cannot place shares on enough distinct servers.
  Task<Result<UploadResult>> upload(Bytes plaintext, std::vector<ServerRef> servers,
                                    EncodingParams params, bool convergent = true);
  // The same from a source; memory stays at a few chunks per share whatever the file's size.
  Task<Result<UploadResult>> upload_from(ByteSource* source, std::vector<ServerRef> servers,
                                         EncodingParams params, bool convergent = true);

  // The exact plaintext, or an error: asks servers in permuted order, checks every share,
  // advises servers of corrupt shares, and fetches more shares while the ones it has fail.
  Task<Result<Bytes>> download(cap::Cap cap, std::vector<ServerRef> servers);

  // Streams plaintext bytes [offset, offset + length) (clipped to the file) to `sink`, segment
  // by segment: only the segments in the range are fetched, from k shares at a time, and memory
  // stays at the shares' trees plus a window of blocks. The sink's error stops the download.
  using Sink = std::function<Status(ByteView)>;
  Task<Status> download_range(cap::Cap cap, std::vector<ServerRef> servers, std::uint64_t offset,
                              std::uint64_t length, Sink sink);
  // The same with a sink that may wait (an HTTP response applying backpressure): the next
  // segment is fetched while the sink waits, and the bytes it was given stay valid until it
  // returns.
  using AsyncSink = std::function<Task<Status>(ByteView)>;
  Task<Status> stream_range(cap::Cap cap, std::vector<ServerRef> servers, std::uint64_t offset,
                            std::uint64_t length, AsyncSink sink);
  // The same from a verify cap and, when given, the key: without it the sink gets the file's
  // verified ciphertext (the repairer's input).
  Task<Status> stream_verified(cap::ChkVerifyCap vcap, std::optional<crypto::FileKey> key,
                               std::vector<ServerRef> servers, std::uint64_t offset,
                               std::uint64_t length, AsyncSink sink);

  // Regenerates the file's missing shares from k good ones (read and verified as a download,
  // but never decrypted: a verify cap is enough) and places them by servers-of-happiness, as an
  // upload of the same file would: existing good shares are relied on and kept, new shares go
  // only where that share is not. `happy` is the happiness required (as for an upload).
  // Errors: Corruption when fewer than k good shares can be read; Unavailable when happiness
  // cannot be reached (the message says why).
  // `distrusted` lists shares a verifier found corrupt (server node key, share number): they
  // are neither relied on nor counted, and their servers take no new share of this file.
  using ShareOnServer = std::pair<net::PublicKey, std::uint32_t>;
  Task<Result<UploadResult>> repair(cap::ChkVerifyCap vcap, std::vector<ServerRef> servers,
                                    std::uint32_t happy, std::set<ShareOnServer> distrusted = {});

  // storage.version of the server `sc` talks to (whose key is `key`), through the server-info
  // cache (options_.server_info_ttl): what an upload's survey asks each server first.
  Task<Result<storage::SpaceInfo>> server_info(storage::StorageClient& sc,
                                               const net::PublicKey& key);

  // Ring positions of the files this client has met (options_.ring_cache_files): its uploads,
  // downloads and repairs order servers through it, and so may a checker of the same client.
  RingCache& ring_cache() { return *ring_cache_; }

 private:
  struct Pass;
  Task<Pass> upload_pass(ByteSource* source, std::unique_ptr<ImmutableEncoder> encoder,
                         const RingOrder* ring, EncodingParams params,
                         std::optional<crypto::Digest> known_hash,
                         const std::set<ShareOnServer>* distrusted = nullptr);

  Env* env_;
  rpc::RpcPool* pool_;
  const ClientSecrets* secrets_;
  ImmutableClientOptions options_;
  struct KnownInfo {
    MonoTime at;
    storage::SpaceInfo info;
  };
  std::map<net::PublicKey, KnownInfo> server_info_;
  std::unique_ptr<RingCache> ring_cache_;
};

// Reads [offset, offset + length) of an immutable share in calls of at most `chunk` bytes;
// Corruption if the share is shorter.
Task<Result<Bytes>> read_share_range(storage::StorageClient* sc, storage::StorageIndex si,
                                     std::uint32_t share, std::uint64_t offset,
                                     std::uint64_t length, std::size_t chunk);

// Servers in the permuted-ring order for a storage index (docs/specs/placement.md).
std::vector<ServerRef> permuted_servers(const crypto::StorageIndex& si,
                                        std::vector<ServerRef> servers);

}  // namespace lafs::client
