// Status and Result: how every layer below the API reports an expected failure.
// Exceptions are reserved for programming errors; I/O, decoding and validation failures
// travel as values so callers must look at them.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace isucoin {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalid,      // bad input: a malformed record, an out-of-range value
    kNotFound,
    kCorruption,   // stored bytes fail their checksum or framing
    kIOError,
    kBusy,         // a resource is held by someone else (e.g. a second log writer)
    kTimeout,
    kUnavailable,  // a remote peer did not answer usefully; retrying may help
    kClosed,
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status IOError(std::string m) { return Status(Code::kIOError, std::move(m)); }
  static Status Busy(std::string m) { return Status(Code::kBusy, std::move(m)); }
  static Status Timeout(std::string m) { return Status(Code::kTimeout, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status Closed(std::string m) { return Status(Code::kClosed, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;
  // The same code, the message prefixed with where it happened: "context: message".
  Status WithContext(const std::string& context) const {
    return ok() ? *this : Status(code_, context + ": " + message_);
  }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}          // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  // By value: `for (auto& x : F().value())` must not dangle.
  T value() && { return std::get<T>(std::move(v_)); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

inline std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalid: name = "Invalid"; break;
    case Code::kNotFound: name = "NotFound"; break;
    case Code::kCorruption: name = "Corruption"; break;
    case Code::kIOError: name = "IOError"; break;
    case Code::kBusy: name = "Busy"; break;
    case Code::kTimeout: name = "Timeout"; break;
    case Code::kUnavailable: name = "Unavailable"; break;
    case Code::kClosed: name = "Closed"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace isucoin
