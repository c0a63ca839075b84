// The introducer: storage servers publish signed announcements, clients poll for them. It keeps
// only announcements whose signature verifies, the newest (highest sequence number) per node
// key, and at most `announcements_max` node keys. State lives in memory only: after a restart
// publishers re-publish and subscribers fall back on their caches (docs/specs/introducer.md).
//
// Polling: every accepted change gets the next generation number; poll(instance, since) returns
// the announcements changed after `since`, in generation order, at most kPollBatchMax at a time.
// A poll naming another instance (the introducer restarted) gets everything from the start.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/introducer/announcement.h"
#include "core/introducer/limits.h"
#include "core/rpc/rpc_server.h"

namespace lafs::introducer {

struct IntroducerOptions {
  std::size_t announcements_max = kAnnouncementsMax;
  // When full, a node not heard from this long may be evicted to admit a new one.
  Duration stale_after = hours(1);
};

struct IntroducerStats {
  std::uint64_t published = 0;  // accepted (new or newer)
  std::uint64_t refreshed = 0;  // the same announcement again
  std::uint64_t refused = 0;    // bad signature, limits, older, wrong peer, full
  std::uint64_t evicted = 0;
  std::uint64_t polls = 0;
};

struct PublishOutcome {
  bool accepted = false;  // false: the stored sequence number is as new or newer
  std::uint64_t stored_sequence = 0;
};

struct PollOutcome {
  std::uint64_t instance = 0;
  std::uint64_t generation = 0;
  bool more = false;
  std::vector<SignedAnnouncement> announcements;
};

class IntroducerServer {
 public:
  IntroducerServer(Env* env, IntroducerOptions options = {});
  IntroducerServer(const IntroducerServer&) = delete;
  IntroducerServer& operator=(const IntroducerServer&) = delete;

  // Registers introducer.publish and introducer.poll. `this` must outlive `rpc`.
  void register_methods(rpc::RpcServer& rpc);

  // Verifies and stores. `peer_key_hex`, when not empty, must be the announced node key: a node
  // publishes only for itself. Errors: verify_announcement's, PermissionDenied (wrong peer),
  // ResourceExhausted (full of fresh announcements).
  Result<PublishOutcome> publish(const SignedAnnouncement& s, const std::string& peer_key_hex);

  PollOutcome poll(std::uint64_t instance, std::uint64_t since_generation);

  std::uint64_t instance() const { return instance_; }
  std::size_t size() const { return by_key_.size(); }
  const IntroducerStats& stats() const { return stats_; }

 private:
  struct Entry {
    SignedAnnouncement signed_ann;
    std::uint64_t sequence = 0;
    std::uint64_t generation = 0;
    MonoTime last_heard;
  };
  bool make_room();
  Status refuse(Status s);

  Env* env_;
  IntroducerOptions options_;
  std::uint64_t instance_;
  std::uint64_t generation_ = 0;
  std::map<std::string, Entry> by_key_;          // key hex -> entry
  std::map<std::uint64_t, std::string> by_gen_;  // generation -> key hex
  IntroducerStats stats_;
};

}  // namespace lafs::introducer
