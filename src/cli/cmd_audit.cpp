#include <fstream>
#include <sstream>

#include "audit/audit_heads.h"
#include "audit/audit_log.h"
#include "cli/commands.h"
#include "store/database.h"

namespace tph::cli {

namespace {

struct ExportOptions {
  CommonOptions common;
  std::int64_t from = 0, to = 0;
  std::string out;
};

struct VerifyOptions {
  CommonOptions common;
  std::string export_file;
  std::string public_key;
};

int runAuditExport(const ExportOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  auto db = store::Database::open(config->get(kDbSetting, options.common.db));
  if (!db) return fail(db.error());
  auto exported = (*db)->read(
      [&](soci::session& sql) { return audit::exportPublicChain(sql, options.from, options.to); });
  if (!exported) return fail(exported.error());
  std::string text = exported->dump(1) + "\n";
  if (options.out.empty() || options.out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ofstream out(options.out, std::ios::trunc);
  if (!out || !(out << text)) return fail(Error::invalid("out", "cannot write " + options.out));
  std::fprintf(stderr, "wrote events %lld-%lld and %zu signed heads to %s\n",
               static_cast<long long>(options.from), static_cast<long long>(options.to),
               (*exported)["heads"].size(), options.out.c_str());
  return 0;
}

//! The key as 64 hex digits, or a file holding them (the server's KEY.pub).
Result<std::string> readPublicKey(const std::string& given) {
  auto is_hex = [](const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
  };
  if (is_hex(given)) return given;
  std::ifstream in(given);
  std::string hex;
  if (!in || !(in >> hex) || !is_hex(hex)) {
    return Error::invalid("public-key",
                          "give the Ed25519 public key as 64 hex digits or a file holding them");
  }
  return hex;
}

int runAuditVerifyExport(const VerifyOptions& options) {
  auto key = readPublicKey(options.public_key);
  if (!key) return fail(key.error());
  std::ifstream in(options.export_file);
  if (!in) return fail(Error::invalid("export", "cannot read " + options.export_file));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded()) return fail(Error::invalid("export", "the export is not JSON"));
  auto report = audit::verifyExport(parsed, *key);
  if (!report.ok) {
    std::fprintf(stderr, "export does not verify at event %lld: %s\n",
                 static_cast<long long>(report.first_bad_id), report.problem.c_str());
    return 1;
  }
  std::printf(
      "export ok: %lld events verified, %lld signed heads checked, anchored through event "
      "%lld\n",
      static_cast<long long>(report.events_checked), static_cast<long long>(report.heads_checked),
      static_cast<long long>(report.anchored_through));
  return 0;
}

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
  auto verify_export = std::make_shared<VerifyOptions>();
  verify->add_option("--export", verify_export->export_file,
                     "check this export file offline instead of the database");
  verify->add_option("--public-key", verify_export->public_key,
                     "the platform's Ed25519 public key (hex or a file), for --export");
  verify->callback([options, verify_export, &exit_code] {
    if (verify_export->export_file.empty()) {
      exit_code = runAuditVerify(*options);
    } else if (verify_export->public_key.empty()) {
      exit_code = fail(Error::invalid("public-key", "--export needs --public-key"));
    } else {
      exit_code = runAuditVerifyExport(*verify_export);
    }
  });

  auto export_options = std::make_shared<ExportOptions>();
  auto* exp = audit->add_subcommand(
      "export",
      "Write events N..M of the chain with every signed head among them; personal payloads are "
      "replaced by their SHA-256, so the export still verifies");
  addCommonOptions(*exp, export_options->common);
  exp->add_option("--from", export_options->from, "first event id")->required();
  exp->add_option("--to", export_options->to, "last event id")->required();
  exp->add_option("--out", export_options->out, "file to write (default standard output)");
  exp->callback([export_options, &exit_code] { exit_code = runAuditExport(*export_options); });
}

}  // namespace tph::cli
