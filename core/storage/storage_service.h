// The storage protocol over RPC: the server side registers the storage.* methods on an
// RpcServer; the client side (StorageClient) calls one server through an RpcPool. Payloads are
// the messages of core/proto/storage.proto; every field a peer sends is checked against
// core/storage/limits.h before the server acts on it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/rpc/rpc_pool.h"
#include "core/rpc/rpc_server.h"
#include "core/storage/storage_server.h"

namespace lafs::storage {

// Registers storage.version, allocate, put, write, close, abort, get_buckets, read, add_lease,
// cancel_lease and advise_corrupt. `server` must outlive `rpc`.
void register_storage_methods(rpc::RpcServer& rpc, StorageServer* server);

// One storage server as a client sees it. Results mirror StorageServer's; errors keep the
// server's code and message (prefixed "peer: ") or are the transport's.
class StorageClient {
 public:
  StorageClient(rpc::RpcPool* pool, rpc::Peer peer, Duration timeout)
      : pool_(pool), peer_(std::move(peer)), timeout_(timeout) {}

  Task<Result<SpaceInfo>> version();
  Task<Result<AllocateResult>> allocate(const StorageIndex& si,
                                        const std::vector<std::uint32_t>& share_numbers,
                                        std::uint64_t share_bytes,
                                        const LeaseSecretBytes& renew_secret,
                                        const LeaseSecretBytes& cancel_secret);
  // allocate + write + close of whole shares of one size (at most kWriteBytesMax together).
  struct ShareBytes {
    std::uint32_t share_number = 0;
    ByteView data;
  };
  Task<Result<PutResult>> put(const StorageIndex& si, const std::vector<ShareBytes>& shares,
                              const LeaseSecretBytes& renew_secret,
                              const LeaseSecretBytes& cancel_secret);
  Task<Status> write(const StorageIndex& si, std::uint32_t share_number, std::uint64_t upload_id,
                     std::uint64_t offset, ByteView data);
  Task<Status> close(const StorageIndex& si, std::uint32_t share_number, std::uint64_t upload_id);
  Task<Status> abort(const StorageIndex& si, std::uint32_t share_number, std::uint64_t upload_id);
  // One result per storage index (at most kBatchMax).
  Task<Result<std::vector<std::vector<ShareInfo>>>> get_buckets(
      const std::vector<StorageIndex>& sis);
  Task<Result<Bytes>> read(const StorageIndex& si, std::uint32_t share_number, std::uint64_t offset,
                           std::uint64_t length);
  Task<Result<std::uint32_t>> add_lease(const StorageIndex& si, const LeaseSecretBytes& renew,
                                        const LeaseSecretBytes& cancel);
  // Many at once (at most kBatchMax): one call renews or adds the lease on every share of each
  // storage index, in one synced write on the server; how many shares carry it, per target in
  // order. One failing target fails the call and changes nothing: retry those one by one.
  struct LeaseRequest {
    StorageIndex si{};
    LeaseSecretBytes renew{};
    LeaseSecretBytes cancel{};
  };
  Task<Result<std::vector<std::uint32_t>>> add_leases(const std::vector<LeaseRequest>& targets);
  Task<Result<CancelResult>> cancel_lease(const StorageIndex& si, const LeaseSecretBytes& cancel);
  Task<Status> advise_corrupt(const StorageIndex& si, std::uint32_t share_number,
                              std::string reason);
  Task<Result<SlotWriteResult>> slot_write(const StorageIndex& si,
                                           const WriteEnablerBytes& write_enabler,
                                           const LeaseSecretBytes& renew,
                                           const LeaseSecretBytes& cancel,
                                           const std::vector<SlotShareWrite>& shares);
  Task<Result<std::map<std::uint32_t, std::vector<Bytes>>>> slot_read(
      const StorageIndex& si, const std::vector<std::uint32_t>& share_numbers,
      const std::vector<ReadVector>& vectors);

 private:
  Task<Result<Bytes>> call(std::string_view method, std::string request);
  // close and abort: the same request, two methods.
  Task<Status> finish(std::string_view method, const StorageIndex& si, std::uint32_t shnum,
                      std::uint64_t upload_id);

  rpc::RpcPool* pool_;
  rpc::Peer peer_;
  Duration timeout_;
};

}  // namespace lafs::storage
