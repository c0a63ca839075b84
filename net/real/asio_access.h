// Internal to net/real/: the Asio io_context behind a RealExecutor, for the transports that do
// I/O on it. Including this pulls in Asio, so only .cc files do.
#pragma once

#include <boost/asio/io_context.hpp>

#include "net/real/real_executor.h"

namespace lafs::real {

struct AsioAccess {
  static boost::asio::io_context& io_context(RealExecutor& ex);
};

}  // namespace lafs::real
