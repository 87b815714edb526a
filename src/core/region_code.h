#pragma once
// GB/T 2260 administrative division codes: six digits, PPCCDD. A province ends in 0000, a
// prefecture-level city in 00; a county-level division has all six digits significant.

#include <string>
#include <string_view>
#include <vector>

namespace tph {

enum class RegionLevel { kProvince, kCity, kCounty };

//! True when `code` is six ASCII digits.
bool isRegionCode(std::string_view code);

//! The level a well-formed code denotes.
RegionLevel regionLevel(std::string_view code);

//! True when `ancestor` is `code` itself or an administrative ancestor of it (440000 covers 440300
//! and 440305; 440300 covers 440305 but not 440100).
bool regionCovers(std::string_view ancestor, std::string_view code);

//! The leading digits every code at or below `code` shares: 440000 -> "44", 440300 -> "4403",
//! 440305 -> "440305"; `prefix + "%"` is the SQL LIKE pattern of the region and its descendants.
//! Text that is not a region code comes back unchanged.
std::string regionPrefix(std::string_view code);

//! The province, the city and the code itself, from the top, each once: 440305 -> 440000, 440300,
//! 440305. Empty for text that is not a region code.
std::vector<std::string> regionAndAncestors(std::string_view code);

}  // namespace tph
