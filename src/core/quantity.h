#pragma once
// Quantities carry their unit in their type: a ledger can never add points to grams, and no float
// ever reaches one. Arithmetic is checked: an overflow throws QuantityOverflow instead of wrapping,
// because a wrapped balance is a broken invariant, not an expected failure.

#include <compare>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace tph {

//! Thrown when checked arithmetic on a quantity would overflow 64 bits.
class QuantityOverflow : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

namespace checked {
inline std::int64_t add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw QuantityOverflow("quantity overflow in addition");
  return r;
}
inline std::int64_t sub(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) throw QuantityOverflow("quantity overflow in subtraction");
  return r;
}
inline std::int64_t mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw QuantityOverflow("quantity overflow in multiplication");
  return r;
}
}  // namespace checked

//! An integer amount of one unit, identified by Tag.
template <class Tag>
class Quantity {
 public:
  using Rep = std::int64_t;

  constexpr Quantity() = default;
  constexpr explicit Quantity(Rep value) : value_(value) {}

  constexpr Rep value() const { return value_; }
  constexpr bool isZero() const { return value_ == 0; }
  constexpr bool isNegative() const { return value_ < 0; }

  friend Quantity operator+(Quantity a, Quantity b) {
    return Quantity(checked::add(a.value_, b.value_));
  }
  friend Quantity operator-(Quantity a, Quantity b) {
    return Quantity(checked::sub(a.value_, b.value_));
  }
  friend Quantity operator*(Quantity a, Rep factor) {
    return Quantity(checked::mul(a.value_, factor));
  }
  friend Quantity operator*(Rep factor, Quantity a) { return a * factor; }
  Quantity operator-() const { return Quantity(checked::sub(0, value_)); }
  Quantity& operator+=(Quantity other) { return *this = *this + other; }
  Quantity& operator-=(Quantity other) { return *this = *this - other; }

  friend constexpr auto operator<=>(Quantity, Quantity) = default;

  std::string toString() const { return std::to_string(value_) + Tag::suffix; }

 private:
  Rep value_ = 0;
};

struct GramsTag {
  static constexpr const char* suffix = " g";
};
struct PointsTag {
  static constexpr const char* suffix = " pt";
};
struct FenTag {
  static constexpr const char* suffix = " fen";
};
struct UnitsTag {
  static constexpr const char* suffix = " PHCER";
};

using Grams = Quantity<GramsTag>;    //!< grams of CO2-equivalent
using Points = Quantity<PointsTag>;  //!< incentive points ("carbon coins")
using Fen = Quantity<FenTag>;        //!< CNY / 100
using Units = Quantity<UnitsTag>;    //!< PHCER; one unit is one tonne of CO2e

inline constexpr std::int64_t kGramsPerKilogram = 1'000;
inline constexpr std::int64_t kGramsPerUnit = 1'000'000;

//! Rounds a formula result to whole grams, half to even. Throws QuantityOverflow when the value is
//! not finite or does not fit; formula evaluation is the only place a float may become grams.
Grams roundHalfEvenToGrams(double grams);

}  // namespace tph
