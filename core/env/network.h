// Network: raw, ordered, framed byte streams between nodes. A frame is a whole message (the
// implementation does the length-prefixing); frames arrive in order or the connection breaks.
// Authentication and encryption (proving a node key, see the secure transport) are layered on
// top of this in core/, so the same handshake code runs over TCP and in the simulator.
//
// Addresses are strings: "127.0.0.1:40123" for real TCP, "sim:<node>:<port>" in the simulator.
// All methods are called on the executor's thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/env/bytes.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs {

// Upper bound on one frame, enforced by every transport on send and on receive: a peer cannot
// make us buffer more than this for one message.
inline constexpr std::size_t kMaxFrameBytesDefault = 16 * 1024 * 1024;

class Connection {
 public:
  // Destroying a connection closes it.
  virtual ~Connection() = default;

  // Queues one frame for sending. Completes once the frame is accepted into the bounded send
  // buffer (back-pressure: it waits while the buffer is full). Errors: Unavailable when the
  // connection is closed or broken; InvalidArgument when the frame exceeds the frame limit.
  // At most one send() may be outstanding at a time.
  virtual Task<Status> send(Bytes frame) = 0;

  // The next frame from the peer. Errors: Unavailable when the connection closed or broke
  // (after every frame that arrived before the close has been returned); ProtocolError for a
  // frame over the limit or a garbled length prefix (the connection is then closed).
  // At most one receive() may be outstanding at a time.
  virtual Task<Result<Bytes>> receive() = 0;

  // Closes both directions now; pending and later calls fail with Unavailable. Idempotent.
  virtual void close() = 0;

  virtual std::string peer_address() const = 0;
};

class Listener {
 public:
  // Destroying a listener stops listening; accepted connections live on.
  virtual ~Listener() = default;
  // The next incoming connection. Error: Unavailable once the listener is closed.
  virtual Task<Result<std::unique_ptr<Connection>>> accept() = 0;
  // The address peers should connect to (with the real port when listening on port 0).
  virtual std::string address() const = 0;
};

class Network {
 public:
  virtual ~Network() = default;
  // Starts listening. Errors: InvalidArgument for a malformed address, AlreadyExists when in use.
  virtual Result<std::unique_ptr<Listener>> listen(std::string address) = 0;
  // Opens a connection. Errors: InvalidArgument (bad address), Unavailable (refused,
  // unreachable), Timeout (no answer within the transport's connect timeout).
  virtual Task<Result<std::unique_ptr<Connection>>> connect(std::string address) = 0;
};

}  // namespace lafs
