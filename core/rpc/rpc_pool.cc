#include "core/rpc/rpc_pool.h"

#include "core/runtime/when.h"

namespace lafs::rpc {

namespace {
template <typename A>
Task<Status> wait_for(std::shared_ptr<A> attempt) {
  co_await attempt->done.wait();
  co_return attempt->error;
}
}  // namespace

RpcPool::RpcPool(Env* env, const net::NodeKey* key, RpcPoolOptions options)
    : env_(env), key_(key), options_(options), scope_(env->executor()) {
  LAFS_ASSERT(options_.connections_max > 0);
  scope_.spawn(reaper(this));
}

RpcPool::~RpcPool() {
  scope_.cancel();
  for (auto& [k, e] : entries_) {
    if (e.channel) e.channel->close();
  }
}

std::string RpcPool::key_of(const Peer& p) {
  return p.address + "|" + net::to_hex(p.key);
}

std::size_t RpcPool::open_channels() const {
  std::size_t n = 0;
  for (const auto& [k, e] : entries_) n += (e.channel && !e.channel->broken()) ? 1 : 0;
  return n;
}

Task<Result<Bytes>> RpcPool::call(Peer peer, std::string method, Bytes payload, Duration timeout) {
  return do_call(this, std::move(peer), std::move(method), std::move(payload), timeout);
}

Task<Result<Bytes>> RpcPool::do_call(RpcPool* self, Peer peer, std::string method, Bytes payload,
                                     Duration timeout) {
  const MonoTime deadline = self->env_->executor().now() + timeout;
  auto ch = co_await self->channel_for(peer, deadline);
  if (!ch.ok()) {
    self->note_contact(peer.key, ch.status());
    co_return ch.status();
  }
  const Duration left = deadline - self->env_->executor().now();
  auto answer = co_await (*ch)->call(std::move(method), std::move(payload), left);
  // An error status from the peer is still an answer; only transport failures count against it.
  const bool reached = answer.ok() || (answer.status().code() != ErrorCode::kUnavailable &&
                                       answer.status().code() != ErrorCode::kTimeout);
  self->note_contact(peer.key, reached ? Status{} : answer.status());
  co_return answer;
}

void RpcPool::note_contact(const net::PublicKey& key, const Status& outcome) {
  auto it = contacts_.find(key);
  if (it == contacts_.end()) {
    if (contacts_.size() >= options_.contacts_max) {
      // Drop the peer heard from longest ago (never-answered peers first).
      auto oldest = contacts_.begin();
      for (auto c = contacts_.begin(); c != contacts_.end(); ++c) {
        if (c->second.last_success.value_or(MonoTime{}) <
            oldest->second.last_success.value_or(MonoTime{})) {
          oldest = c;
        }
      }
      contacts_.erase(oldest);
    }
    it = contacts_.emplace(key, PeerContact{}).first;
  }
  const MonoTime now = env_->executor().now();
  if (outcome.is_ok()) {
    it->second.last_success = now;
  } else {
    it->second.last_failure = now;
    it->second.last_error = outcome.message();
  }
}

const PeerContact* RpcPool::contact(const net::PublicKey& key) const {
  auto it = contacts_.find(key);
  return it == contacts_.end() ? nullptr : &it->second;
}

Task<Result<std::shared_ptr<RpcChannel>>> RpcPool::channel_for(Peer peer, MonoTime deadline) {
  const std::string k = key_of(peer);
  for (;;) {
    auto it = entries_.find(k);
    if (it != entries_.end() && it->second.channel) {
      if (!it->second.channel->broken()) co_return it->second.channel;
      entries_.erase(it);  // broken: reconnect below
      continue;
    }
    if (it != entries_.end()) {  // someone else is connecting: wait for them
      Status waited = co_await with_deadline(
          env_->executor(), deadline, wait_for(it->second.attempt), "connect to " + peer.address);
      if (!waited.is_ok()) co_return waited;
      continue;  // connected: the next turn finds the channel
    }
    auto attempt = std::make_shared<Attempt>(env_->executor());
    entries_[k] = Entry{nullptr, attempt};
    // Whatever happens to this frame (failure, cancellation), waiters are released and a
    // half-made entry does not linger.
    struct Guard {
      RpcPool* pool;
      std::string key;
      std::shared_ptr<Attempt> attempt;
      ~Guard() {
        auto it = pool->entries_.find(key);
        if (it != pool->entries_.end() && !it->second.channel) pool->entries_.erase(it);
        attempt->done.set();
      }
    } guard{this, k, attempt};
    net::SecureOptions so = options_.secure;
    const Duration left = deadline - env_->executor().now();
    if (left < so.handshake_timeout) so.handshake_timeout = left;
    ++stats_.connects;
    auto conn = co_await net::secure_connect(env_, peer.address, key_, peer.key, so);
    if (!conn.ok()) {
      ++stats_.connect_failures;
      attempt->error = conn.status();
      co_return conn.status();
    }
    auto ch = RpcChannel::start(env_->executor(), std::move(*conn));
    attempt->error = Status{};
    entries_[k] = Entry{ch, nullptr};
    evict_if_over();
    co_return ch;
  }
}

void RpcPool::evict_if_over() {
  while (open_channels() > options_.connections_max) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      auto& ch = it->second.channel;
      if (!ch || ch->in_flight() > 0) continue;
      if (victim == entries_.end() || ch->last_used() < victim->second.channel->last_used()) {
        victim = it;
      }
    }
    if (victim == entries_.end()) return;  // all busy: over the bound until some finish
    victim->second.channel->close();
    entries_.erase(victim);
    ++stats_.evictions;
  }
}

Task<void> RpcPool::reaper(RpcPool* self) {
  for (;;) {
    co_await sleep_for(self->env_->executor(), self->options_.idle_timeout / 2);
    const MonoTime now = self->env_->executor().now();
    for (auto it = self->entries_.begin(); it != self->entries_.end();) {
      auto& ch = it->second.channel;
      const bool idle =
          ch && ch->in_flight() == 0 && now - ch->last_used() >= self->options_.idle_timeout;
      if (ch && (idle || ch->broken())) {
        if (idle) ++self->stats_.idle_closes;
        ch->close();
        it = self->entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace lafs::rpc
