#pragma once
// Result<T> carries either a value or an Error across module boundaries for expected failures
// (bad input, missing rows, refused permissions). Exceptions are kept for bugs and broken
// invariants.

#include <cassert>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace tph {

//! The kinds of expected failure; the API maps each to one HTTP status.
enum class ErrorCode {
  kBadRequest,       // the request cannot be read (malformed JSON, bad encoding)
  kInvalid,          // a field is missing, wrongly typed or out of range
  kUnauthenticated,  // no or bad credentials
  kForbidden,        // credentials fine, permission missing
  kNotFound,
  kMethodNotAllowed,
  kConflict,  // clashes with stored state (duplicate name, wrong state)
  kRateLimited,
  kPayloadTooLarge,
  kUnavailable,
  kInternal,
};

//! The wire name of a code, e.g. "not_found".
const char* toString(ErrorCode code);

//! An expected failure: what kind, which input field (empty when none), and words for a person.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string field;
  std::string message;

  static Error badRequest(std::string message, std::string field = {}) {
    return {ErrorCode::kBadRequest, std::move(field), std::move(message)};
  }
  static Error invalid(std::string field, std::string message) {
    return {ErrorCode::kInvalid, std::move(field), std::move(message)};
  }
  static Error unauthenticated(std::string message) {
    return {ErrorCode::kUnauthenticated, {}, std::move(message)};
  }
  static Error forbidden(std::string message, std::string field = {}) {
    return {ErrorCode::kForbidden, std::move(field), std::move(message)};
  }
  static Error notFound(std::string message, std::string field = {}) {
    return {ErrorCode::kNotFound, std::move(field), std::move(message)};
  }
  static Error conflict(std::string message, std::string field = {}) {
    return {ErrorCode::kConflict, std::move(field), std::move(message)};
  }
  static Error rateLimited(std::string message) {
    return {ErrorCode::kRateLimited, {}, std::move(message)};
  }
};

//! Thrown by Result::value() on an error: reading a failed result is a bug.
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& e) : std::logic_error("value() on error: " + e.message) {}
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    if (!ok()) throw BadResultAccess(error());
    return std::get<0>(state_);
  }
  const T& value() const& {
    if (!ok()) throw BadResultAccess(error());
    return std::get<0>(state_);
  }
  T&& value() && {
    if (!ok()) throw BadResultAccess(error());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const {
    if (ok()) throw std::logic_error("error() on a successful result");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  void value() const {
    if (failed_) throw BadResultAccess(error_);
  }
  const Error& error() const {
    if (!failed_) throw std::logic_error("error() on a successful result");
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace tph

//! Evaluates a Result-returning expression and returns its error from the enclosing function.
#define TPH_TRY(expr)                                          \
  do {                                                         \
    auto tph_try_result_ = (expr);                             \
    if (!tph_try_result_.ok()) return tph_try_result_.error(); \
  } while (0)

//! Evaluates a Result-returning expression: its error returns from the function, its value is
//! bound to `name`.
#define TPH_TRY_ASSIGN(name, expr)                         \
  auto name##_result_ = (expr);                            \
  if (!name##_result_.ok()) return name##_result_.error(); \
  auto name = std::move(name##_result_).value()
