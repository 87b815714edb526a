#include <spdlog/spdlog.h>

#include <filesystem>

#include "api/api_server.h"
#include "api/link_http_transport.h"
#include "audit/audit_heads.h"
#include "cli/commands.h"
#include "core/region_code.h"
#include "methodology/methodology_service.h"
#include "store/database.h"

namespace tph::cli {

namespace {

struct ServeOptions {
  CommonOptions common;
  std::optional<std::string> listen, workers, web_root, session_ttl, body_limit, data_dir,
      audit_key, link_key_file, public_url, node, region, province_url, province_key, link_interval;
};

int runServe(const ServeOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  auto listen = parseListen(config->get(kListenSetting, options.listen));
  if (!listen) return fail(listen.error());
  auto workers = parseCount(kWorkersSetting, config->get(kWorkersSetting, options.workers));
  if (!workers) return fail(workers.error());
  auto ttl = parseCount(kSessionTtlSetting, config->get(kSessionTtlSetting, options.session_ttl));
  if (!ttl) return fail(ttl.error());
  if (*ttl == 0) return fail(Error::invalid("session_ttl_minutes", "must be at least 1"));
  auto body_limit =
      parseCount(kBodyLimitSetting, config->get(kBodyLimitSetting, options.body_limit));
  if (!body_limit) return fail(body_limit.error());

  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  // A fresh database gets the shipped methodology library at first start.
  if (methodology::MethodologyService(**db, clock).empty()) {
    auto imported =
        importMethodologies(**db, clock, config->get(kDataDirSetting, options.data_dir), "serve");
    if (!imported) return fail(imported.error());
  }

  auto audit_key =
      audit::SigningKey::loadOrCreate(config->get(kAuditKeySetting, options.audit_key));
  if (!audit_key) return fail(audit_key.error());
  audit::HeadSigner head_signer(**db, clock, *audit_key);

  api::ApiServerOptions server_options;
  server_options.audit_public_key = audit_key->publicKeyHex();
  server_options.audit_signing_key = std::make_shared<audit::SigningKey>(*audit_key);
  server_options.http.host = listen->first;
  server_options.http.port = listen->second;
  server_options.http.workers = static_cast<int>(*workers);
  server_options.http.body_limit_bytes = static_cast<std::size_t>(*body_limit);
  server_options.web_root = config->get(kWebRootSetting, options.web_root);
  server_options.public_url = config->get(kPublicUrlSetting, options.public_url);
  if (server_options.public_url.rfind("http://", 0) != 0 &&
      server_options.public_url.rfind("https://", 0) != 0) {
    return fail(Error::invalid("public_url", "must start with http:// or https://"));
  }
  while (!server_options.public_url.empty() && server_options.public_url.back() == '/') {
    server_options.public_url.pop_back();
  }
  server_options.auth.session_ttl = std::chrono::minutes(*ttl);
  if (auto key_file = config->get(kLinkKeyFileSetting, options.link_key_file); !key_file.empty()) {
    auto key = link::loadOrCreateKeyFile(key_file);
    if (!key) return fail(key.error());
    server_options.link_key = *key;
    spdlog::info("link key {}: public key {}", key_file, key->public_key_hex);
  }
  auto node = config->get(kNodeSetting, options.node);
  if (node != "province" && node != "city") {
    return fail(Error::invalid("node", "must be province or city"));
  }
  if (node == "city") {
    link::CityNodeOptions city;
    city.region_code = config->get(kNodeRegionSetting, options.region);
    if (!isRegionCode(city.region_code) ||
        regionLevel(city.region_code) == RegionLevel::kProvince) {
      return fail(Error::invalid("region", "a city node serves a city or county: --region 440300"));
    }
    city.province_url = config->get(kProvinceUrlSetting, options.province_url);
    if (auto ok = api::LinkHttpTransport::fromUrl(city.province_url); !ok) return fail(ok.error());
    city.province_public_key_hex = config->get(kProvinceKeySetting, options.province_key);
    if (!city.province_public_key_hex.empty() &&
        !link::isPublicKeyHex(city.province_public_key_hex)) {
      return fail(Error::invalid("province_key", "must be the province's Ed25519 key in hex"));
    }
    auto interval =
        parseCount(kLinkIntervalSetting, config->get(kLinkIntervalSetting, options.link_interval));
    if (!interval) return fail(interval.error());
    if (*interval < 1 || *interval > 3600) {
      return fail(Error::invalid("link_interval_seconds", "must be 1 to 3600"));
    }
    city.interval = std::chrono::seconds(*interval);
    if (!server_options.link_key) {
      std::error_code ignored;  // loadOrCreateKeyFile names the file if it still cannot be made
      std::filesystem::create_directories(std::filesystem::path(kCityLinkKeyDefault).parent_path(),
                                          ignored);
      auto key = link::loadOrCreateKeyFile(kCityLinkKeyDefault);
      if (!key) return fail(key.error());
      server_options.link_key = *key;
      spdlog::info("link key {}: public key {}", kCityLinkKeyDefault, key->public_key_hex);
    }
    spdlog::info("city node of {} linked to {}", city.region_code, city.province_url);
    server_options.city_node = std::move(city);
  }
  auto holidays = parseDayList(kMarketHolidaysSetting, config->get(kMarketHolidaysSetting, {}));
  if (!holidays) return fail(holidays.error());
  auto extra_days =
      parseDayList(kMarketExtraTradingDaysSetting, config->get(kMarketExtraTradingDaysSetting, {}));
  if (!extra_days) return fail(extra_days.error());
  server_options.market.holidays = *holidays;
  server_options.market.extra_trading_days = *extra_days;
  api::ApiServer server(**db, clock, server_options);
  std::uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    return fail(Error::invalid("listen", std::string("cannot listen on ") + listen->first + ":" +
                                             std::to_string(listen->second) + ": " + e.what()));
  }
  spdlog::info("tanpuhui serving http://{}:{}/ (database {})", listen->first, port,
               (*db)->backend() == store::Backend::kSqlite ? "SQLite" : "PostgreSQL");
  server.runUntilSignal();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void addServeCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve the API and the web app until SIGINT or SIGTERM");
  addCommonOptions(*cmd, options->common);
  cmd->add_option("--listen", options->listen,
                  "HOST:PORT (also TPH_LISTEN; default 127.0.0.1:8080)");
  cmd->add_option("--workers", options->workers, "worker threads; 0 = one per core");
  cmd->add_option("--data-dir", options->data_dir,
                  "methodology library to load into a fresh database (default data)");
  cmd->add_option("--web-root", options->web_root, "built web app to serve (default web/dist)");
  cmd->add_option("--session-ttl-minutes", options->session_ttl, "sign-in lifetime (default 720)");
  cmd->add_option("--body-limit-bytes", options->body_limit,
                  "largest request body (default 64 MiB)");
  cmd->add_option("--audit-key", options->audit_key,
                  "Ed25519 key file for the daily signed audit heads, created when missing "
                  "(default var/audit_ed25519.key)");
  cmd->add_option("--link-key-file", options->link_key_file,
                  "Ed25519 key signing this node's link replies; created if missing "
                  "(also TPH_LINK_KEY_FILE; none disables the link routes)");
  cmd->add_option("--public-url", options->public_url,
                  "the site's public base URL for feeds, the sitemap, Open Graph links and "
                  "certificates' QR codes (also TPH_PUBLIC_URL; default http://127.0.0.1:8080)");
  cmd->add_option("--node", options->node,
                  "province (default) or city: a city node syncs with --province-url");
  cmd->add_option("--region", options->region, "the region a city node serves, e.g. 440300");
  cmd->add_option("--province-url", options->province_url,
                  "a city node's province: http://HOST:PORT (also TPH_PROVINCE_URL)");
  cmd->add_option("--province-key", options->province_key,
                  "the province's link public key in hex; default: pinned at first contact");
  cmd->add_option("--link-interval-seconds", options->link_interval,
                  "a city node's pause between sync rounds (default 5)");
  cmd->callback([options, &exit_code] { exit_code = runServe(*options); });
}

}  // namespace tph::cli
