// The storage server: keeps other people's encrypted immutable shares on an Env disk, their
// leases in the Env KV store, and never acknowledges what is not durable. It knows nothing
// about what the shares contain; clients verify everything they read.
//
// Durability of a closed share (docs/specs/storage.md): share data synced -> moved from
// incoming/ into shares/ -> directory synced -> share and lease records written to the KV store
// with sync -> acknowledged. At start-up, incomplete uploads are discarded and share files and
// records are reconciled (a file without a record was never acknowledged and is removed; a
// record without a file is dropped with its leases and reported).
//
// Not thread-safe: one server per Env, driven from the Env's executor. Methods are coroutines
// that may interleave; every state change that spans an await is guarded (see mutate_).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/crypto/derive.h"
#include "core/env/env.h"
#include "core/runtime/event.h"
#include "core/runtime/scope.h"
#include "core/runtime/semaphore.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"
#include "core/storage/limits.h"

namespace lafs::storage {

// The same type as crypto::StorageIndex: a server stores under what clients derive.
using StorageIndex = crypto::StorageIndex;
static_assert(kStorageIndexBytes == crypto::kStorageIndexBytes);
using LeaseSecretBytes = std::array<std::uint8_t, kLeaseSecretBytes>;
using WriteEnablerBytes = std::array<std::uint8_t, 32>;

// Mutable slots (test-and-set writes).
struct TestVector {
  std::uint64_t offset = 0;
  Bytes expected;  // the share's bytes at offset must equal these
  // How many bytes to compare, when not expected.size(): the share's bytes in
  // [offset, offset + length), clipped at its end, must equal `expected`. A missing share reads
  // as empty, so {0, {}, 1} passes exactly when the share does not exist (or is empty).
  std::optional<std::uint64_t> length = std::nullopt;
  std::uint64_t compared_length() const { return length.value_or(expected.size()); }
};
struct WriteVector {
  std::uint64_t offset = 0;
  Bytes data;
};
struct ReadVector {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};
struct SlotShareWrite {
  std::uint32_t share_number = 0;
  std::vector<TestVector> tests;
  std::vector<WriteVector> writes;
  std::optional<std::uint64_t> new_length;  // after the writes; 0 deletes the share
};
struct SlotWriteResult {
  bool success = false;
  // When a test failed: each tested share's current bytes at each of its test vectors.
  std::map<std::uint32_t, std::vector<Bytes>> current;
};

// The garbage collector: a crawler over every lease record, a slice at a time, that removes
// expired leases and deletes shares left with none. Modes as Tahoe's expirer: `age` (a lease
// expires at its own expiry time) and `cutoff_date` (leases granted or renewed before `cutoff`
// expire). A lease is spared until `skew_margin` after it expires, so a wall clock that runs a
// little ahead, or jumps backwards, never deletes a share early.
struct GcOptions {
  enum class Mode { kOff, kAge, kCutoffDate };
  Mode mode = Mode::kAge;
  WallTime cutoff{};  // kCutoffDate only
  Duration skew_margin = hours(24);
  std::size_t slice_records = 500;           // lease records examined per slice
  Duration slice_pause = milliseconds(100);  // between slices: service comes first
  Duration cycle_interval = hours(1);        // between the end of a cycle and the next
};

struct GcStats {
  std::uint64_t cycles = 0;  // completed passes over all leases
  std::uint64_t slices = 0;
  std::uint64_t leases_examined = 0;
  std::uint64_t leases_expired = 0;
  std::uint64_t shares_deleted = 0;
  std::uint64_t bytes_freed = 0;
  std::uint64_t reclaimed_on_demand = 0;  // shares deleted to make room for an allocation
};

struct StorageOptions {
  // Directory on the Env disk that holds incoming/ and shares/ (created if missing).
  std::string root = "storage";
  // Allocations that would leave less free space than this are refused (kNoSpace).
  std::uint64_t reserved_bytes = 0;
  // Refuses allocations (and, later, mutable writes); reads and leases still work.
  bool read_only = false;
  std::uint64_t max_share_bytes = kDefaultMaxShareBytes;
  Duration lease_duration = kDefaultLeaseDuration;
  // An upload with no write for this long is aborted and its space freed.
  Duration upload_idle_timeout = minutes(30);
  std::size_t uploads_max = 10'000;          // open uploads at once, all clients
  std::size_t uploads_per_peer_max = 1'000;  // open uploads of one client (by node key)
  GcOptions gc;
};

struct Allocation {
  std::uint32_t share_number = 0;
  std::uint64_t upload_id = 0;
};

struct AllocateResult {
  std::vector<std::uint32_t> already_have;  // ascending
  std::vector<Allocation> allocated;        // ascending by share number
};

// A whole immutable share, for put.
struct PutShare {
  std::uint32_t share_number = 0;
  Bytes data;
};

struct PutResult {
  std::vector<std::uint32_t> already_have;  // ascending
  std::vector<std::uint32_t> stored;        // ascending: durable and visible
};

struct ShareInfo {
  std::uint32_t share_number = 0;
  std::uint64_t share_bytes = 0;
  bool is_mutable = false;
};

struct CancelResult {
  std::uint32_t leases_cancelled = 0;
  std::uint32_t shares_deleted = 0;
};

struct SpaceInfo {
  std::uint64_t available_bytes = 0;  // free - reserved - promised to open uploads (>= 0)
  std::uint64_t used_bytes = 0;       // bytes of held shares
  std::uint64_t max_share_bytes = 0;
  bool read_only = false;
};

struct StorageStats {
  std::uint64_t shares = 0;
  std::uint64_t allocations = 0;
  std::uint64_t closes = 0;
  std::uint64_t writes = 0;  // immutable share writes taken (not counting empty ones)
  std::uint64_t puts = 0;    // put calls that stored at least one share
  std::uint64_t aborts = 0;
  std::uint64_t uploads_expired = 0;
  std::uint64_t reads = 0;
  std::uint64_t shares_deleted = 0;
  std::uint64_t corruption_reports = 0;
  // Start-up reconciliation.
  std::uint64_t incomplete_uploads_discarded = 0;
  std::uint64_t orphan_files_removed = 0;
  std::uint64_t in_place_slot_writes = 0;    // slot writes applied in place through a journal
  std::uint64_t slot_journals_replayed = 0;  // in-place writes finished at start-up
  std::uint64_t orphan_records_dropped = 0;
};

class StorageServer {
 public:
  // Creates the directories if needed, discards incomplete uploads and reconciles share files
  // with records. Errors: the disk or KV store failing, or a record of an unknown newer
  // version (kFailedPrecondition naming it: this code must not guess at newer formats).
  static Task<Result<std::unique_ptr<StorageServer>>> open(Env* env, StorageOptions options);

