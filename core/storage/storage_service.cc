// storage.* methods: parse, check every peer-supplied field against its bound, act, answer.
#include "core/storage/storage_service.h"

#include <utility>

#include "core/proto/storage.pb.h"

namespace lafs::storage {
namespace {

Bytes to_payload(const std::string& s) {
  return to_bytes(s);
}

template <typename Message>
Result<Message> parse(const Bytes& payload, std::string_view method) {
  Message m;
  if (!m.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return invalid_argument(std::string(method) + ": request does not parse");
  }
  return m;
}

Result<StorageIndex> to_si(const std::string& bytes, std::string_view method) {
  if (bytes.size() != kStorageIndexBytes) {
    return invalid_argument(std::string(method) + ": storage index has " +
                            std::to_string(bytes.size()) + " bytes, want " +
                            std::to_string(kStorageIndexBytes));
  }
  StorageIndex si;
  std::copy(bytes.begin(), bytes.end(), si.begin());
  return si;
}

Result<LeaseSecretBytes> to_secret(const std::string& bytes, std::string_view method,
                                   std::string_view which) {
  if (bytes.size() != kLeaseSecretBytes) {
    return invalid_argument(std::string(method) + ": " + std::string(which) + " has " +
                            std::to_string(bytes.size()) + " bytes, want " +
                            std::to_string(kLeaseSecretBytes));
  }
  LeaseSecretBytes s;
  std::copy(bytes.begin(), bytes.end(), s.begin());
  return s;
}

Result<std::uint32_t> to_shnum(std::uint32_t n, std::string_view method) {
  if (n >= kShareNumbersMax) {
    return invalid_argument(std::string(method) + ": share number " + std::to_string(n) +
                            " is not below " + std::to_string(kShareNumbersMax));
  }
  return n;
}

std::string si_bytes(const StorageIndex& si) {
  return to_string(si);
}
std::string secret_bytes(const LeaseSecretBytes& s) {
  return to_string(s);
}

#define LAFS_TRY_ASSIGN(var, expr)                         \
  auto var##_result = (expr);                              \
  if (!var##_result.ok()) co_return var##_result.status(); \
  auto var = std::move(*var##_result)

Task<Result<Bytes>> do_version(StorageServer* server) {
  auto space = co_await server->space();
  if (!space.ok()) co_return space.status();
  pb::VersionResponse r;
  r.set_protocol_version(kProtocolVersion);
  r.set_maximum_share_bytes(space->max_share_bytes);
  r.set_available_bytes(space->available_bytes);
  r.set_read_only(space->read_only);
  r.set_max_batch(static_cast<std::uint32_t>(kBatchMax));
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_allocate(StorageServer* server, Bytes payload, std::string peer) {
  constexpr std::string_view m = kMethodAllocate;
  LAFS_TRY_ASSIGN(req, parse<pb::AllocateRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(renew, to_secret(req.renew_secret(), m, "renew secret"));
  LAFS_TRY_ASSIGN(cancel, to_secret(req.cancel_secret(), m, "cancel secret"));
  if (req.share_numbers_size() > static_cast<int>(kShareNumbersMax)) {
    co_return invalid_argument(std::string(m) + ": more than " + std::to_string(kShareNumbersMax) +
                               " share numbers");
  }
  std::vector<std::uint32_t> shnums(req.share_numbers().begin(), req.share_numbers().end());
  auto result = co_await server->allocate(si, std::move(shnums), req.share_bytes(), renew, cancel,
                                          std::move(peer));
  if (!result.ok()) co_return result.status();
  pb::AllocateResponse r;
  for (std::uint32_t n : result->already_have) r.add_already_have(n);
  for (const Allocation& a : result->allocated) {
    auto* out = r.add_allocated();
    out->set_share_number(a.share_number);
    out->set_upload_id(a.upload_id);
  }
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_put(StorageServer* server, Bytes payload, std::string peer) {
  constexpr std::string_view m = kMethodPut;
  LAFS_TRY_ASSIGN(req, parse<pb::PutRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(renew, to_secret(req.renew_secret(), m, "renew secret"));
  LAFS_TRY_ASSIGN(cancel, to_secret(req.cancel_secret(), m, "cancel secret"));
  if (req.shares_size() > static_cast<int>(kShareNumbersMax)) {
    co_return invalid_argument(std::string(m) + ": more than " + std::to_string(kShareNumbersMax) +
                               " shares");
  }
  // (The request as a whole is bounded by the RPC frame; the server checks the total.)
  std::vector<PutShare> shares;
  shares.reserve(static_cast<std::size_t>(req.shares_size()));
  for (pb::PutShare& sh : *req.mutable_shares()) {
    LAFS_TRY_ASSIGN(n, to_shnum(sh.share_number(), m));
    shares.push_back(PutShare{n, to_bytes(sh.data())});
  }
  auto result = co_await server->put(si, std::move(shares), renew, cancel, std::move(peer));
  if (!result.ok()) co_return result.status();
  pb::PutResponse r;
  for (std::uint32_t n : result->already_have) r.add_already_have(n);
  for (std::uint32_t n : result->stored) r.add_stored(n);
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_write(StorageServer* server, Bytes payload) {
  constexpr std::string_view m = kMethodWrite;
  LAFS_TRY_ASSIGN(req, parse<pb::WriteRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(shnum, to_shnum(req.share_number(), m));
  if (req.data().size() > kWriteBytesMax) {
    co_return invalid_argument(std::string(m) + ": " + std::to_string(req.data().size()) +
                               " bytes exceeds " + std::to_string(kWriteBytesMax));
  }
  Status s = co_await server->write(si, shnum, req.upload_id(), req.offset(), to_bytes(req.data()));
  if (!s.is_ok()) co_return s;
  co_return Bytes{};
}

Task<Result<Bytes>> do_finish(StorageServer* server, Bytes payload, bool close) {
  const std::string_view m = close ? kMethodClose : kMethodAbort;
  LAFS_TRY_ASSIGN(req, parse<pb::FinishRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(shnum, to_shnum(req.share_number(), m));
  // Not a conditional expression: g++ 12 mis-destroys temporaries of co_await inside ?:.
  Status s;
  if (close) {
    s = co_await server->close(si, shnum, req.upload_id());
  } else {
    s = co_await server->abort(si, shnum, req.upload_id());
  }
  if (!s.is_ok()) co_return s;
  co_return Bytes{};
}

Task<Result<Bytes>> do_get_buckets(StorageServer* server, Bytes payload) {
  constexpr std::string_view m = kMethodGetBuckets;
  LAFS_TRY_ASSIGN(req, parse<pb::GetBucketsRequest>(payload, m));
  if (req.storage_indexes_size() > static_cast<int>(kBatchMax)) {
    co_return invalid_argument(std::string(m) + ": " + std::to_string(req.storage_indexes_size()) +
                               " storage indexes; at most " + std::to_string(kBatchMax));
  }
  std::vector<StorageIndex> sis;
  for (const std::string& b : req.storage_indexes()) {
    LAFS_TRY_ASSIGN(si, to_si(b, m));
    sis.push_back(si);
  }
  pb::GetBucketsResponse r;
  for (const StorageIndex& si : sis) {
    auto held = co_await server->get_buckets(si);
    if (!held.ok()) co_return held.status();
    auto* out = r.add_buckets();
    for (const ShareInfo& h : *held) {
      out->add_share_numbers(h.share_number);
      out->add_share_bytes(h.share_bytes);
    }
  }
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_read(StorageServer* server, Bytes payload) {
  constexpr std::string_view m = kMethodRead;
  LAFS_TRY_ASSIGN(req, parse<pb::ReadRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(shnum, to_shnum(req.share_number(), m));
  auto data = co_await server->read(si, shnum, req.offset(), req.length());
  if (!data.ok()) co_return data.status();
  pb::ReadResponse r;
  r.set_data(to_string(*data));
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_add_lease(StorageServer* server, Bytes payload) {
  constexpr std::string_view m = kMethodAddLease;
  LAFS_TRY_ASSIGN(req, parse<pb::AddLeaseRequest>(payload, m));
  if (req.targets_size() > static_cast<int>(kBatchMax)) {
    co_return invalid_argument(std::string(m) + ": " + std::to_string(req.targets_size()) +
                               " targets; at most " + std::to_string(kBatchMax));
  }
  std::vector<StorageServer::LeaseTarget> targets;
  targets.reserve(static_cast<std::size_t>(req.targets_size()));
  for (const pb::LeaseTarget& t : req.targets()) {
    LAFS_TRY_ASSIGN(si, to_si(t.storage_index(), m));
    LAFS_TRY_ASSIGN(renew, to_secret(t.renew_secret(), m, "renew secret"));
    LAFS_TRY_ASSIGN(cancel, to_secret(t.cancel_secret(), m, "cancel secret"));
    targets.push_back({si, renew, cancel});
  }
  auto leased = co_await server->add_leases(std::move(targets));
  if (!leased.ok()) co_return leased.status();
  pb::AddLeaseResponse r;
  for (std::uint32_t n : *leased) r.add_shares_leased(n);
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_cancel_lease(StorageServer* server, Bytes payload) {
  constexpr std::string_view m = kMethodCancelLease;
  LAFS_TRY_ASSIGN(req, parse<pb::CancelLeaseRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(cancel, to_secret(req.cancel_secret(), m, "cancel secret"));
  auto result = co_await server->cancel_lease(si, cancel);
  if (!result.ok()) co_return result.status();
  pb::CancelLeaseResponse r;
  r.set_leases_cancelled(result->leases_cancelled);
  r.set_shares_deleted(result->shares_deleted);
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_advise_corrupt(StorageServer* server, Bytes payload, std::string peer) {
  constexpr std::string_view m = kMethodAdviseCorrupt;
  LAFS_TRY_ASSIGN(req, parse<pb::AdviseCorruptRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(shnum, to_shnum(req.share_number(), m));
  if (req.reason().size() > kReasonBytesMax) {
    co_return invalid_argument(std::string(m) + ": reason over " + std::to_string(kReasonBytesMax) +
                               " bytes");
  }
  if (peer.size() > kReporterBytesMax) peer.resize(kReporterBytesMax);
  Status s = co_await server->advise_corrupt(si, shnum, std::move(peer), req.reason());
  if (!s.is_ok()) co_return s;
  co_return Bytes{};
}

Bytes to_bytes_of(const std::string& s) {
  return to_bytes(s);
}

Task<Result<Bytes>> do_slot_write(StorageServer* server, Bytes payload) {
  constexpr std::string_view m = kMethodSlotWrite;
  LAFS_TRY_ASSIGN(req, parse<pb::SlotWriteRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  LAFS_TRY_ASSIGN(enabler, to_secret(req.write_enabler(), m, "write enabler"));
  LAFS_TRY_ASSIGN(renew, to_secret(req.renew_secret(), m, "renew secret"));
  LAFS_TRY_ASSIGN(cancel, to_secret(req.cancel_secret(), m, "cancel secret"));
  if (req.shares_size() > static_cast<int>(kShareNumbersMax)) {
    co_return invalid_argument(std::string(m) + ": more than " + std::to_string(kShareNumbersMax) +
                               " shares");
  }
  std::vector<SlotShareWrite> shares;
  for (const pb::SlotShareWrite& w : req.shares()) {
    if (w.tests_size() > static_cast<int>(kVectorsMax) ||
        w.writes_size() > static_cast<int>(kVectorsMax)) {
      co_return invalid_argument(std::string(m) + ": more than " + std::to_string(kVectorsMax) +
                                 " test or write vectors for a share");
    }
    SlotShareWrite out;
    out.share_number = w.share_number();
    for (const pb::TestVector& t : w.tests()) {
      TestVector tv{t.offset(), to_bytes_of(t.expected()), std::nullopt};
      if (t.has_length()) tv.length = t.length();
      out.tests.push_back(std::move(tv));
    }
    for (const pb::WriteVector& v : w.writes())
      out.writes.push_back({v.offset(), to_bytes_of(v.data())});
    if (w.set_length()) out.new_length = w.new_length();
    shares.push_back(std::move(out));
  }
  WriteEnablerBytes we;
  std::copy(enabler.begin(), enabler.end(), we.begin());
  auto result = co_await server->slot_write(si, we, renew, cancel, std::move(shares));
  if (!result.ok()) co_return result.status();
  pb::SlotWriteResponse r;
  r.set_success(result->success);
  for (const auto& [n, slices] : result->current) {
    auto* c = r.add_current();
    c->set_share_number(n);
    for (const Bytes& b : slices) c->add_data(to_string(b));
  }
  co_return to_payload(r.SerializeAsString());
}

Task<Result<Bytes>> do_slot_read(StorageServer* server, Bytes payload) {
  constexpr std::string_view m = kMethodSlotRead;
  LAFS_TRY_ASSIGN(req, parse<pb::SlotReadRequest>(payload, m));
  LAFS_TRY_ASSIGN(si, to_si(req.storage_index(), m));
  if (req.share_numbers_size() > static_cast<int>(kShareNumbersMax) ||
      req.read_vectors_size() > static_cast<int>(kVectorsMax)) {
    co_return invalid_argument(std::string(m) + ": more than " + std::to_string(kShareNumbersMax) +
                               " share numbers or " + std::to_string(kVectorsMax) +
                               " read vectors");
  }
  std::vector<std::uint32_t> shnums(req.share_numbers().begin(), req.share_numbers().end());
  std::vector<ReadVector> vectors;
  for (const pb::ReadVector& v : req.read_vectors()) vectors.push_back({v.offset(), v.length()});
  auto result = co_await server->slot_read(si, std::move(shnums), std::move(vectors));
  if (!result.ok()) co_return result.status();
  pb::SlotReadResponse r;
  for (const auto& [n, slices] : *result) {
    auto* sh = r.add_shares();
    sh->set_share_number(n);
    for (const Bytes& b : slices) sh->add_data(to_string(b));
  }
  co_return to_payload(r.SerializeAsString());
}

}  // namespace

void register_storage_methods(rpc::RpcServer& rpc, StorageServer* server) {
  rpc.add_method(std::string(kMethodVersion),
                 [server](Bytes, rpc::CallContext) { return do_version(server); });
  rpc.add_method(std::string(kMethodAllocate), [server](Bytes p, rpc::CallContext c) {
    return do_allocate(server, std::move(p), c.peer_key_hex);
  });
  rpc.add_method(std::string(kMethodPut), [server](Bytes p, rpc::CallContext c) {
    return do_put(server, std::move(p), c.peer_key_hex);
  });
  rpc.add_method(std::string(kMethodWrite),
                 [server](Bytes p, rpc::CallContext) { return do_write(server, std::move(p)); });
  rpc.add_method(std::string(kMethodClose), [server](Bytes p, rpc::CallContext) {
    return do_finish(server, std::move(p), true);
  });
  rpc.add_method(std::string(kMethodAbort), [server](Bytes p, rpc::CallContext) {
    return do_finish(server, std::move(p), false);
  });
  rpc.add_method(std::string(kMethodGetBuckets), [server](Bytes p, rpc::CallContext) {
    return do_get_buckets(server, std::move(p));
  });
  rpc.add_method(std::string(kMethodRead),
                 [server](Bytes p, rpc::CallContext) { return do_read(server, std::move(p)); });
  rpc.add_method(std::string(kMethodAddLease), [server](Bytes p, rpc::CallContext) {
    return do_add_lease(server, std::move(p));
  });
  rpc.add_method(std::string(kMethodCancelLease), [server](Bytes p, rpc::CallContext) {
    return do_cancel_lease(server, std::move(p));
  });
  rpc.add_method(std::string(kMethodAdviseCorrupt), [server](Bytes p, rpc::CallContext c) {
    return do_advise_corrupt(server, std::move(p), c.peer_key_hex);
  });
  rpc.add_method(std::string(kMethodSlotWrite), [server](Bytes p, rpc::CallContext) {
    return do_slot_write(server, std::move(p));
  });
  rpc.add_method(std::string(kMethodSlotRead), [server](Bytes p, rpc::CallContext) {
    return do_slot_read(server, std::move(p));
  });
}

// ---- client ----

Task<Result<Bytes>> StorageClient::call(std::string_view method, std::string request) {
  return pool_->call(peer_, std::string(method), to_payload(request), timeout_);
}

Task<Result<SpaceInfo>> StorageClient::version() {
  auto reply = co_await call(kMethodVersion, pb::VersionRequest().SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::VersionResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size()))) {
    co_return protocol_error("storage.version: reply does not parse");
  }
  SpaceInfo info;
  info.available_bytes = r.available_bytes();
  info.max_share_bytes = r.maximum_share_bytes();
  info.read_only = r.read_only();
  co_return info;
}

Task<Result<AllocateResult>> StorageClient::allocate(const StorageIndex& si,
                                                     const std::vector<std::uint32_t>& shnums,
                                                     std::uint64_t share_bytes,
                                                     const LeaseSecretBytes& renew,
                                                     const LeaseSecretBytes& cancel) {
  pb::AllocateRequest req;
  req.set_storage_index(si_bytes(si));
  for (std::uint32_t n : shnums) req.add_share_numbers(n);
  req.set_share_bytes(share_bytes);
  req.set_renew_secret(secret_bytes(renew));
  req.set_cancel_secret(secret_bytes(cancel));
  auto reply = co_await call(kMethodAllocate, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::AllocateResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.already_have_size() > static_cast<int>(kShareNumbersMax) ||
      r.allocated_size() > static_cast<int>(kShareNumbersMax)) {
    co_return protocol_error("storage.allocate: malformed reply");
  }
  AllocateResult out;
  out.already_have.assign(r.already_have().begin(), r.already_have().end());
  for (const auto& a : r.allocated()) out.allocated.push_back({a.share_number(), a.upload_id()});
  co_return out;
}

Task<Result<PutResult>> StorageClient::put(const StorageIndex& si,
                                           const std::vector<ShareBytes>& shares,
                                           const LeaseSecretBytes& renew,
                                           const LeaseSecretBytes& cancel) {
  pb::PutRequest req;
  req.set_storage_index(si_bytes(si));
  for (const ShareBytes& sh : shares) {
    auto* out = req.add_shares();
    out->set_share_number(sh.share_number);
    out->set_data(to_string(sh.data));
  }
  req.set_renew_secret(secret_bytes(renew));
  req.set_cancel_secret(secret_bytes(cancel));
  auto reply = co_await call(kMethodPut, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::PutResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.already_have_size() > static_cast<int>(kShareNumbersMax) ||
      r.stored_size() > static_cast<int>(kShareNumbersMax)) {
    co_return protocol_error("storage.put: malformed reply");
  }
  PutResult out;
  out.already_have.assign(r.already_have().begin(), r.already_have().end());
  out.stored.assign(r.stored().begin(), r.stored().end());
  co_return out;
}

Task<Status> StorageClient::write(const StorageIndex& si, std::uint32_t shnum,
                                  std::uint64_t upload_id, std::uint64_t offset, ByteView data) {
  pb::WriteRequest req;
  req.set_storage_index(si_bytes(si));
  req.set_share_number(shnum);
  req.set_upload_id(upload_id);
  req.set_offset(offset);
  req.set_data(to_string(data));
  auto reply = co_await call(kMethodWrite, req.SerializeAsString());
  co_return reply.status();
}

Task<Status> StorageClient::finish(std::string_view method, const StorageIndex& si,
                                   std::uint32_t shnum, std::uint64_t upload_id) {
  pb::FinishRequest req;
  req.set_storage_index(si_bytes(si));
  req.set_share_number(shnum);
  req.set_upload_id(upload_id);
  auto reply = co_await call(method, req.SerializeAsString());
  co_return reply.status();
}

Task<Status> StorageClient::close(const StorageIndex& si, std::uint32_t shnum,
                                  std::uint64_t upload_id) {
  return finish(kMethodClose, si, shnum, upload_id);
}

Task<Status> StorageClient::abort(const StorageIndex& si, std::uint32_t shnum,
                                  std::uint64_t upload_id) {
  return finish(kMethodAbort, si, shnum, upload_id);
}

Task<Result<std::vector<std::vector<ShareInfo>>>> StorageClient::get_buckets(
    const std::vector<StorageIndex>& sis) {
  if (sis.size() > kBatchMax) {
    co_return invalid_argument("get_buckets: at most " + std::to_string(kBatchMax) +
                               " storage indexes per call");
  }
  pb::GetBucketsRequest req;
  for (const StorageIndex& si : sis) req.add_storage_indexes(si_bytes(si));
  auto reply = co_await call(kMethodGetBuckets, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::GetBucketsResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.buckets_size() != static_cast<int>(sis.size())) {
    co_return protocol_error("storage.get_buckets: malformed reply");
  }
  std::vector<std::vector<ShareInfo>> out;
  for (const auto& b : r.buckets()) {
    if (b.share_numbers_size() != b.share_bytes_size() ||
        b.share_numbers_size() > static_cast<int>(kShareNumbersMax)) {
      co_return protocol_error("storage.get_buckets: malformed reply");
    }
    std::vector<ShareInfo> held;
    for (int i = 0; i < b.share_numbers_size(); ++i) {
      held.push_back({b.share_numbers(i), b.share_bytes(i)});
    }
    out.push_back(std::move(held));
  }
  co_return out;
}

Task<Result<Bytes>> StorageClient::read(const StorageIndex& si, std::uint32_t shnum,
                                        std::uint64_t offset, std::uint64_t length) {
  pb::ReadRequest req;
  req.set_storage_index(si_bytes(si));
  req.set_share_number(shnum);
  req.set_offset(offset);
  req.set_length(length);
  auto reply = co_await call(kMethodRead, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::ReadResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.data().size() > length) {
    co_return protocol_error("storage.read: malformed reply or more bytes than asked");
  }
  co_return to_bytes(r.data());
}

Task<Result<std::uint32_t>> StorageClient::add_lease(const StorageIndex& si,
                                                     const LeaseSecretBytes& renew,
                                                     const LeaseSecretBytes& cancel) {
  pb::AddLeaseRequest req;
  auto* t = req.add_targets();
  t->set_storage_index(si_bytes(si));
  t->set_renew_secret(secret_bytes(renew));
  t->set_cancel_secret(secret_bytes(cancel));
  auto reply = co_await call(kMethodAddLease, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::AddLeaseResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.shares_leased_size() != 1) {
    co_return protocol_error("storage.add_lease: malformed reply");
  }
  co_return r.shares_leased(0);
}

Task<Result<std::vector<std::uint32_t>>> StorageClient::add_leases(
    const std::vector<LeaseRequest>& targets) {
  if (targets.size() > kBatchMax) {
    co_return invalid_argument("add_leases: at most " + std::to_string(kBatchMax) + " targets");
  }
  pb::AddLeaseRequest req;
  for (const LeaseRequest& l : targets) {
    auto* t = req.add_targets();
    t->set_storage_index(si_bytes(l.si));
    t->set_renew_secret(secret_bytes(l.renew));
    t->set_cancel_secret(secret_bytes(l.cancel));
  }
  auto reply = co_await call(kMethodAddLease, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::AddLeaseResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.shares_leased_size() != static_cast<int>(targets.size())) {
    co_return protocol_error("storage.add_lease: malformed reply");
  }
  co_return std::vector<std::uint32_t>(r.shares_leased().begin(), r.shares_leased().end());
}

Task<Result<CancelResult>> StorageClient::cancel_lease(const StorageIndex& si,
                                                       const LeaseSecretBytes& cancel) {
  pb::CancelLeaseRequest req;
  req.set_storage_index(si_bytes(si));
  req.set_cancel_secret(secret_bytes(cancel));
  auto reply = co_await call(kMethodCancelLease, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::CancelLeaseResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size()))) {
    co_return protocol_error("storage.cancel_lease: malformed reply");
  }
  co_return CancelResult{r.leases_cancelled(), r.shares_deleted()};
}

Task<Status> StorageClient::advise_corrupt(const StorageIndex& si, std::uint32_t shnum,
                                           std::string reason) {
  pb::AdviseCorruptRequest req;
  req.set_storage_index(si_bytes(si));
  req.set_share_number(shnum);
  req.set_reason(std::move(reason));
  auto reply = co_await call(kMethodAdviseCorrupt, req.SerializeAsString());
  co_return reply.status();
}

Task<Result<SlotWriteResult>> StorageClient::slot_write(const StorageIndex& si,
                                                        const WriteEnablerBytes& write_enabler,
                                                        const LeaseSecretBytes& renew,
                                                        const LeaseSecretBytes& cancel,
                                                        const std::vector<SlotShareWrite>& shares) {
  pb::SlotWriteRequest req;
  req.set_storage_index(si_bytes(si));
  req.set_write_enabler(to_string(write_enabler));
  req.set_renew_secret(secret_bytes(renew));
  req.set_cancel_secret(secret_bytes(cancel));
  for (const SlotShareWrite& w : shares) {
    auto* out = req.add_shares();
    out->set_share_number(w.share_number);
    for (const TestVector& t : w.tests) {
      auto* tv = out->add_tests();
      tv->set_offset(t.offset);
      tv->set_expected(to_string(t.expected));
      if (t.length) tv->set_length(*t.length);
    }
    for (const WriteVector& v : w.writes) {
      auto* wv = out->add_writes();
      wv->set_offset(v.offset);
      wv->set_data(to_string(v.data));
    }
    if (w.new_length) {
      out->set_set_length(true);
      out->set_new_length(*w.new_length);
    }
  }
  auto reply = co_await call(kMethodSlotWrite, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::SlotWriteResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.current_size() > static_cast<int>(kShareNumbersMax)) {
    co_return protocol_error("storage.slot_write: malformed reply");
  }
  SlotWriteResult out;
  out.success = r.success();
  for (const auto& c : r.current()) {
    if (c.data_size() > static_cast<int>(kVectorsMax)) {
      co_return protocol_error("storage.slot_write: malformed reply");
    }
    auto& slices = out.current[c.share_number()];
    for (const std::string& d : c.data()) slices.push_back(to_bytes(d));
  }
  co_return out;
}

Task<Result<std::map<std::uint32_t, std::vector<Bytes>>>> StorageClient::slot_read(
    const StorageIndex& si, const std::vector<std::uint32_t>& share_numbers,
    const std::vector<ReadVector>& vectors) {
  pb::SlotReadRequest req;
  req.set_storage_index(si_bytes(si));
  for (std::uint32_t n : share_numbers) req.add_share_numbers(n);
  for (const ReadVector& v : vectors) {
    auto* rv = req.add_read_vectors();
    rv->set_offset(v.offset);
    rv->set_length(v.length);
  }
  auto reply = co_await call(kMethodSlotRead, req.SerializeAsString());
  if (!reply.ok()) co_return reply.status();
  pb::SlotReadResponse r;
  if (!r.ParseFromArray(reply->data(), static_cast<int>(reply->size())) ||
      r.shares_size() > static_cast<int>(kShareNumbersMax)) {
    co_return protocol_error("storage.slot_read: malformed reply");
  }
  std::map<std::uint32_t, std::vector<Bytes>> out;
  for (const auto& sh : r.shares()) {
    if (sh.data_size() != static_cast<int>(vectors.size())) {
      co_return protocol_error("storage.slot_read: reply has the wrong number of ranges");
    }
    auto& slices = out[sh.share_number()];
    for (std::size_t i = 0; i < vectors.size(); ++i) {
      const std::string& d = sh.data(static_cast<int>(i));
      if (d.size() > vectors[i].length) {
        co_return protocol_error("storage.slot_read: more bytes than asked");
      }
      slices.push_back(to_bytes(d));
    }
  }
  co_return out;
}

}  // namespace lafs::storage
