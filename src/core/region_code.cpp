#include "core/region_code.h"

#include <algorithm>
#include <cctype>

namespace tph {

bool isRegionCode(std::string_view code) {
  return code.size() == 6 && std::all_of(code.begin(), code.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

RegionLevel regionLevel(std::string_view code) {
  if (code.substr(2) == "0000") return RegionLevel::kProvince;
  if (code.substr(4) == "00") return RegionLevel::kCity;
  return RegionLevel::kCounty;
}

bool regionCovers(std::string_view ancestor, std::string_view code) {
  if (!isRegionCode(ancestor) || !isRegionCode(code)) return false;
  if (ancestor == code) return true;
  switch (regionLevel(ancestor)) {
    case RegionLevel::kProvince:
      return code.substr(0, 2) == ancestor.substr(0, 2);
    case RegionLevel::kCity:
      return code.substr(0, 4) == ancestor.substr(0, 4);
    case RegionLevel::kCounty:
      return false;
  }
  return false;
}

std::string regionPrefix(std::string_view code) {
  if (!isRegionCode(code)) return std::string(code);
  switch (regionLevel(code)) {
    case RegionLevel::kProvince:
      return std::string(code.substr(0, 2));
    case RegionLevel::kCity:
      return std::string(code.substr(0, 4));
    case RegionLevel::kCounty:
      break;
  }
  return std::string(code);
}

std::vector<std::string> regionAndAncestors(std::string_view code) {
  std::vector<std::string> out;
  if (!isRegionCode(code)) return out;
  for (std::string level : {std::string(code.substr(0, 2)) + "0000",
                            std::string(code.substr(0, 4)) + "00", std::string(code)}) {
    if (out.empty() || out.back() != level) out.push_back(level);
  }
  return out;
}

}  // namespace tph
