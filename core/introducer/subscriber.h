// Subscriber: the client side. Polls the introducer, verifies every announcement again (the
// introducer is not trusted: unsigned or badly signed ones are dropped and logged), keeps the
// newest per node key, and caches what it holds on disk so that after a restart it works from
// the cache while the introducer is down. Failed polls back off exponentially within named
// bounds; every call has a timeout. Cache format and protocol: docs/specs/introducer.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/env/env.h"
#include "core/introducer/announcement.h"
#include "core/introducer/backoff.h"
#include "core/introducer/limits.h"
#include "core/rpc/rpc_pool.h"

namespace lafs::introducer {

struct SubscriberOptions {
  Duration poll_interval = seconds(30);
  Duration call_timeout = seconds(10);
  BackoffOptions backoff;
  std::string cache_path = "introducer_cache.pb";  // on the node's Disk; its directory must exist
  std::size_t servers_max = kAnnouncementsMax;
};

struct SubscriberStats {
  std::uint64_t polls = 0;          // successful poll rounds
  std::uint64_t poll_failures = 0;  // failed poll rounds
  std::uint64_t accepted = 0;       // new or newer announcements taken
  std::uint64_t dropped_bad = 0;    // failed verification (signature, limits, version)
  std::uint64_t dropped_older = 0;  // not newer than the one held
  std::uint64_t dropped_full = 0;   // a new node while holding servers_max
  std::uint64_t cache_writes = 0;
  std::uint64_t cache_loaded = 0;  // announcements taken from the cache at start
  Duration delay_max{0};           // the longest backoff waited
};

class Subscriber {
 public:
  using ChangeCallback = std::function<void(const Announcement&)>;

  // `pool` must outlive the subscriber.
  Subscriber(Env* env, rpc::RpcPool* pool, rpc::Peer introducer, SubscriberOptions options = {});
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Loads the cache (every entry verified again). A missing cache is OK; an unreadable or
  // corrupt one is reported (the subscriber then starts empty).
  Task<Status> load_cache();

  // Polls until its scope is cancelled.
  Task<void> run();

  // Verifies `s` and keeps it if it is newer than what is held for its node. OK when kept.
  // Errors: verify_announcement's; AlreadyExists (not newer); ResourceExhausted (full).
  Status offer(const SignedAnnouncement& s);

  // Current servers by node key hex. Changes only on the executor's thread.
  const std::map<std::string, Announcement>& servers() const { return servers_; }
  // Called after a server is added or replaced.
  void on_change(ChangeCallback cb) { on_change_ = std::move(cb); }
  // Bumped on every change; cheap to compare for "anything new?".
  std::uint64_t version() const { return version_; }

  const SubscriberStats& stats() const { return stats_; }
  std::uint32_t consecutive_failures() const { return failures_; }

 private:
  Task<Status> poll_round();
  Task<Status> write_cache();

  Env* env_;
  rpc::RpcPool* pool_;
  rpc::Peer introducer_;
  SubscriberOptions options_;
  std::map<std::string, Announcement> servers_;
  std::map<std::string, SignedAnnouncement> signed_;
  ChangeCallback on_change_;
  std::uint64_t version_ = 0;
  std::uint64_t cached_version_ = 0;  // version_ when the cache was last written
  std::uint64_t instance_ = 0;
  std::uint64_t since_ = 0;
  std::uint32_t failures_ = 0;
  SubscriberStats stats_;
};

}  // namespace lafs::introducer