  StorageServer(const StorageServer&) = delete;
  StorageServer& operator=(const StorageServer&) = delete;
  ~StorageServer();

  // Shares already held are listed; each other requested share not being uploaded by someone
  // else gets an upload. `peer` identifies the client for per-client bounds. Errors:
  // kInvalidArgument (share number >= 256, duplicates, too many, size 0 or over the maximum),
  // kPermissionDenied (read-only), kNoSpace (over the reservation), kResourceExhausted (too many
  // open uploads).
  Task<Result<AllocateResult>> allocate(StorageIndex si, std::vector<std::uint32_t> share_numbers,
                                        std::uint64_t share_bytes, LeaseSecretBytes renew_secret,
                                        LeaseSecretBytes cancel_secret, std::string peer);

  // Writes inside the allocation. Rewriting written bytes is allowed only with the same bytes.
  // Errors: kNotFound (no such upload), kInvalidArgument (past the allocation, overflow),
  // kFailedPrecondition (different bytes over written ones), kResourceExhausted (too many
  // separate written ranges), kIoError.
  Task<Status> write(StorageIndex si, std::uint32_t share_number, std::uint64_t upload_id,
                     std::uint64_t offset, Bytes data);
  // Makes a completely written share durable and visible (see the order above). Errors:
  // kNotFound, kFailedPrecondition (bytes never written, or already closing), kIoError.
  Task<Status> close(StorageIndex si, std::uint32_t share_number, std::uint64_t upload_id);
  Task<Status> abort(StorageIndex si, std::uint32_t share_number, std::uint64_t upload_id);

