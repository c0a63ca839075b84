// The node's client service (core/client/client_service.h).
#include "core/client/client_service.h"

namespace lafs::client {

ClientService::ClientService(Env* env, rpc::RpcPool* pool, rpc::Peer introducer,
                             const ClientSecrets* secrets, ClientServiceOptions options)
    : env_(env),
      options_(std::move(options)),
      subscriber_(env, pool, std::move(introducer), options_.subscriber),
      immutable_(env, pool, secrets, options_.immutable) {}

Task<void> ClientService::run() {
  Status loaded = co_await subscriber_.load_cache();
  if (!loaded.is_ok() && loaded.code() != ErrorCode::kNotFound) {
    env_->logger().log(LogLevel::kWarning, "client",
                       "introducer cache not used: " + loaded.to_string());
  }
  co_await subscriber_.run();
}

std::vector<ServerRef> ClientService::servers() const {
  std::vector<ServerRef> out;
  for (const auto& [hex, a] : subscriber_.servers()) {
    if (a.addresses.empty()) continue;
    out.push_back(ServerRef{a.node_key, a.addresses.front()});
  }
  return out;
}

Task<Result<UploadResult>> ClientService::upload(ByteSource* source, bool convergent) {
  std::vector<ServerRef> known = servers();
  co_return co_await immutable_.upload_from(source, std::move(known), options_.encoding,
                                            convergent);
}

Task<Result<UploadResult>> ClientService::upload(Bytes plaintext, bool convergent) {
  MemorySource source(plaintext);
  co_return co_await upload(&source, convergent);
}

Task<Result<Bytes>> ClientService::download(cap::Cap cap) {
  std::vector<ServerRef> known = servers();
  co_return co_await immutable_.download(std::move(cap), std::move(known));
}

Task<Status> ClientService::download_range(cap::Cap cap, std::uint64_t offset, std::uint64_t length,
                                           ImmutableClient::Sink sink) {
  std::vector<ServerRef> known = servers();
  co_return co_await immutable_.download_range(std::move(cap), std::move(known), offset, length,
                                               std::move(sink));
}

}  // namespace lafs::client
