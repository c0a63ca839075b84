// Errors are values: Status (a code and a message) and Result<T> (a value or a Status).
// Nothing in lafs throws across a module boundary. Codes are classified so that callers can
// decide what to do: retry? give up? was data lost?
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/runtime/assert.h"

namespace lafs {

enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed; retrying will not help
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // the named thing exists and the call refuses to replace it
  kFailedPrecondition,  // the system is not in a state where the call can succeed
  kPermissionDenied,    // the caller lacks the capability or secret
  kResourceExhausted,   // a bound was reached (queue, in-flight bytes, open buckets)
  kNoSpace,             // the disk or the reservation is full
  kIoError,             // the disk failed; the operation may be retried
  kCorruption,          // stored or received data failed verification
  kUnavailable,         // a peer or the network is unreachable; retryable
  kTimeout,             // a deadline passed; retryable
  kCancelled,           // the caller's scope was cancelled
  kProtocolError,       // a peer broke the protocol (garbage frame, bad version)
  kUnimplemented,       // not built yet; the message says what
  kInternal,            // a bug: an invariant failed in a way we could report
  // Another writer changed the thing between our read and our write (an uncoordinated write
  // to a mutable file): re-read, then decide whether to write again. Last, so that the numbers
  // sent in RPC errors stay those of older builds.
  kConflict,
};

std::string_view error_code_name(ErrorCode code);

// True for errors where retrying the same call later may succeed.
bool is_retryable(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {
    LAFS_ASSERT(code != ErrorCode::kOk);
  }

  // No static ok(): `status.ok()` on an instance would call it and always pass. An OK status
  // is Status{}; test one with is_ok().

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NotFound: share 3 of si=..." (or "OK").
  std::string to_string() const;

  // Prefixes the message with context, keeping the code: "reading lease db: IoError: ...".
  Status with_context(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Shorthands for the common codes.
Status invalid_argument(std::string message);
Status not_found(std::string message);
Status already_exists(std::string message);
Status failed_precondition(std::string message);
Status permission_denied(std::string message);
Status resource_exhausted(std::string message);
Status no_space(std::string message);
Status io_error(std::string message);
Status corruption(std::string message);
Status unavailable(std::string message);
Status timeout_error(std::string message);
Status cancelled(std::string message);
Status protocol_error(std::string message);
Status unimplemented(std::string message);
Status internal_error(std::string message);
Status conflict(std::string message);

// A value of type T, or a non-OK Status. Accessing the value of an error is a programmer error
// and aborts; check ok() first.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    LAFS_ASSERT_MSG(!std::get<1>(v_).is_ok(), "Result built from an OK status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    check_ok();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check_ok();
    return std::get<0>(v_);
  }
  T&& value() && {
    check_ok();
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  // The error; OK if this holds a value.
  Status status() const { return ok() ? Status{} : std::get<1>(v_); }

  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  void check_ok() const {
    if (!ok()) [[unlikely]] {
      detail::assert_fail("Result::ok()", __FILE__, __LINE__, std::get<1>(v_).to_string().c_str());
    }
  }
  std::variant<T, Status> v_;
};

}  // namespace lafs

// Early-return helpers for coroutines and plain functions. The expression is evaluated once.
#define LAFS_CONCAT_INNER(a, b) a##b
#define LAFS_CONCAT(a, b) LAFS_CONCAT_INNER(a, b)

#define LAFS_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::lafs::Status lafs_status_ = (expr);           \
    if (!lafs_status_.is_ok()) return lafs_status_; \
  } while (0)

#define LAFS_CO_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::lafs::Status lafs_status_ = (expr);              \
    if (!lafs_status_.is_ok()) co_return lafs_status_; \
  } while (0)

// `LAFS_ASSIGN_OR_RETURN(T x, f());` or `LAFS_ASSIGN_OR_RETURN(x, f());`: evaluates a Result
// once; returns its Status on error, else moves its value into the left-hand side. Plain
// functions only (coroutines spell it out).
#define LAFS_ASSIGN_OR_RETURN(lhs, expr) \
  LAFS_ASSIGN_OR_RETURN_IMPL(LAFS_CONCAT(lafs_result_, __LINE__), lhs, expr)
#define LAFS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(*tmp)
