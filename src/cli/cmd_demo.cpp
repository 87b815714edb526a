#include <chrono>
#include <cstdlib>

#include "account/carbon_accounts.h"
#include "auth/auth_service.h"
#include "cli/commands.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "methodology/methodology_service.h"
#include "store/database.h"

namespace tph::cli {

namespace {

// Documented in README.md: every demo user signs in with this password unless TPH_DEMO_PASSWORD
// says otherwise. Demo databases are for trying the platform, never for production.
constexpr const char* kDemoPassword = "Tanpuhui-demo-2026";

struct DemoUser {
  const char* username;
  const char* display_name;
  auth::Role role;
  const char* region;
};

const DemoUser kDemoUsers[] = {
    {"resident", "陈小绿 (demo resident)", auth::Role::kResident, ""},
    {"household_admin", "林家 (demo household admin)", auth::Role::kHouseholdAdmin, ""},
    {"enterprise", "绿源小微企业 (demo SME)", auth::Role::kEnterprise, "440300"},
    {"merchant", "低碳咖啡 (demo merchant)", auth::Role::kMerchant, "440300"},
    {"provider", "深圳地铁数据接口 (demo provider)", auth::Role::kProvider, "440300"},
    {"verifier", "广东核证机构 (demo verifier)", auth::Role::kVerifier, ""},
    {"region_admin", "深圳市生态环境局 (demo region admin)", auth::Role::kRegionAdmin, "440300"},
    {"province_admin", "广东省生态环境厅 (demo province admin)", auth::Role::kProvinceAdmin,
     "440000"},
    {"ets_enterprise", "粤电控排企业 (demo ETS enterprise)", auth::Role::kEtsEnterprise, ""},
    {"exchange_member", "广碳所会员 (demo exchange member)", auth::Role::kExchangeMember, ""},
    {"auditor", "审计员 (demo auditor)", auth::Role::kAuditor, ""},
    {"editor", "碳普惠编辑部 (demo content editor)", auth::Role::kEditor, "440000"},
};

struct DemoOptions {
  CommonOptions common;
  std::optional<std::string> data_dir;
};

//! The demo resident's metro card, bound to a demo metro provider, with 30 days of commutes and
//! walks credited, so a new platform shows a live account. Record ids are dates: running it again
//! on the same day changes nothing.
Status seedDemoTravel(store::Database& db, const Clock& clock, const std::string& data_dir) {
  methodology::MethodologyService methodologies(db, clock);
  if (methodologies.empty()) TPH_TRY(importMethodologies(db, clock, data_dir, "demo"));
  auto user_id = [&](const char* username) {
    return db.read([&](soci::session& sql) {
      long long id = 0;
      sql << "SELECT id FROM users WHERE username = :u", soci::use(std::string(username)),
          soci::into(id);
      return id;
    });
  };
  ingest::ProviderService providers(db, clock);
  auto provider = providers.ensureProvider("demo", {"demo-sz-metro",
                                                    "深圳地铁 (demo)",
                                                    "transit_operator",
                                                    user_id("provider"),
                                                    {"440300"},
                                                    {"travel.metro", "travel.walk"},
                                                    ""});
  if (!provider) return provider.error();
  account::CarbonAccountService accounts(db, clock);
  auth::Principal resident{
      user_id("resident"), "resident", "陈小绿 (demo resident)", {{auth::Role::kResident, ""}}, {}};
  auto account = accounts.personAccount(resident, "440305");
  if (!account) return account.error();
  ingest::IngestService ingest(db, clock, methodologies);
  ingest::BindingService bindings(db, clock, ingest);
  std::string ref = ingest::pseudonymise(provider->pseudonym_key, "SZT-DEMO-0001");
  auto bound = bindings.bindDirect("demo", provider->id, ref, account->id);
  if (!bound) return bound.error();
  std::vector<ingest::IncomingRecord> records;
  auto today = std::chrono::floor<std::chrono::days>(clock.now() + std::chrono::hours(8));
  for (int back = 30; back >= 1; --back) {
    std::string day = shanghaiDay(Instant(today - std::chrono::days(back)) + std::chrono::hours(4));
    auto record = [&](const std::string& suffix, const std::string& time, const char* methodology,
                      nlohmann::json inputs) {
      records.push_back({{{"provider_record_id", "demo-" + day + "-" + suffix},
                          {"subject_ref", ref},
                          {"methodology", methodology},
                          {"occurred_at", day + "T" + time + "+08:00"},
                          {"region", "440305"},
                          {"inputs", inputs}},
                         ""});
    };
    bool weekday = std::chrono::weekday(std::chrono::sys_days(today - std::chrono::days(back)))
                       .iso_encoding() <= 5;
    if (weekday) {
      record("am", "08:12:00", "travel.metro", {{"distance_km", 11.6}});
      record("pm", "18:40:00", "travel.metro", {{"distance_km", 11.6}});
    }
    record("walk", "21:00:00", "travel.walk", {{"steps", 6000 + 250 * (back % 9)}});
  }
  auto report = ingest.ingestBatch(*provider, records, "demo");
  if (!report) return report.error();
  std::printf("demo travel: %lld credited, %lld already there\n",
              static_cast<long long>(report->credited), static_cast<long long>(report->duplicate));
  return {};
}

int runDemo(const DemoOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  auto regions =
      loadRegionFile(**db, clock, config->get(kDataDirSetting, options.data_dir), "demo");
  if (!regions) return fail(regions.error());

  const char* env_password = std::getenv("TPH_DEMO_PASSWORD");
  std::string password = env_password && *env_password ? env_password : kDemoPassword;
  auth::AuthService auth(**db, clock);
  int created = 0, kept = 0;
  for (const auto& u : kDemoUsers) {
    auth::NewUser user{u.username, password, u.display_name, {{u.role, u.region}}};
    auto result = auth.createUserAsSystem("demo", user, /*update_if_exists=*/false);
    if (result) {
      ++created;
    } else if (result.error().code == ErrorCode::kConflict) {
      ++kept;  // already there: demo seeding is idempotent and never resets a changed password
    } else {
      return fail(result.error());
    }
  }
  std::printf("demo users: %d created, %d already present (password: %s)\n", created, kept,
              env_password && *env_password ? "from TPH_DEMO_PASSWORD" : kDemoPassword);
  auto travel = seedDemoTravel(**db, clock, config->get(kDataDirSetting, options.data_dir));
  if (!travel) return fail(travel.error());
  return 0;
}

}  // namespace

void addDemoCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand(
      "demo", "Seed Guangdong's 21 cities and one demo user of every role (idempotent)");
  addCommonOptions(*cmd, options->common);
  cmd->add_option("--data-dir", options->data_dir, "folder with regions.toml (default data)");
  cmd->callback([options, &exit_code] { exit_code = runDemo(*options); });
}

}  // namespace tph::cli
