// Internal to net/real/: binding a TCP listener, shared by the transport (RealTcpNetwork) and the
// web gateway's HTTP server. Including this pulls in Asio, so only .cc files do.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <string>

#include "core/runtime/status.h"

namespace lafs::real {

// "a.b.c.d:port" or "[v6]:port".
std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep);

// Parses `address` (port 0: any), opens `acceptor`, binds it (reuse_address, so a restarted node
// binds while old connections sit in TIME_WAIT; "[::]:p" means IPv6 only) and listens. Returns
// the bound address; on error the acceptor is closed. Errors: InvalidArgument (bad address, not
// one of this host's), AlreadyExists (in use), PermissionDenied, ResourceExhausted, Unavailable;
// messages start with `what` ("listen on", "HTTP listen on").
Result<std::string> bind_and_listen(boost::asio::ip::tcp::acceptor& acceptor,
                                    const std::string& address, int backlog,
                                    const std::string& what);

}  // namespace lafs::real
