// Status and Result<T>: idem's error model (no exceptions across layers, never abort on user input).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

namespace idem {

enum class StatusCode {
  kOk = 0,
  kInvalidModel,     // the model file or graph is malformed
  kUnsupported,      // valid ONNX that idem cannot run (yet)
  kInvalidArgument,  // bad input data, shape, dtype or option
  kOutOfMemory,
  kIo,               // file could not be read/written
  kInternal,         // a bug in idem
};

const char* StatusCodeName(StatusCode code);

// Concatenates any streamable values into a string: StrCat("node '", name, "': rank ", r).
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Prepends context: "while running node 'x': <message>".
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename... Args>
Status InvalidModel(const Args&... a) { return Status(StatusCode::kInvalidModel, StrCat(a...)); }
template <typename... Args>
Status Unsupported(const Args&... a) { return Status(StatusCode::kUnsupported, StrCat(a...)); }
template <typename... Args>
Status InvalidArgument(const Args&... a) { return Status(StatusCode::kInvalidArgument, StrCat(a...)); }
template <typename... Args>
Status IoError(const Args&... a) { return Status(StatusCode::kIo, StrCat(a...)); }
template <typename... Args>
Status Internal(const Args&... a) { return Status(StatusCode::kInternal, StrCat(a...)); }
template <typename... Args>
Status OutOfMemory(const Args&... a) { return Status(StatusCode::kOutOfMemory, StrCat(a...)); }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const std::string& msg);

}  // namespace idem

#define IDEM_CONCAT_INNER_(a, b) a##b
#define IDEM_CONCAT_(a, b) IDEM_CONCAT_INNER_(a, b)

#define IDEM_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::idem::Status _idem_st = (expr);         \
    if (!_idem_st.ok()) return _idem_st;      \
  } while (0)

#define IDEM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define IDEM_ASSIGN_OR_RETURN(lhs, expr) \
  IDEM_ASSIGN_OR_RETURN_IMPL_(IDEM_CONCAT_(_idem_res_, __LINE__), lhs, expr)

// Internal invariant, always on. Never use for conditions that depend on user input.
#define IDEM_CHECK(cond, ...)                                                      \
  do {                                                                             \
    if (!(cond)) ::idem::CheckFailed(__FILE__, __LINE__, #cond, ::idem::StrCat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)
