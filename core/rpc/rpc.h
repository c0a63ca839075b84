// The RPC layer shared by both Envs: requests and responses in protobuf envelopes
// (core/proto/rpc.proto) over a (secure) Connection, many calls in flight per connection, each
// with a deadline. Limits are named here and checked after parsing. Spec: docs/specs/rpc.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "core/env/bytes.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"
#include "core/runtime/time.h"

namespace lafs::rpc {

inline constexpr std::uint32_t kEnvelopeVersion = 1;
inline constexpr std::size_t kMethodBytesMax = 64;
inline constexpr std::size_t kErrorMessageBytesMax = 4096;
// Largest request or response payload; the transport's frame limit is above it.
inline constexpr std::size_t kPayloadBytesMax = 8 * 1024 * 1024;
// Calls one side may have outstanding on one connection. A client waits for a slot; a server
// stops reading requests until one frees (back-pressure instead of unbounded queues).
inline constexpr std::size_t kInFlightCallsMax = 64;
// Payload bytes of requests a server is executing at once on one connection.
inline constexpr std::size_t kInFlightRequestBytesMax = 32 * 1024 * 1024;
// The longest a server works on one request, whatever the caller said.
inline constexpr Duration kServerTimeoutMax = seconds(300);

// What a handler knows about the call it serves.
struct CallContext {
  std::string peer_address;
  std::string peer_key_hex;  // empty when the connection is not secure
  Duration timeout{0};       // how long the caller waits (0: unknown)
};

// A method implementation: returns the response payload or an error for the caller.
// Non-coroutine lambdas that forward to free coroutine functions are the usual form.
using Handler = std::function<Task<Result<Bytes>>(Bytes payload, CallContext context)>;

}  // namespace lafs::rpc
