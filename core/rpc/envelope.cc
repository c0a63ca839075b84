#include "core/rpc/envelope.h"

#include "core/rpc/rpc.h"

namespace lafs::rpc {

Bytes encode_envelope(const Envelope& e) {
  Bytes out(e.ByteSizeLong());
  LAFS_ASSERT(e.SerializeToArray(out.data(), static_cast<int>(out.size())));
  return out;
}

Result<Envelope> decode_envelope(ByteView frame) {
  if (frame.size() > kPayloadBytesMax + 1024 + kErrorMessageBytesMax) {
    return protocol_error("envelope of " + std::to_string(frame.size()) + " bytes is too large");
  }
  Envelope e;
  if (!e.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return protocol_error("garbled envelope");
  }
  if (e.kind() != Envelope::KIND_REQUEST && e.kind() != Envelope::KIND_RESPONSE) {
    return protocol_error("envelope of unknown kind " + std::to_string(e.kind()));
  }
  if (e.method().size() > kMethodBytesMax) {
    return protocol_error("method name longer than " + std::to_string(kMethodBytesMax) + " bytes");
  }
  if (e.payload().size() > kPayloadBytesMax) {
    return protocol_error("payload of " + std::to_string(e.payload().size()) +
                          " bytes exceeds the limit of " + std::to_string(kPayloadBytesMax));
  }
  if (e.error_message().size() > kErrorMessageBytesMax) {
    return protocol_error("error message longer than " + std::to_string(kErrorMessageBytesMax));
  }
  return e;
}

Envelope make_request(std::uint64_t id, std::string method, Bytes payload,
                      std::uint64_t timeout_ms) {
  Envelope e;
  e.set_version(kEnvelopeVersion);
  e.set_request_id(id);
  e.set_kind(Envelope::KIND_REQUEST);
  e.set_method(std::move(method));
  e.set_payload(payload.data(), payload.size());
  e.set_timeout_ms(timeout_ms);
  return e;
}

Envelope make_response(std::uint64_t id, const Result<Bytes>& result) {
  Envelope e;
  e.set_version(kEnvelopeVersion);
  e.set_request_id(id);
  e.set_kind(Envelope::KIND_RESPONSE);
  if (result.ok()) {
    e.set_payload(result->data(), result->size());
  } else {
    e.set_error_code(static_cast<std::uint32_t>(result.status().code()));
    std::string msg = result.status().message();
    if (msg.size() > kErrorMessageBytesMax) msg.resize(kErrorMessageBytesMax);
    e.set_error_message(std::move(msg));
  }
  return e;
}

Result<Bytes> response_result(const Envelope& e) {
  if (e.error_code() == 0) return to_bytes(e.payload());
  auto code = static_cast<ErrorCode>(e.error_code());
  if (e.error_code() > static_cast<std::uint32_t>(ErrorCode::kConflict)) {
    code = ErrorCode::kInternal;  // a newer peer's code we do not know
  }
  return Status(code, "peer: " + e.error_message());
}

}  // namespace lafs::rpc
