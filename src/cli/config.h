#pragma once
// Settings for every subcommand, resolved in one place: a flag beats an environment variable,
// which beats the TOML config file, which beats the default.

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/result.h"

namespace tph::cli {

//! One setting: its config-file key, environment variable, default and the flag's value, if any.
struct Setting {
  const char* key;
  const char* env;
  const char* fallback;
};

inline constexpr Setting kDbSetting{"db", "TPH_DATABASE_URL", "sqlite:var/tanpuhui.db"};
inline constexpr Setting kListenSetting{"listen", "TPH_LISTEN", "127.0.0.1:8080"};
inline constexpr Setting kWorkersSetting{"workers", "TPH_WORKERS", "0"};
inline constexpr Setting kWebRootSetting{"web_root", "TPH_WEB_ROOT", "web/dist"};
inline constexpr Setting kLinkKeyFileSetting{"link_key_file", "TPH_LINK_KEY_FILE", ""};
//! province (the default) or city: a city node syncs with its province (docs/link.md).
inline constexpr Setting kNodeSetting{"node", "TPH_NODE", "province"};
inline constexpr Setting kNodeRegionSetting{"region", "TPH_REGION", ""};
inline constexpr Setting kProvinceUrlSetting{"province_url", "TPH_PROVINCE_URL", ""};
//! The province's link key, pinned; empty: learnt at first contact.
inline constexpr Setting kProvinceKeySetting{"province_key", "TPH_PROVINCE_KEY", ""};
inline constexpr Setting kLinkIntervalSetting{"link_interval_seconds", "TPH_LINK_INTERVAL_SECONDS",
                                              "5"};
//! Where a city node keeps its link key when --link-key-file is not given.
inline constexpr const char* kCityLinkKeyDefault = "var/link_ed25519.key";
inline constexpr Setting kDataDirSetting{"data_dir", "TPH_DATA_DIR", "data"};
inline constexpr Setting kSessionTtlSetting{"session_ttl_minutes", "TPH_SESSION_TTL_MINUTES",
                                            "720"};
inline constexpr Setting kBodyLimitSetting{"body_limit_bytes", "TPH_BODY_LIMIT_BYTES", "67108864"};
//! The platform's Ed25519 key for signing audit heads; created on first start.
inline constexpr Setting kAuditKeySetting{"audit_key", "TPH_AUDIT_KEY", "var/audit_ed25519.key"};
//! The data key personal columns are sealed with (core/field_cipher.h); created with the database.
inline constexpr Setting kDataKeySetting{"data_key_file", "TPH_DATA_KEY_FILE", "var/data.key"};
//! The site's public base URL, for absolute links in feeds, the sitemap and Open Graph tags.
inline constexpr Setting kPublicUrlSetting{"public_url", "TPH_PUBLIC_URL", "http://127.0.0.1:8080"};
inline constexpr Setting kLogLevelSetting{"log_level", "TPH_LOG_LEVEL", "info"};
//! Exchange days off besides weekends, and weekend days it trades: "2026-10-01,2026-10-02".
inline constexpr Setting kMarketHolidaysSetting{"market_holidays", "TPH_MARKET_HOLIDAYS", ""};
inline constexpr Setting kMarketExtraTradingDaysSetting{"market_extra_trading_days",
                                                        "TPH_MARKET_EXTRA_TRADING_DAYS", ""};

class Config {
 public:
  //! Reads the config file named by --config, else TPH_CONFIG, else none.
  static Result<Config> load(const std::optional<std::string>& config_flag);

  //! The resolved value of a setting given the flag's value (empty optional: not given).
  std::string get(const Setting& setting, const std::optional<std::string>& flag) const;

 private:
  std::map<std::string, std::string> file_values_;
};

//! Parses "HOST:PORT".
Result<std::pair<std::string, std::uint16_t>> parseListen(const std::string& text);
//! Parses a non-negative integer setting, naming the setting on error.
Result<long long> parseCount(const Setting& setting, const std::string& text);
//! Parses comma-separated YYYY-MM-DD days (empty: none), naming the setting on error.
Result<std::set<std::string>> parseDayList(const Setting& setting, const std::string& text);

}  // namespace tph::cli
