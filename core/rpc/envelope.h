// Encoding, decoding and validation of RPC envelopes (core/proto/rpc.proto).
#pragma once

#include <cstdint>
#include <string>

#include "core/env/bytes.h"
#include "core/proto/rpc.pb.h"
#include "core/runtime/status.h"

namespace lafs::rpc {

Bytes encode_envelope(const Envelope& e);

// Parses a frame into an envelope and checks every limit (method length, payload size, kind).
// ProtocolError for garbage. A version above ours parses fine: the caller answers it.
Result<Envelope> decode_envelope(ByteView frame);

Envelope make_request(std::uint64_t id, std::string method, Bytes payload,
                      std::uint64_t timeout_ms);
Envelope make_response(std::uint64_t id, const Result<Bytes>& result);

// The result a response carries: its payload or its error.
Result<Bytes> response_result(const Envelope& e);

}  // namespace lafs::rpc