  // allocate, write and close in one call, for shares sent whole (all of one size, at most
  // kWriteBytesMax together): each share allocated is written and closed, in share-number
  // order, with close's durability. Errors: those of allocate, kInvalidArgument (no shares,
  // sizes differ, too many bytes); a write or close failure is the call's error when nothing
  // was stored, else that share (and any after it) is in neither list of the result.
  Task<Result<PutResult>> put(StorageIndex si, std::vector<PutShare> shares,
                              LeaseSecretBytes renew_secret, LeaseSecretBytes cancel_secret,
                              std::string peer);

  // Shares held for `si`, ascending (empty if none).
  Task<Result<std::vector<ShareInfo>>> get_buckets(StorageIndex si);
  // At most kReadBytesMax bytes from `offset`; short at the end, empty past it. kNotFound when
  // the share is not held; kCorruption when its container is damaged.
  Task<Result<Bytes>> read(StorageIndex si, std::uint32_t share_number, std::uint64_t offset,
                           std::uint64_t length);

  // Test-and-set on the mutable shares of `si`: all test vectors of all shares are checked
  // (a missing share reads as empty); only if every one matches are all writes applied, and
  // atomically (copy-on-write files switched by one synced KV batch). The first write to `si`
  // stores `write_enabler`; later writes must present it (kPermissionDenied otherwise). Each
  // written share gets or renews the lease. Errors: kInvalidArgument (share numbers, vector
  // counts, sizes over kMutableShareBytesMax or the server's maximum), kFailedPrecondition (`si`
  // holds immutable shares), kPermissionDenied (read-only or wrong enabler), kNoSpace.
  Task<Result<SlotWriteResult>> slot_write(StorageIndex si, WriteEnablerBytes write_enabler,
                                           LeaseSecretBytes renew_secret,
                                           LeaseSecretBytes cancel_secret,
                                           std::vector<SlotShareWrite> shares);
  // Ranges of mutable shares (all held ones when `share_numbers` is empty); shares not held are
  // left out. Total length at most kReadBytesMax.
  Task<Result<std::map<std::uint32_t, std::vector<Bytes>>>> slot_read(
      StorageIndex si, std::vector<std::uint32_t> share_numbers, std::vector<ReadVector> vectors);

  // Renews the lease with this renew secret on every share of `si`, or adds one with both
  // secrets. Returns how many shares carry it. kPermissionDenied if a lease with the same id
  // but a different renew secret exists (never happens by chance: ids are 64 bits of secret).
  Task<Result<std::uint32_t>> add_lease(StorageIndex si, LeaseSecretBytes renew_secret,
                                        LeaseSecretBytes cancel_secret);
  // add_lease for many storage indexes (at most kBatchMax), all in one synced KV write: every
  // lease is added or renewed, or (an error) none is. Per target, how many shares carry it.
  struct LeaseTarget {
    StorageIndex si{};
    LeaseSecretBytes renew{};
    LeaseSecretBytes cancel{};
  };
  Task<Result<std::vector<std::uint32_t>>> add_leases(std::vector<LeaseTarget> targets);
  // Removes the leases with this cancel secret; shares left without a lease are deleted.
  // A secret that matches nothing is kPermissionDenied and changes nothing.
  Task<Result<CancelResult>> cancel_lease(StorageIndex si, LeaseSecretBytes cancel_secret);

  // Records a client's report that a share is corrupt (bounded: kCorruptionReportsMax per share).
  Task<Status> advise_corrupt(StorageIndex si, std::uint32_t share_number, std::string reporter,
                              std::string reason);

  Task<Result<SpaceInfo>> space();

