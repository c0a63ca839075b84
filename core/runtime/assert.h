// Assertions that stay on in every build: a broken invariant in a storage system must stop the
// process, not corrupt data quietly. Use for programmer errors; operating errors are Status.
#pragma once

namespace lafs::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);
}  // namespace lafs::detail

#define LAFS_ASSERT(cond)                                              \
  do {                                                                 \
    if (!(cond)) [[unlikely]]                                          \
      ::lafs::detail::assert_fail(#cond, __FILE__, __LINE__, nullptr); \
  } while (0)

#define LAFS_ASSERT_MSG(cond, msg)                                   \
  do {                                                               \
    if (!(cond)) [[unlikely]]                                        \
      ::lafs::detail::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

#define LAFS_UNREACHABLE() ::lafs::detail::assert_fail("unreachable", __FILE__, __LINE__, nullptr)
