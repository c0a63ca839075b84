// The checker, verifier and repairer (docs/checker.md). For any cap (a verify cap is enough to
// check, verify and, for immutable files, repair): ask the servers which shares they hold,
// optionally read and verify every block of every share, optionally add or renew this client's
// lease, and judge health. Repair regenerates missing or corrupt shares and places them by
// servers-of-happiness on servers that hold none; it never deletes or overwrites a good share.
// Runs on any Env.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/cap/cap.h"
#include "core/client/immutable_client.h"
#include "core/client/mutable_client.h"
#include "core/env/env.h"
#include "core/rpc/rpc_pool.h"

namespace lafs::client {

struct CheckerOptions {
  Duration call_timeout = seconds(30);
  // Storage indexes per get_buckets call when checking many files: one request per server per
  // batch, not one per file per server (the storage protocol's bound, storage::kBatchMax).
  std::size_t batch_max = 1000;
  std::size_t read_chunk_bytes = 512 << 10;  // per storage.read when verifying
  // Which servers are asked about a file: the first max(survey_width_min, 2n) of its permuted
  // ring, then the next as many while the last ones still held shares (or fewer than k are
  // found), as uploads place shares and downloads look for them. A grid of hundreds of servers
  // is not asked about every file. `survey_all` asks every server about every file (exhaustive,
  // for audits).
  std::size_t survey_width_min = 16;
  bool survey_all = false;
};

struct CheckOptions {
  bool verify = false;     // read every block of every share and check it against its trees
  bool add_lease = false;  // add or renew this client's lease on every share found
};

// A share the verifier found damaged (its server has been advised).
struct CorruptShare {
  std::uint32_t share = 0;
  std::string server;  // node key hex
  std::string problem;
};

// A version of a mutable file seen in good share headers.
struct VersionSeen {
  MutableVersion version;
  std::uint32_t distinct_shares = 0;
  bool recoverable = false;  // at least k distinct good shares
};

struct CheckResult {
  bool is_mutable = false;
  bool is_literal = false;    // no shares: always healthy
  std::string storage_index;  // hex; empty for literals
  std::uint32_t needed = 0, happy = 0, total = 0;
  // Servers asked, and those that answered.
  std::uint32_t servers_queried = 0, servers_responding = 0;
  // Good shares (of the newest recoverable version, for mutable files) as (server, share)
  // pairs; their distinct share numbers; the servers holding at least one.
  std::uint32_t shares_found = 0, distinct_shares = 0, good_hosts = 0;
  std::uint32_t happiness = 0;  // servers-of-happiness of the good shares
  bool recoverable = false;     // at least k distinct good shares
  // All n distinct shares present and happiness >= min(happy, servers that answered).
  bool healthy = false;
  std::map<std::uint32_t, std::vector<std::string>> share_map;  // share -> server key hexes
  std::vector<CorruptShare> corrupt;                            // verify only
  std::vector<VersionSeen> versions;                            // mutable only, newest first
  std::uint32_t leases_renewed = 0;  // shares whose lease add_lease added or renewed
  std::string summary;               // one line: "healthy", or what is missing
};

struct RepairOptions {
  // Repair only when fewer than this many distinct good shares remain (0: whenever unhealthy).
  std::uint32_t repair_below_shares = 0;

  // Whether a file checked as `r` is below the threshold (its health aside).
  bool below_threshold(const CheckResult& r) const {
    return repair_below_shares == 0 || r.distinct_shares < repair_below_shares;
  }
};

struct RepairResult {
  bool attempted = false;
  bool successful = false;  // healthy after the repair (or before it, needing none)
  std::uint32_t shares_written = 0;
  std::uint64_t bytes_written = 0;  // share bytes the repair wrote
  CheckResult before;
  std::optional<CheckResult> after;  // when attempted
  std::string problem;               // why the repair did not reach health
};

// What a checker did over the network, for cost reports.
struct CheckerStats {
  std::uint64_t rpcs = 0;           // calls made
  std::uint64_t bytes_read = 0;     // share bytes read (verify, repair)
  std::uint64_t bytes_written = 0;  // share bytes written (repair)
};

class Checker {
 public:
  // `immutable` and `mutable_client` (with the same pool and secrets) must outlive it.
  Checker(Env* env, rpc::RpcPool* pool, const ClientSecrets* secrets, ImmutableClient* immutable,
          MutableClient* mutable_client, CheckerOptions options = {});

  // `happy` is the happiness a healthy file needs (capped by the servers that answered).
  // Errors: InvalidArgument for a cap that names no file (none today); server failures are
  // part of the result, never an error.
  Task<Result<CheckResult>> check(cap::Cap cap, std::vector<ServerRef> servers, std::uint32_t happy,
                                  CheckOptions options);

  // Many caps at once, results in the same order: the share listing is batched (one
  // get_buckets per server per batch_max files); mutable headers and verify reads then go only
  // to the servers holding shares.
  Task<std::vector<Result<CheckResult>>> check_many(std::vector<cap::Cap> caps,
                                                    std::vector<ServerRef> servers,
                                                    std::uint32_t happy, CheckOptions options);

  // Checks (with `options`), then repairs if unhealthy (and below the threshold), then checks
  // again. Immutable files need at least a verify cap, mutable ones a write cap (the write
  // enabler); a weaker cap gets PermissionDenied only when a repair is needed.
  Task<Result<RepairResult>> check_and_repair(cap::Cap cap, std::vector<ServerRef> servers,
                                              std::uint32_t happy, CheckOptions options,
                                              RepairOptions repair = {});

  const CheckerStats& stats() const { return stats_; }
  Env* env() const { return env_; }

 private:
  struct Listing;
  // `expect[i]` is file i's (k, n) when its cap says so, else (1, 0): it decides how far along
  // the ring the listing goes.
  Task<std::vector<Listing>> list_shares(
      const std::vector<crypto::StorageIndex>& sis,
      const std::vector<std::pair<std::uint32_t, std::uint32_t>>& expect,
      const std::vector<ServerRef>& servers);
  // Adds or renews this client's lease on every listed share: one add_lease call per server
  // per batch of files. Shares leased, per file.
  Task<std::vector<std::uint32_t>> add_leases(const std::vector<crypto::StorageIndex>& sis,
                                              const std::vector<Listing>& listings,
                                              const std::vector<ServerRef>& servers);
  Task<CheckResult> judge_immutable(const cap::ChkVerifyCap& vcap, const Listing& listing,
                                    const std::vector<ServerRef>& servers, std::uint32_t happy,
                                    CheckOptions options);
  Task<CheckResult> judge_mutable(const cap::Cap& cap, const Listing& listing,
                                  const std::vector<ServerRef>& servers, std::uint32_t happy,
                                  CheckOptions options);
  Task<Result<std::pair<std::uint32_t, std::uint64_t>>> repair_immutable(
      const cap::ChkVerifyCap& vcap, const std::vector<ServerRef>& servers, std::uint32_t happy,
      const std::set<ImmutableClient::ShareOnServer>& distrusted);
  Task<Result<std::pair<std::uint32_t, std::uint64_t>>> repair_mutable(
      const cap::SskWriteCap& wcap, const std::vector<ServerRef>& servers, std::uint32_t happy,
      const std::set<ImmutableClient::ShareOnServer>& distrusted);

  Env* env_;
  rpc::RpcPool* pool_;
  const ClientSecrets* secrets_;
  ImmutableClient* immutable_;
  MutableClient* mutable_;
  CheckerOptions options_;
  CheckerStats stats_;
};

}  // namespace lafs::client
