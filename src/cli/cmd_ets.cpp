// `tanpuhui ets export --year Y`: the signed export file for the ETS registry of every offset
// surrender of a compliance year; `tanpuhui ets verify-export FILE --signature SIG --public-key
// KEY`: the offline check the ETS registry runs on it (docs/ets.md).

#include <cstdio>
#include <fstream>
#include <sstream>

#include "audit/audit_heads.h"
#include "cli/commands.h"
#include "ets/offset_export.h"
#include "store/database.h"

namespace tph::cli {

namespace {

struct ExportOptions {
  CommonOptions common;
  int year = 0;
  std::string out;
  std::optional<std::string> audit_key;
};

struct VerifyOptions {
  std::string file;
  std::string signature;
  std::string public_key;
};

Result<std::string> readFile(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid(field, "cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

bool isHex(const std::string& s, std::size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

//! Hex given directly, or the first word of a file holding it (KEY.pub, FILE.sig).
Result<std::string> hexArgument(const std::string& given, std::size_t size,
                                const std::string& field) {
  if (isHex(given, size)) return given;
  std::ifstream in(given);
  std::string hex;
  if (!in || !(in >> hex) || !isHex(hex, size))
    return Error::invalid(
        field, field + " is " + std::to_string(size) + " hex digits or a file holding them");
  return hex;
}

int runExport(const ExportOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  auto key = audit::SigningKey::loadOrCreate(config->get(kAuditKeySetting, options.audit_key));
  if (!key) return fail(key.error());
  auto db = store::Database::open(config->get(kDbSetting, options.common.db));
  if (!db) return fail(db.error());
  auto file =
      (*db)->read([&](soci::session& sql) { return ets::buildOffsetExport(sql, options.year); });
  if (!file) return fail(file.error());
  auto signed_export = ets::signOffsetExport(std::move(*file), *key);
  std::string out = options.out.empty() ? signed_export.file.filename() : options.out;
  {
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(signed_export.file.bytes.data(),
                       static_cast<std::streamsize>(signed_export.file.bytes.size())))
      return fail(Error::invalid("out", "cannot write " + out));
  }
  {
    std::ofstream sig(out + ".sig", std::ios::trunc);
    if (!sig || !(sig << signed_export.signature_hex << "\n"))
      return fail(Error::invalid("out", "cannot write " + out + ".sig"));
  }
  std::printf("wrote %s (%lld surrenders, %lld units) and %s.sig; public key %s\n", out.c_str(),
              static_cast<long long>(signed_export.file.surrenders),
              static_cast<long long>(signed_export.file.units), out.c_str(),
              signed_export.public_key_hex.c_str());
  return 0;
}

int runVerify(const VerifyOptions& options) {
  auto bytes = readFile(options.file, "file");
  if (!bytes) return fail(bytes.error());
  auto signature = hexArgument(options.signature, 128, "signature");
  if (!signature) return fail(signature.error());
  auto key = hexArgument(options.public_key, 64, "public-key");
  if (!key) return fail(key.error());
  auto check = ets::verifyOffsetExport(*bytes, *signature, *key);
  if (!check.ok) {
    std::fprintf(stderr, "tanpuhui: %s does not verify: %s\n", options.file.c_str(),
                 check.problem.c_str());
    return 1;
  }
  std::printf("export ok: compliance year %d, %lld surrenders, %lld units, signed by %s\n",
              check.year, static_cast<long long>(check.surrenders),
              static_cast<long long>(check.units), key->c_str());
  return 0;
}

}  // namespace

void addEtsCommand(CLI::App& app, int& exit_code) {
  auto* ets = app.add_subcommand("ets", "ETS offsets: the signed export for the ETS registry");
  ets->require_subcommand(1);

  auto export_options = std::make_shared<ExportOptions>();
  auto* exp = ets->add_subcommand(
      "export",
      "Write every offset surrender of a compliance year as canonical JSON, with its detached "
      "Ed25519 signature in FILE.sig");
  addCommonOptions(*exp, export_options->common);
  exp->add_option("--year", export_options->year, "compliance year")->required();
  exp->add_option("--out", export_options->out, "file to write (default ets-offsets-YEAR.json)");
  exp->add_option("--audit-key", export_options->audit_key,
                  "the platform's Ed25519 key file (default var/audit_ed25519.key)");
  exp->callback([export_options, &exit_code] { exit_code = runExport(*export_options); });

  auto verify_options = std::make_shared<VerifyOptions>();
  auto* verify = ets->add_subcommand(
      "verify-export", "Check an export file against its signature and the platform's public key");
  verify->add_option("file", verify_options->file, "the export file")->required();
  verify->add_option("--signature", verify_options->signature, "signature hex or FILE.sig")
      ->required();
  verify
      ->add_option("--public-key", verify_options->public_key,
                   "the platform's public key hex or KEY.pub")
      ->required();
  verify->callback([verify_options, &exit_code] { exit_code = runVerify(*verify_options); });
}

}  // namespace tph::cli
