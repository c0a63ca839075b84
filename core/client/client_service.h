// The client side of a node: learns storage servers from the introducer (every announcement
// verified by the subscriber) and uploads and downloads immutable files through them. One per
// node; used by the simulator's grids and by the real node alike.
#pragma once

#include <memory>
#include <vector>

#include "core/client/immutable_client.h"
#include "core/introducer/subscriber.h"

namespace lafs::client {

struct ClientServiceOptions {
  introducer::SubscriberOptions subscriber;
  ImmutableClientOptions immutable;
  EncodingParams encoding;  // defaults for uploads: 3-of-10, happy 7, 128 KiB segments
};

class ClientService {
 public:
  // `pool` (with the node's key) and `secrets` must outlive the service.
  ClientService(Env* env, rpc::RpcPool* pool, rpc::Peer introducer, const ClientSecrets* secrets,
                ClientServiceOptions options = {});

  // Loads the cached announcements, then keeps polling the introducer until cancelled.
  Task<void> run();

  // The storage servers currently known (from announcements that are not read-only or are;
  // placement decides), each at its first announced address.
  std::vector<ServerRef> servers() const;
  std::size_t server_count() const { return subscriber_.servers().size(); }

  Task<Result<UploadResult>> upload(ByteSource* source, bool convergent = true);
  Task<Result<UploadResult>> upload(Bytes plaintext, bool convergent = true);
  Task<Result<Bytes>> download(cap::Cap cap);
  Task<Status> download_range(cap::Cap cap, std::uint64_t offset, std::uint64_t length,
                              ImmutableClient::Sink sink);

  introducer::Subscriber& subscriber() { return subscriber_; }
  ImmutableClient& immutable() { return immutable_; }
  const ClientServiceOptions& options() const { return options_; }

 private:
  Env* env_;
  ClientServiceOptions options_;
  introducer::Subscriber subscriber_;
  ImmutableClient immutable_;
};

}  // namespace lafs::client
