// RpcPool: secure RPC channels to peers, opened on demand and shared by concurrent calls,
// bounded in number (least recently used idle channels are closed first) and closed after an
// idle period, so a client of 500 servers does not hold 500 sockets while it rests.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/env/env.h"
#include "core/net/node_key.h"
#include "core/net/secure_channel.h"
#include "core/rpc/rpc_channel.h"
#include "core/runtime/event.h"
#include "core/runtime/scope.h"

namespace lafs::rpc {

struct Peer {
  std::string address;
  net::PublicKey key;
};

struct RpcPoolOptions {
  std::size_t connections_max = 32;     // open channels at most (busy ones may exceed it briefly)
  std::size_t contacts_max = 4096;      // peers whose last contact is remembered (oldest dropped)
  Duration idle_timeout = seconds(60);  // close a channel unused this long
  net::SecureOptions secure;
};

// What the pool last saw of one peer (by node key), for status pages.
struct PeerContact {
  std::optional<MonoTime> last_success;  // the last call that got an answer
  std::optional<MonoTime> last_failure;  // the last call that did not
  std::string last_error;
};

struct RpcPoolStats {
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t evictions = 0;
  std::uint64_t idle_closes = 0;
};

class RpcPool {
 public:
  RpcPool(Env* env, const net::NodeKey* key, RpcPoolOptions options);
  RpcPool(const RpcPool&) = delete;
  RpcPool& operator=(const RpcPool&) = delete;
  ~RpcPool();

  // Calls `method` on `peer`, connecting first if needed; `timeout` bounds the whole call,
  // including the connect. Errors as RpcChannel::call, plus the secure connect's.
  Task<Result<Bytes>> call(Peer peer, std::string method, Bytes payload, Duration timeout);

  std::size_t open_channels() const;
  // The last contact with the peer whose node key is `key`; null if none is remembered.
  const PeerContact* contact(const net::PublicKey& key) const;
  const RpcPoolStats& stats() const { return stats_; }

 private:
  // One connect in progress; callers for the same peer wait for it instead of connecting too.
  struct Attempt {
    explicit Attempt(Executor& ex) : done(ex) {}
    Event done;
    Status error = unavailable("connect abandoned");
  };
  struct Entry {
    std::shared_ptr<RpcChannel> channel;  // null while connecting
    std::shared_ptr<Attempt> attempt;     // set while connecting
  };
  static Task<Result<Bytes>> do_call(RpcPool* self, Peer peer, std::string method, Bytes payload,
                                     Duration timeout);
  static Task<void> reaper(RpcPool* self);
  Task<Result<std::shared_ptr<RpcChannel>>> channel_for(Peer peer, MonoTime deadline);
  void evict_if_over();
  void note_contact(const net::PublicKey& key, const Status& outcome);
  static std::string key_of(const Peer& p);

  Env* env_;
  const net::NodeKey* key_;
  RpcPoolOptions options_;
  RpcPoolStats stats_;
  std::map<std::string, Entry> entries_;
  std::map<net::PublicKey, PeerContact> contacts_;  // by node key (bytes: the hex order)
  Scope scope_;                                     // the reaper; last, so it dies first
};

}  // namespace lafs::rpc
