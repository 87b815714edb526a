#include <cstdlib>

#include "auth/auth_service.h"
#include "cli/commands.h"
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
};

struct DemoOptions {
  CommonOptions common;
  std::optional<std::string> data_dir;
};

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
