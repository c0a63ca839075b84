// Publisher: the storage-server side. Signs the node's announcement and publishes it to the
// introducer at once when it changes and every `republish_interval` otherwise, so an introducer
// that restarted (and forgot everything) hears from every server again within one interval.
// Failures back off exponentially within named bounds; every call has a timeout.
//
// Sequence numbers must grow across restarts of the node, or subscribers holding the old
// announcement would refuse the new one: the next number is max(last persisted + 1, wall time in
// ns, the introducer's stored number + 1), and it is written to the KV store (synced) before use.
#pragma once

#include <cstdint>
#include <string>

#include "core/env/env.h"
#include "core/introducer/announcement.h"
#include "core/introducer/backoff.h"
#include "core/rpc/rpc_pool.h"
#include "core/runtime/event.h"

namespace lafs::introducer {

struct PublisherOptions {
  Duration republish_interval = minutes(10);
  Duration call_timeout = seconds(10);
  BackoffOptions backoff;
  std::string sequence_key = "introducer/publisher/sequence";  // in the node's KV store
};

struct PublisherStats {
  std::uint64_t publishes = 0;       // calls answered "accepted"
  std::uint64_t failures = 0;        // calls that failed (network, timeout, refusal)
  std::uint64_t behind = 0;          // the introducer held a newer sequence number than ours
  std::uint64_t instances_seen = 0;  // distinct introducer instances (restarts + 1)
  Duration delay_max{0};             // the longest backoff waited
};

class Publisher {
 public:
  // `pool` and `key` must outlive the publisher. announcement.node_key is set from `key`.
  Publisher(Env* env, rpc::RpcPool* pool, rpc::Peer introducer, const net::NodeKey* key,
            Announcement announcement, PublisherOptions options = {});
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Replaces what is announced (sequence number and time are set when signing); published soon.
  void update(Announcement announcement);
  const Announcement& current() const { return announcement_; }

  // Runs until its scope is cancelled.
  Task<void> run();

  const PublisherStats& stats() const { return stats_; }
  std::uint64_t last_instance() const { return last_instance_; }

 private:
  Task<Status> sign_next();
  Task<Status> publish_once();

  Env* env_;
  rpc::RpcPool* pool_;
  rpc::Peer introducer_;
  const net::NodeKey* key_;
  Announcement announcement_;
  PublisherOptions options_;
  Event changed_;
  bool dirty_ = true;
  std::optional<SignedAnnouncement> signed_;
  std::uint64_t sequence_floor_ = 0;  // the next number must be at least this
  std::uint64_t last_instance_ = 0;
  PublisherStats stats_;
};

// co_await wait_for_event(ex, ev, d): OK when `ev` is set, Timeout after `d`.
Task<Status> wait_for_event(Executor* ex, Event* ev, Duration d);

}  // namespace lafs::introducer
