// The publishing loop: sign when changed, publish, back off on failure, republish periodically.
#include "core/introducer/publisher.h"

#include <algorithm>
#include <charconv>

#include "core/introducer/limits.h"
#include "core/proto/introducer.pb.h"
#include "core/runtime/when.h"

namespace lafs::introducer {
namespace {

Task<Status> event_set(Event* ev) {
  co_await ev->wait();
  co_return Status{};
}

}  // namespace

Task<Status> wait_for_event(Executor* ex, Event* ev, Duration d) {
  return with_timeout(*ex, d, event_set(ev), "wait");
}

Publisher::Publisher(Env* env, rpc::RpcPool* pool, rpc::Peer introducer, const net::NodeKey* key,
                     Announcement announcement, PublisherOptions options)
    : env_(env),
      pool_(pool),
      introducer_(std::move(introducer)),
      key_(key),
      announcement_(std::move(announcement)),
      options_(std::move(options)),
      changed_(env->executor()) {
  LAFS_ASSERT(options_.republish_interval > Duration(0));
  LAFS_ASSERT(options_.call_timeout > Duration(0));
  announcement_.node_key = key_->public_key();
}

void Publisher::update(Announcement announcement) {
  announcement_ = std::move(announcement);
  announcement_.node_key = key_->public_key();
  dirty_ = true;
  changed_.set();
}

Task<Status> Publisher::sign_next() {
  auto stored = co_await env_->kv().get(options_.sequence_key);
  if (!stored.ok()) co_return stored.status().with_context("reading publisher sequence");
  std::uint64_t next = sequence_floor_;
  if (stored->has_value()) {
    std::uint64_t last = 0;
    const std::string& v = **stored;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), last);
    if (ec != std::errc() || end != v.data() + v.size()) {
      co_return corruption("publisher sequence record is not a number");
    }
    next = std::max(next, last + 1);
  }
  const WallTime now = env_->clock().wall_now();
  next = std::max<std::uint64_t>(
      next, static_cast<std::uint64_t>(std::max<std::int64_t>(0, now.time_since_epoch().count())));
  WriteBatch batch;
  batch.put(options_.sequence_key, std::to_string(next));
  Status w = co_await env_->kv().write(std::move(batch), true);
  if (!w.is_ok()) co_return w.with_context("writing publisher sequence");
  Announcement a = announcement_;
  a.sequence_number = next;
  a.issued = now;
  auto s = sign_announcement(*key_, a);
  if (!s.ok()) co_return s.status();
  signed_ = std::move(*s);
  sequence_floor_ = next + 1;
  dirty_ = false;
  co_return Status{};
}

Task<Status> Publisher::publish_once() {
  if (dirty_ || !signed_.has_value()) {
    Status s = co_await sign_next();
    if (!s.is_ok()) co_return s;
  }
  pb::PublishRequest req;
  to_proto(*signed_, req.mutable_announcement());
  Bytes payload = to_bytes(req.SerializeAsString());
  std::string method(kMethodPublish);
  auto reply = co_await pool_->call(introducer_, method, std::move(payload), options_.call_timeout);
  if (!reply.ok()) co_return reply.status();
  pb::PublishResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size()))) {
    co_return protocol_error("introducer.publish: reply does not parse");
  }
  if (r.instance() != last_instance_) {
    last_instance_ = r.instance();
    ++stats_.instances_seen;
  }
  if (!r.accepted()) {
    // The introducer holds our key at a newer number (an earlier life of this node, or a
    // replay): sign again above it.
    ++stats_.behind;
    sequence_floor_ = std::max(sequence_floor_, r.stored_sequence() + 1);
    dirty_ = true;
    co_return failed_precondition("introducer holds sequence " +
                                  std::to_string(r.stored_sequence()));
  }
  ++stats_.publishes;
  co_return Status{};
}

Task<void> Publisher::run() {
  std::uint32_t failures = 0;
  for (;;) {
    changed_.reset();
    Status s = co_await publish_once();
    Duration wait = options_.republish_interval;
    if (s.is_ok()) {
      failures = 0;
    } else if (s.code() == ErrorCode::kFailedPrecondition && dirty_ && failures == 0) {
      failures = 1;  // behind: sign again at once, but only once before backing off
      continue;
    } else {
      ++stats_.failures;
      failures = std::min<std::uint32_t>(failures + 1, 64);
      wait = backoff_delay(env_->random(), options_.backoff, failures);
      stats_.delay_max = std::max(stats_.delay_max, wait);
      env_->logger().log(LogLevel::kWarning, "publisher",
                         "publish failed (" + std::to_string(failures) + " in a row, next in " +
                             std::to_string(to_seconds_f(wait)) + " s): " + s.to_string());
    }
    Status woke = co_await wait_for_event(&env_->executor(), &changed_, wait);
    (void)woke;  // OK: changed; Timeout: time to republish or retry
  }
}

}  // namespace lafs::introducer