  // Aborts uploads idle for longer than the timeout; returns how many. run_maintenance calls it.
  Task<std::size_t> expire_idle_uploads();
  // Runs the periodic chores until the server is destroyed: idle uploads, and the garbage
  // collector's slices and cycles (unless gc.mode is kOff).
  Task<void> run_maintenance();
  // One slice of the collector from where the last one stopped (the position is kept in the KV
  // store, so a restart resumes mid-cycle). True when the slice finished a cycle.
  Task<Result<bool>> gc_slice();
  const GcStats& gc_stats() const { return gc_stats_; }

  const StorageStats& stats() const { return stats_; }
  const StorageOptions& options() const { return options_; }
  std::size_t open_uploads() const { return uploads_.size(); }

 private:
  struct Upload;
  using UploadKey = std::pair<StorageIndex, std::uint32_t>;

  StorageServer(Env* env, StorageOptions options);
  Task<Status> start();
  Task<Status> discard_incoming();
  Task<Status> reconcile();
  Task<Status> remove_upload(const UploadKey& key, bool count_abort);
  Task<Result<std::uint32_t>> add_lease_locked(StorageIndex si, std::vector<std::uint32_t> shnums,
                                               LeaseSecretBytes renew, LeaseSecretBytes cancel);
  // What add_lease_locked writes, put into `batch`; `added` holds the lease keys `batch` already
  // creates (they count towards the bound on leases per share). Caller holds mutate_.
  Task<Status> lease_into(WriteBatch* batch, std::map<std::string, LeaseSecretBytes>* added,
                          const StorageIndex& si, const std::vector<std::uint32_t>& shnums,
                          const LeaseSecretBytes& renew, const LeaseSecretBytes& cancel,
                          std::int64_t now);
  Task<Status> delete_share(const StorageIndex& si, std::uint32_t share_number);
  // Deletes shares whose leases have all expired (by the expiry index, soonest first) until
  // `want` bytes are freed or none is left. Caller holds mutate_.
  Task<Result<std::uint64_t>> reclaim_expired(std::uint64_t want);
  bool lease_expired(std::int64_t granted_ns, std::int64_t expires_ns, std::int64_t now_ns) const;
  Task<void> run_gc();
  Task<Status> ensure_dir(const std::string& path);
  Upload* find_upload(const StorageIndex& si, std::uint32_t share_number, std::uint64_t upload_id);
  std::uint64_t promised_bytes() const;

  std::string share_dir(const StorageIndex& si) const;
  std::string share_path(const StorageIndex& si, std::uint32_t share_number) const;
  std::string slot_path(const StorageIndex& si, std::uint32_t share_number,
                        std::uint64_t generation) const;
  // Ranges [offset, offset + length) of a mutable share, each clipped at its end.
  Task<Result<std::vector<Bytes>>> load_slot_ranges(const StorageIndex& si,
                                                    std::uint32_t share_number,
                                                    std::uint64_t generation, std::uint64_t size,
                                                    const std::vector<ReadVector>& ranges);
  // Applies an in-place write journal (the bytes of a SlotJournal) to the share files, synced.
  Task<Status> apply_slot_journal(const StorageIndex& si, const std::string& journal);
  Task<Result<Bytes>> load_slot(const StorageIndex& si, std::uint32_t share_number,
                                std::uint64_t generation, std::uint64_t size);
  std::string incoming_path(const StorageIndex& si, std::uint32_t share_number) const;

  Env* env_;
  StorageOptions options_;
  std::map<UploadKey, std::shared_ptr<Upload>> uploads_;
  std::map<std::string, std::size_t> uploads_per_peer_;
  std::uint64_t used_bytes_ = 0;
  // Serialises changes to share and lease records (read-modify-write of the KV store) and the
  // moves into shares/. Short critical sections; data writes to incoming files do not take it.
  Semaphore mutate_;
  // Set while uploads_ is not empty: the idle-upload check sleeps on it instead of waking a
  // server with nothing open every few minutes (hundreds of idle servers in a simulated year).
  Event uploads_open_;
  StorageStats stats_;
  GcStats gc_stats_;
};

}  // namespace lafs::storage
