#include "core/runtime/status.h"

namespace lafs {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "OK";
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kFailedPrecondition:
      return "FailedPrecondition";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kResourceExhausted:
      return "ResourceExhausted";
    case ErrorCode::kNoSpace:
      return "NoSpace";
    case ErrorCode::kIoError:
      return "IoError";
    case ErrorCode::kCorruption:
      return "Corruption";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kCancelled:
      return "Cancelled";
    case ErrorCode::kProtocolError:
      return "ProtocolError";
    case ErrorCode::kUnimplemented:
      return "Unimplemented";
    case ErrorCode::kInternal:
      return "Internal";
    case ErrorCode::kConflict:
      return "Conflict";
  }
  return "Unknown";
}

bool is_retryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
    case ErrorCode::kIoError:
    case ErrorCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string out(error_code_name(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg));
}

Status invalid_argument(std::string m) {
  return Status(ErrorCode::kInvalidArgument, std::move(m));
}
Status not_found(std::string m) {
  return Status(ErrorCode::kNotFound, std::move(m));
}
Status already_exists(std::string m) {
  return Status(ErrorCode::kAlreadyExists, std::move(m));
}
Status failed_precondition(std::string m) {
  return Status(ErrorCode::kFailedPrecondition, std::move(m));
}
Status permission_denied(std::string m) {
  return Status(ErrorCode::kPermissionDenied, std::move(m));
}
Status resource_exhausted(std::string m) {
  return Status(ErrorCode::kResourceExhausted, std::move(m));
}
Status no_space(std::string m) {
  return Status(ErrorCode::kNoSpace, std::move(m));
}
Status io_error(std::string m) {
  return Status(ErrorCode::kIoError, std::move(m));
}
Status corruption(std::string m) {
  return Status(ErrorCode::kCorruption, std::move(m));
}
Status unavailable(std::string m) {
  return Status(ErrorCode::kUnavailable, std::move(m));
}
Status timeout_error(std::string m) {
  return Status(ErrorCode::kTimeout, std::move(m));
}
Status cancelled(std::string m) {
  return Status(ErrorCode::kCancelled, std::move(m));
}
Status protocol_error(std::string m) {
  return Status(ErrorCode::kProtocolError, std::move(m));
}
Status unimplemented(std::string m) {
  return Status(ErrorCode::kUnimplemented, std::move(m));
}
Status internal_error(std::string m) {
  return Status(ErrorCode::kInternal, std::move(m));
}
Status conflict(std::string m) {
  return Status(ErrorCode::kConflict, std::move(m));
}

}  // namespace lafs
