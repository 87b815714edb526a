#include "cli/config.h"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>

#include "core/clock.h"

namespace tph::cli {

Result<Config> Config::load(const std::optional<std::string>& config_flag) {
  Config config;
  std::string path;
  if (config_flag) {
    path = *config_flag;
  } else if (const char* env = std::getenv("TPH_CONFIG")) {
    path = env;
  }
  if (path.empty()) return config;
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error::invalid("config", path + ":" + std::to_string(e.source().begin.line) + ": " +
                                        std::string(e.description()));
  }
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    if (auto s = node.value<std::string>()) {
      config.file_values_[name] = *s;
    } else if (auto i = node.value<long long>()) {
      config.file_values_[name] = std::to_string(*i);
    } else {
      return Error::invalid("config", path + ": " + name + " must be a string or an integer");
    }
  }
  return config;
}

std::string Config::get(const Setting& setting, const std::optional<std::string>& flag) const {
  if (flag) return *flag;
  if (const char* env = std::getenv(setting.env); env && *env) return env;
  if (auto it = file_values_.find(setting.key); it != file_values_.end()) return it->second;
  return setting.fallback;
}

Result<std::pair<std::string, std::uint16_t>> parseListen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error::invalid("listen", "listen address must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  unsigned port = 0;
  std::string port_text = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Error::invalid("listen", "port must be 0-65535");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

Result<long long> parseCount(const Setting& setting, const std::string& text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return Error::invalid(setting.key,
                          std::string(setting.key) + " must be a non-negative integer");
  }
  return value;
}

Result<std::set<std::string>> parseDayList(const Setting& setting, const std::string& text) {
  std::set<std::string> days;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    std::string day =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    day.erase(0, day.find_first_not_of(' '));
    day.erase(day.find_last_not_of(' ') + 1);
    if (!shanghaiDayStart(day))
      return Error::invalid(setting.key,
                            std::string(setting.key) +
                                " is a comma-separated list of YYYY-MM-DD days, not '" + day + "'");
    days.insert(day);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return days;
}

}  // namespace tph::cli
