#pragma once
// Units of measure as products of named base units with integer exponents ("g/km" is g¹·km⁻¹), and
// the check that a formula, computed over its variables' units, comes out in grams.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tph::methodology {

//! A unit: base unit name → exponent; empty means unit-free.
using Unit = std::map<std::string, int>;

//! The base units a methodology may use (see docs/methodology-authoring.md).
bool isBaseUnit(std::string_view name);

//! Parses "g/km", "g/(trees*year)", "kWh"; an error names what it could not read.
Result<Unit> parseUnit(std::string_view text);

//! "g/km" back from a Unit, for messages.
std::string formatUnit(const Unit& unit);

//! The unit a muParser formula yields given its variables' units, or an error saying which
//! operation mixes which units. Numbers are unit-free and combine with anything in + - min max.
Result<Unit> formulaUnit(std::string_view formula, const std::map<std::string, Unit>& variables);

}  // namespace tph::methodology
