// introducer.publish / introducer.poll: verify, keep the newest per node, hand out by generation.
#include "core/introducer/introducer_server.h"

#include <utility>

#include "core/proto/introducer.pb.h"

namespace lafs::introducer {
namespace {

Bytes to_payload(const std::string& s) {
  return to_bytes(s);
}

Task<Result<Bytes>> do_publish(IntroducerServer* self, Bytes payload, std::string peer) {
  pb::PublishRequest req;
  if (payload.size() > kSignedAnnouncementBytesMax + 16 ||
      !req.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    co_return invalid_argument("introducer.publish: request does not parse or is too large");
  }
  auto out = self->publish(from_proto(req.announcement()), peer);
  if (!out.ok()) co_return out.status().with_context("introducer.publish");
  pb::PublishResponse r;
  r.set_accepted(out->accepted);
  r.set_stored_sequence(out->stored_sequence);
  r.set_instance(self->instance());
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_poll(IntroducerServer* self, Bytes payload) {
  pb::PollRequest req;
  if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    co_return invalid_argument("introducer.poll: request does not parse");
  }
  PollOutcome out = self->poll(req.instance(), req.since_generation());
  pb::PollResponse r;
  r.set_instance(out.instance);
  r.set_generation(out.generation);
  r.set_more(out.more);
  for (const SignedAnnouncement& s : out.announcements) to_proto(s, r.add_announcements());
  co_return to_payload(r.SerializeAsString());
}

}  // namespace

IntroducerServer::IntroducerServer(Env* env, IntroducerOptions options)
    : env_(env), options_(options), instance_(0) {
  LAFS_ASSERT(options_.announcements_max > 0);
  LAFS_ASSERT(options_.announcements_max <= kAnnouncementsMax);
  while (instance_ == 0) instance_ = env_->random().next_u64();  // 0 means "none" on the wire
}

void IntroducerServer::register_methods(rpc::RpcServer& rpc) {
  rpc.add_method(std::string(kMethodPublish), [this](Bytes p, rpc::CallContext c) {
    return do_publish(this, std::move(p), c.peer_key_hex);
  });
  rpc.add_method(std::string(kMethodPoll),
                 [this](Bytes p, rpc::CallContext) { return do_poll(this, std::move(p)); });
}

Status IntroducerServer::refuse(Status s) {
  ++stats_.refused;
  env_->logger().log(LogLevel::kWarning, "introducer", "refused announcement: " + s.to_string());
  return s;
}

Result<PublishOutcome> IntroducerServer::publish(const SignedAnnouncement& s,
                                                 const std::string& peer_key_hex) {
  auto ann = verify_announcement(s);
  if (!ann.ok()) return refuse(ann.status());
  const std::string key = ann->key_hex();
  if (!peer_key_hex.empty() && peer_key_hex != key) {
    return refuse(permission_denied("node " + peer_key_hex + " published for node " + key));
  }
  const MonoTime now = env_->clock().monotonic_now();
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    Entry& e = it->second;
    if (ann->sequence_number < e.sequence ||
        (ann->sequence_number == e.sequence && s.body != e.signed_ann.body)) {
      ++stats_.refreshed;  // not an error: the publisher learns the stored number and moves on
      return PublishOutcome{false, e.sequence};
    }
    e.last_heard = now;
    if (ann->sequence_number == e.sequence) {
      ++stats_.refreshed;
      return PublishOutcome{true, e.sequence};
    }
    by_gen_.erase(e.generation);
  } else if (by_key_.size() >= options_.announcements_max && !make_room()) {
    return refuse(resource_exhausted("introducer holds " + std::to_string(by_key_.size()) +
                                     " announcements, its maximum"));
  }
  Entry& e = by_key_[key];
  e.signed_ann = s;
  e.sequence = ann->sequence_number;
  e.generation = ++generation_;
  e.last_heard = now;
  by_gen_[e.generation] = key;
  ++stats_.published;
  LAFS_ASSERT(by_gen_.size() == by_key_.size());
  return PublishOutcome{true, e.sequence};
}

// Evicts the node heard from least recently, if it is stale.
bool IntroducerServer::make_room() {
  auto oldest = by_key_.end();
  for (auto it = by_key_.begin(); it != by_key_.end(); ++it) {
    if (oldest == by_key_.end() || it->second.last_heard < oldest->second.last_heard) oldest = it;
  }
  if (oldest == by_key_.end()) return false;
  if (env_->clock().monotonic_now() - oldest->second.last_heard < options_.stale_after) {
    return false;
  }
  by_gen_.erase(oldest->second.generation);
  by_key_.erase(oldest);
  ++stats_.evicted;
  return true;
}

PollOutcome IntroducerServer::poll(std::uint64_t instance, std::uint64_t since) {
  ++stats_.polls;
  if (instance != instance_) since = 0;  // restarted (or first poll): start over
  PollOutcome out;
  out.instance = instance_;
  out.generation = generation_;
  for (auto it = by_gen_.upper_bound(since); it != by_gen_.end(); ++it) {
    if (out.announcements.size() == kPollBatchMax) {
      out.more = true;
      break;
    }
    out.announcements.push_back(by_key_.at(it->second).signed_ann);
    out.generation = it->first;
  }
  if (!out.more) out.generation = generation_;
  LAFS_ASSERT(out.announcements.size() <= kPollBatchMax);
  return out;
}

}  // namespace lafs::introducer
