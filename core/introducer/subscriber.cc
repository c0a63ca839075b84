// The subscribing loop and the cache file: verify everything, keep the newest, write atomically.
#include "core/introducer/subscriber.h"

#include <algorithm>

#include "core/proto/introducer.pb.h"

namespace lafs::introducer {

Subscriber::Subscriber(Env* env, rpc::RpcPool* pool, rpc::Peer introducer,
                       SubscriberOptions options)
    : env_(env), pool_(pool), introducer_(std::move(introducer)), options_(std::move(options)) {
  LAFS_ASSERT(options_.poll_interval > Duration(0));
  LAFS_ASSERT(options_.call_timeout > Duration(0));
  LAFS_ASSERT(options_.servers_max > 0 && options_.servers_max <= kAnnouncementsMax);
}

Status Subscriber::offer(const SignedAnnouncement& s) {
  auto ann = verify_announcement(s);
  if (!ann.ok()) {
    ++stats_.dropped_bad;
    env_->logger().log(LogLevel::kWarning, "subscriber",
                       "dropped announcement: " + ann.status().to_string());
    return ann.status();
  }
  const std::string key = ann->key_hex();
  auto it = servers_.find(key);
  if (it != servers_.end() && it->second.sequence_number >= ann->sequence_number) {
    ++stats_.dropped_older;
    return already_exists("holding sequence " + std::to_string(it->second.sequence_number) +
                          " for " + key + "; offered " + std::to_string(ann->sequence_number));
  }
  if (it == servers_.end() && servers_.size() >= options_.servers_max) {
    ++stats_.dropped_full;
    return resource_exhausted("holding " + std::to_string(servers_.size()) + " servers");
  }
  servers_[key] = *ann;
  signed_[key] = s;
  ++stats_.accepted;
  ++version_;
  LAFS_ASSERT(servers_.size() == signed_.size());
  if (on_change_) on_change_(servers_.at(key));
  return Status{};
}

Task<Status> Subscriber::poll_round() {
  for (std::size_t page = 0; page < kPollPagesMax; ++page) {
    pb::PollRequest req;
    req.set_instance(instance_);
    req.set_since_generation(since_);
    Bytes payload = to_bytes(req.SerializeAsString());
    std::string method(kMethodPoll);
    auto reply =
        co_await pool_->call(introducer_, method, std::move(payload), options_.call_timeout);
    if (!reply.ok()) co_return reply.status();
    pb::PollResponse r;
    if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size()))) {
      co_return protocol_error("introducer.poll: reply does not parse");
    }
    if (static_cast<std::size_t>(r.announcements_size()) > kPollBatchMax) {
      co_return protocol_error("introducer.poll: " + std::to_string(r.announcements_size()) +
                               " announcements in one reply; at most " +
                               std::to_string(kPollBatchMax));
    }
    for (const pb::SignedAnnouncement& p : r.announcements()) {
      Status kept = offer(from_proto(p));  // dropped ones are counted and logged by offer()
      (void)kept;
    }
    instance_ = r.instance();
    since_ = r.generation();
    if (!r.more()) co_return Status{};
  }
  co_return Status{};  // the rest on the next round
}

Task<Status> Subscriber::write_cache() {
  pb::Cache cache;
  cache.set_version(kCacheVersion);
  for (const auto& [key, s] : signed_) to_proto(s, cache.add_announcements());
  const Bytes data = to_bytes(cache.SerializeAsString());
  const std::string tmp = options_.cache_path + ".tmp";
  OpenOptions oo;
  oo.create = true;
  oo.truncate = true;
  auto file = co_await env_->disk().open(tmp, oo);
  if (!file.ok()) co_return file.status().with_context("writing introducer cache");
  ByteView view(data);
  LAFS_CO_RETURN_IF_ERROR((co_await (*file)->write_at(0, view)).with_context("writing cache"));
  LAFS_CO_RETURN_IF_ERROR((co_await (*file)->sync()).with_context("syncing cache"));
  file->reset();
  std::string to = options_.cache_path;
  LAFS_CO_RETURN_IF_ERROR((co_await env_->disk().rename(tmp, to)).with_context("renaming cache"));
  std::string dir = parent_dir(options_.cache_path);
  LAFS_CO_RETURN_IF_ERROR((co_await env_->disk().sync_dir(dir)).with_context("syncing cache dir"));
  ++stats_.cache_writes;
  co_return Status{};
}

Task<Status> Subscriber::load_cache() {
  OpenOptions oo;
  oo.read_only = true;
  auto file = co_await env_->disk().open(options_.cache_path, oo);
  if (!file.ok() && file.status().code() == ErrorCode::kNotFound) co_return Status{};
  if (!file.ok()) co_return file.status().with_context("opening introducer cache");
  auto size = co_await (*file)->size();
  if (!size.ok()) co_return size.status().with_context("introducer cache");
  if (*size > kCacheBytesMax) {
    co_return corruption("introducer cache has " + std::to_string(*size) + " bytes; at most " +
                         std::to_string(kCacheBytesMax));
  }
  Bytes data(static_cast<std::size_t>(*size));
  MutableByteView out(data);
  auto n = co_await (*file)->read_at(0, out);
  if (!n.ok()) co_return n.status().with_context("reading introducer cache");
  pb::Cache cache;
  if (*n != data.size() || !cache.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    co_return corruption("introducer cache does not parse");
  }
  if (cache.version() != kCacheVersion) {
    co_return corruption("introducer cache version " + std::to_string(cache.version()) +
                         " is not " + std::to_string(kCacheVersion));
  }
  for (const pb::SignedAnnouncement& p : cache.announcements()) {
    if (offer(from_proto(p)).is_ok()) ++stats_.cache_loaded;
  }
  cached_version_ = version_;
  co_return Status{};
}

Task<void> Subscriber::run() {
  for (;;) {
    Status s = co_await poll_round();
    Duration wait = options_.poll_interval;
    if (s.is_ok()) {
      failures_ = 0;
      ++stats_.polls;
      if (version_ != cached_version_) {
        const std::uint64_t writing = version_;
        Status w = co_await write_cache();
        if (w.is_ok()) {
          cached_version_ = writing;
        } else {
          env_->logger().log(LogLevel::kWarning, "subscriber", w.to_string());
        }
      }
    } else {
      ++stats_.poll_failures;
      failures_ = std::min<std::uint32_t>(failures_ + 1, 64);
      wait = backoff_delay(env_->random(), options_.backoff, failures_);
      stats_.delay_max = std::max(stats_.delay_max, wait);
      env_->logger().log(LogLevel::kWarning, "subscriber",
                         "poll failed (" + std::to_string(failures_) + " in a row, next in " +
                             std::to_string(to_seconds_f(wait)) + " s): " + s.to_string());
    }
    co_await sleep_for(env_->executor(), wait);
  }
}

}  // namespace lafs::introducer
