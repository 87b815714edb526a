#include "audit/audit_log.h"
#include "cli/commands.h"
#include "store/database.h"

namespace tph::cli {

namespace {

int runAuditVerify(const CommonOptions& options) {
  auto config = Config::load(options.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = store::Database::open(config->get(kDbSetting, options.db));
  if (!db) return fail(db.error());
  audit::VerifyReport report;
  try {
    report = (*db)->read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  } catch (const std::exception& e) {
    return fail(Error::invalid("db", std::string("cannot read the audit chain: ") + e.what()));
  }
  if (!report.ok) {
    std::fprintf(stderr, "audit chain broken at event %lld: %s\n",
                 static_cast<long long>(report.first_bad_id), report.problem.c_str());
    return 1;
  }
  std::printf("audit chain ok: %lld events verified\n",
              static_cast<long long>(report.events_checked));
  return 0;
}

}  // namespace

void addAuditCommand(CLI::App& app, int& exit_code) {
  auto* audit = app.add_subcommand("audit", "Inspect the audit chain");
  audit->require_subcommand(1);
  auto options = std::make_shared<CommonOptions>();
  auto* verify = audit->add_subcommand(
      "verify", "Recompute the whole chain; exit 1 naming the first event that does not match");
  addCommonOptions(*verify, *options);
  verify->callback([options, &exit_code] { exit_code = runAuditVerify(*options); });
}

}  // namespace tph::cli
