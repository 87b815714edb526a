#include "core/quantity.h"

#include <cmath>

namespace tph {

Grams roundHalfEvenToGrams(double grams) {
  // 2^63 is exactly representable; anything at or beyond it cannot be an int64.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(grams) || grams >= kLimit || grams < -kLimit) {
    throw QuantityOverflow("formula result is not a finite gram amount");
  }
  // nearbyint honours the current rounding mode, which is round-to-nearest-even by default and
  // never changed by this program.
  return Grams(static_cast<std::int64_t>(std::nearbyint(grams)));
}

}  // namespace tph
