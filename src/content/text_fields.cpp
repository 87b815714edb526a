#include "content/text_fields.h"

#include <chrono>

namespace tph::content::detail {

using nlohmann::json;

bool validUtf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = c < 0x80           ? 0
                        : (c >> 5) == 0x6  ? 1
                        : (c >> 4) == 0xe  ? 2
                        : (c >> 3) == 0x1e ? 3
                                           : 4;
    if (extra == 4 || (extra > 0 && i + extra >= text.size())) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    i += extra + 1;
  }
  return true;
}

Result<std::string> textField(const json& body, const std::string& key, bool required,
                              std::size_t max_bytes) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) return Error::invalid(key, "is required");
    return std::string();
  }
  if (!it->is_string()) return Error::invalid(key, "must be a string");
  auto value = it->get<std::string>();
  auto first = value.find_first_not_of(" \t\r\n");
  if (required && first == std::string::npos) return Error::invalid(key, "must not be blank");
  if (value.size() > max_bytes) {
    return Error::invalid(key, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!validUtf8(value)) return Error::invalid(key, "is not valid UTF-8");
  return value;
}

bool isIsoDay(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  std::chrono::year_month_day day{std::chrono::year(std::stoi(text.substr(0, 4))),
                                  std::chrono::month(std::stoi(text.substr(5, 2))),
                                  std::chrono::day(std::stoi(text.substr(8, 2)))};
  return day.ok();
}

}  // namespace tph::content::detail
