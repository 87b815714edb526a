#include "methodology/methodology_service.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "audit/audit_log.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "methodology/methodology_file.h"
#include "methodology/methodology_store.h"
#include "store/data_key.h"
#include "store/database.h"

namespace tph::methodology {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr std::size_t kDraftMaxBytes = 64 * 1024;
constexpr std::size_t kCommentMaxBytes = 4000;
constexpr std::size_t kProposalTextMaxBytes = 4000;
constexpr auto kCatalogRecheck = std::chrono::seconds(1);
const char* const kPublicStates = "'active','retired'";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

json factorsJson(const std::vector<ResolvedFactor>& factors) {
  json out = json::array();
  for (const auto& f : factors) {
    out.push_back({{"name", f.name},
                   {"ref", f.ref},
                   {"value", f.value},
                   {"unit", f.unit},
                   {"source", f.source},
                   {"year", f.year},
                   {"region", f.region}});
  }
  return out;
}

std::vector<ResolvedFactor> resolveFactors(const MethodologyDefinition& def,
                                           const FactorLibrary& library) {
  std::vector<ResolvedFactor> out;
  for (const auto& use : def.factors) {
    const EmissionFactor& f = library.at(use.ref);
    out.push_back({use.name, use.ref, f.value, f.unit, f.source, f.year, f.region});
  }
  return out;
}

std::vector<ResolvedFactor> frozenFactors(const std::string& text) {
  std::vector<ResolvedFactor> out;
  for (const auto& f : json::parse(text)) {
    out.push_back({f.at("name"), f.at("ref"), f.at("value"), f.at("unit"), f.at("source"),
                   f.at("year"), f.at("region")});
  }
  return out;
}

//! Compiles a stored version with its frozen factors; a stored active version that no longer
//! compiles is a broken invariant.
std::shared_ptr<const CompiledMethodology> compileStored(const detail::StoredVersion& stored) {
  auto parsed = parseMethodology(stored.definition_toml, stored.summary.methodology_id);
  if (!parsed.definition || stored.factors_json.empty()) {
    throw std::logic_error("stored methodology version " + std::to_string(stored.summary.row_id) +
                           " is unreadable");
  }
  auto compiled =
      CompiledMethodology::compile(*parsed.definition, frozenFactors(stored.factors_json));
  if (!compiled)
    throw std::logic_error("stored methodology version does not compile: " +
                           compiled.error().message);
  auto mutable_copy = std::const_pointer_cast<CompiledMethodology>(*compiled);
  mutable_copy->state = stored.summary.state;
  mutable_copy->effective_from = stored.summary.effective_from;
  mutable_copy->effective_until = stored.summary.effective_until;
  mutable_copy->row_id = stored.summary.row_id;
  return mutable_copy;
}

std::string dayBefore(const std::string& day) {
  using namespace std::chrono;
  year_month_day ymd{year(std::stoi(day.substr(0, 4))), month(std::stoul(day.substr(5, 2))),
                     std::chrono::day(std::stoul(day.substr(8, 2)))};
  year_month_day before{sys_days(ymd) - days(1)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(before.year()), unsigned(before.month()),
                unsigned(before.day()));
  return buf;
}

//! May the caller draft or edit versions with this scope?
bool mayAuthor(const Principal& caller, const std::string& scope) {
  if (caller.hasRole(Role::kProvinceAdmin)) return true;
  return regionLevel(scope) != RegionLevel::kProvince &&
         caller.actsInRegion(Role::kRegionAdmin, scope);
}

bool maySeeUnpublished(const std::optional<Principal>& caller, const std::string& scope) {
  if (!caller) return false;
  return caller->hasRole(Role::kProvinceAdmin) || caller->hasRole(Role::kAuditor) ||
         caller->actsInRegion(Role::kRegionAdmin, scope);
}

bool isPublic(const std::string& state) {
  return state == "active" || state == "retired";
}

Error lintError(const std::vector<LintIssue>& issues) {
  std::string message = issues.front().toString();
  if (issues.size() > 1)
    message += " (and " + std::to_string(issues.size() - 1) + " more problems)";
  return Error::invalid(issues.front().field.empty() ? "definition" : issues.front().field,
                        message);
}

}  // namespace

std::int64_t pointsFor(std::int64_t grams, std::int64_t points_per_kg) {
  return (Grams(grams) * points_per_kg).value() / kGramsPerKilogram;
}

MethodologyService::MethodologyService(store::Database& db, const Clock& clock)
    : db_(db), clock_(clock) {}

bool MethodologyService::empty() {
  return db_.read([](soci::session& sql) {
    int count = 0;
    sql << "SELECT COUNT(*) FROM methodology_versions", soci::into(count);
    return count == 0;
  });
}

Result<ImportReport> MethodologyService::importDirectory(const std::filesystem::path& data_dir,
                                                         const std::string& actor) {
  ImportReport report;
  auto factor_file = data_dir / "emission_factors.toml";
  if (!std::filesystem::exists(factor_file)) {
    return Error::invalid("data_dir", "no emission_factors.toml in " + data_dir.string());
  }
  auto factors = parseFactorLibrary(readFile(factor_file), factor_file.string());
  report.issues = factors.issues;

  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(data_dir / "methodologies")) {
    for (const auto& entry : std::filesystem::directory_iterator(data_dir / "methodologies")) {
      if (entry.path().extension() == ".toml") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  struct Loaded {
    MethodologyDefinition def;
    std::string text;
  };
  std::vector<Loaded> loaded;
  std::vector<VersionWindow> windows;
  for (const auto& file : files) {
    std::string text = readFile(file);
    auto parsed = parseMethodology(text, file.string());
    report.issues.insert(report.issues.end(), parsed.issues.begin(), parsed.issues.end());
    if (!parsed.definition) continue;
    auto issues = lintMethodology(*parsed.definition, factors.factors, file.string());
    report.issues.insert(report.issues.end(), issues.begin(), issues.end());
    std::string expected_name =
        parsed.definition->id + "@" + std::to_string(parsed.definition->version) + ".toml";
    if (file.filename() != expected_name) {
      report.issues.push_back(
          {file.string(), 0, "id", "the file should be named " + expected_name});
    }
    const auto& d = *parsed.definition;
    windows.push_back(
        {d.id, d.version, d.scope, d.effective_from, d.effective_until, file.string()});
    loaded.push_back({d, text});
  }
  auto overlaps = lintOverlaps(windows);
  report.issues.insert(report.issues.end(), overlaps.begin(), overlaps.end());
  if (!report.issues.empty()) return report;

  auto stored = db_.transaction([&](soci::session& sql) -> Result<ImportReport> {
    auto now = toEpochMs(clock_.now());
    for (const auto& [key, f] : factors.factors) {
      int change = detail::upsertFactor(sql, f, now);
      report.factors_added += change == 1;
      report.factors_updated += change == 2;
    }
    json added = json::array();
    for (const auto& l : loaded) {
      auto existing = detail::findVersion(sql, l.def.id, l.def.version);
      if (existing) {
        if (existing->definition_toml != l.text) {
          report.issues.push_back(
              {l.def.id + "@" + std::to_string(l.def.version) + ".toml", 0, "version",
               "differs from the stored version " + std::to_string(l.def.version) +
                   "; a published version never changes: add a new version"});
        }
        ++report.versions_unchanged;
        continue;
      }
      auto frozen = canonicalJson(factorsJson(resolveFactors(l.def, factors.factors)));
      detail::insertVersion(sql, l.def, "active", l.text, frozen, actor, std::nullopt, now);
      added.push_back(
          {{"id", l.def.id}, {"version", l.def.version}, {"sha256", sha256Hex(l.text)}});
      ++report.versions_added;
    }
    if (!report.issues.empty()) return Error::conflict(report.issues.front().toString(), "version");
    if (report.versions_added + report.factors_added + report.factors_updated > 0) {
      audit::appendAuditEvent(sql, clock_,
                              {actor,
                               "methodology.import",
                               "methodologies",
                               {{"versions", added},
                                {"factors_added", report.factors_added},
                                {"factors_updated", report.factors_updated}}});
    }
    return report;
  });
  invalidateCatalog();
  if (!stored && !report.issues.empty()) return report;
  return stored;
}

void MethodologyService::invalidateCatalog() {
  std::lock_guard lock(catalog_mu_);
  catalog_.reset();
}

std::shared_ptr<const Catalog> MethodologyService::catalog() {
  std::lock_guard lock(catalog_mu_);
  auto now = clock_.now();
  if (catalog_ && now - catalog_checked_at_ < kCatalogRecheck) return catalog_;
  // Another process may have activated or retired a version: rebuild when the stored set changed.
  auto rebuilt =
      db_.read([&](soci::session& sql) -> std::pair<std::string, std::shared_ptr<const Catalog>> {
        auto fingerprint = detail::versionsFingerprint(sql);
        if (catalog_ && fingerprint == catalog_fingerprint_) return {fingerprint, catalog_};
        std::vector<std::shared_ptr<const CompiledMethodology>> versions;
        for (const auto& stored : detail::listVersions(sql, kPublicStates, ""))
          versions.push_back(compileStored(stored));
        return {fingerprint, std::make_shared<Catalog>(std::move(versions))};
      });
  catalog_fingerprint_ = rebuilt.first;
  catalog_ = rebuilt.second;
  catalog_checked_at_ = now;
  return catalog_;
}

Result<QuantifyResult> MethodologyService::quantify(const QuantifyRequest& request) {
  if (!isRegionCode(request.region))
    return Error::invalid("region", "region must be a six-digit GB/T 2260 code");
  auto snapshot = catalog();
  auto at = request.occurred_at.value_or(clock_.now());
  const CompiledMethodology* m =
      request.version ? snapshot->find(request.methodology, *request.version)
                      : snapshot->select(request.methodology, shanghaiDay(at), request.region);
  if (!m) {
    if (snapshot->find(request.methodology, request.version.value_or(1)) || request.version) {
      return Error::notFound(
          "no version of " + request.methodology +
              (request.version ? " numbered " + std::to_string(*request.version)
                               : " is in force on " + shanghaiDay(at) + " in " + request.region),
          request.version ? "version" : "occurred_at");
    }
    return Error::notFound("unknown methodology " + request.methodology, "methodology");
  }
  const auto& def = m->definition();
  std::array<double, kMaxInputs> values;
  values.fill(kMissingInput);
  for (const auto& [name, value] : request.inputs) {
    auto index = m->inputIndex(name);
    if (!index) return Error::invalid("inputs." + name, def.id + " has no input " + name);
    values[*index] = value;
  }
  Evaluator evaluator;
  std::span<const double> inputs(values.data(), def.inputs.size());
  auto q = evaluator.quantify(*m, inputs);
  if (!q) return q.error();
  return QuantifyResult{q->grams.value(), pointsFor(q->grams.value(), def.points_per_kg), def.id,
                        def.version, m->explain(inputs, *q)};
}

std::vector<VersionSummary> MethodologyService::list(const std::optional<Principal>& caller,
                                                     const VersionFilter& filter) {
  auto stored = db_.read([&](soci::session& sql) { return detail::listVersions(sql, "", ""); });
  std::vector<VersionSummary> out;
  for (auto& v : stored) {
    const auto& s = v.summary;
    if (!isPublic(s.state) && !maySeeUnpublished(caller, s.scope)) continue;
    if (!filter.state.empty() && s.state != filter.state) continue;
    if (!filter.domain.empty() && s.domain != filter.domain) continue;
    if (!filter.region.empty() && !regionCovers(s.scope, filter.region) &&
        !regionCovers(filter.region, s.scope)) {
      continue;
    }
    out.push_back(s);
  }
  return out;
}

Result<VersionDetail> MethodologyService::version(const std::optional<Principal>& caller,
                                                  std::int64_t row_id) {
  auto stored =
      db_.read([&](soci::session& sql)
                   -> std::optional<std::pair<detail::StoredVersion, std::vector<VersionComment>>> {
        auto v = detail::findVersion(sql, row_id);
        if (!v) return std::nullopt;
        return std::pair{*v, detail::loadComments(sql, row_id)};
      });
  if (!stored || (!isPublic(stored->first.summary.state) &&
                  !maySeeUnpublished(caller, stored->first.summary.scope))) {
    return Error::notFound("no such methodology version", "id");
  }
  VersionDetail detail;
  detail.summary = stored->first.summary;
  detail.definition_toml = stored->first.definition_toml;
  detail.comments = std::move(stored->second);
  auto parsed = parseMethodology(detail.definition_toml, detail.summary.methodology_id);
  detail.definition = parsed.definition;
  if (!stored->first.factors_json.empty()) {
    detail.factors = json::parse(stored->first.factors_json);
  } else {
    detail.lint = lint(detail.definition_toml);
    auto library = db_.read([](soci::session& sql) { return detail::loadFactorLibrary(sql); });
    detail.factors = json::array();
    if (parsed.definition) {
      for (const auto& use : parsed.definition->factors) {
        auto it = library.find(use.ref);
        if (it != library.end()) {
          detail.factors.push_back({{"name", use.name},
                                    {"ref", use.ref},
                                    {"value", it->second.value},
                                    {"unit", it->second.unit},
                                    {"source", it->second.source},
                                    {"year", it->second.year},
                                    {"region", it->second.region}});
        }
      }
    }
  }
  return detail;
}

Result<std::vector<VersionDetail>> MethodologyService::versionsOf(
    const std::optional<Principal>& caller, const std::string& id) {
  auto rows = db_.read([&](soci::session& sql) { return detail::listVersions(sql, "", id); });
  std::vector<VersionDetail> out;
  for (const auto& row : rows) {
    auto detail = version(caller, row.summary.row_id);
    if (detail) out.push_back(std::move(*detail));
  }
  if (out.empty()) return Error::notFound("no methodology " + id, "id");
  return out;
}

std::vector<EmissionFactor> MethodologyService::factors() {
  auto library = db_.read([](soci::session& sql) { return detail::loadFactorLibrary(sql); });
  std::vector<EmissionFactor> out;
  for (auto& [key, f] : library) out.push_back(std::move(f));
  return out;
}

std::vector<LintIssue> MethodologyService::lint(const std::string& toml_text) {
  auto parsed = parseMethodology(toml_text, "draft");
  if (!parsed.definition) return parsed.issues;
  auto library = db_.read([](soci::session& sql) { return detail::loadFactorLibrary(sql); });
  auto issues = lintMethodology(*parsed.definition, library, "draft");
  parsed.issues.insert(parsed.issues.end(), issues.begin(), issues.end());
  return parsed.issues;
}

Result<Proposal> MethodologyService::propose(const std::optional<Principal>& caller, Proposal p) {
  if (p.title.empty() || p.title.size() > 200)
    return Error::invalid("title", "title must be 1-200 bytes");
  if (p.description.empty() || p.description.size() > kProposalTextMaxBytes) {
    return Error::invalid("description", "description must be 1-4000 bytes");
  }
  if (std::find(std::begin(kDomains), std::end(kDomains), p.domain) == std::end(kDomains)) {
    return Error::invalid("domain", "unknown domain " + p.domain);
  }
  if (!caller && p.contact.empty()) {
    return Error::invalid(
        "contact", "without signing in, leave a contact (e-mail or phone) so reviewers can reply");
  }
  if (p.contact.size() > 200) return Error::invalid("contact", "contact must be at most 200 bytes");
  if (p.region_code.empty()) p.region_code = "440000";
  if (!isRegionCode(p.region_code))
    return Error::invalid("region", "region must be a six-digit GB/T 2260 code");
  if (caller) p.proposer_user_id = caller->user_id;
  return db_.transaction([&](soci::session& sql) -> Result<Proposal> {
    p.id = detail::insertProposal(sql, store::dataCipher(), p, toEpochMs(clock_.now()));
    p.status = "proposed";
    p.created_at = clock_.now();
    // The contact is personal data: the audit chain records that a proposal came, not who left it.
    audit::appendAuditEvent(
        sql, clock_,
        {caller ? caller->auditActor() : "anonymous",
         "methodology.propose",
         "methodology_proposal:" + std::to_string(p.id),
         {{"title", p.title}, {"domain", p.domain}, {"region", p.region_code}}});
    return p;
  });
}

Result<std::vector<Proposal>> MethodologyService::proposals(const Principal& caller) {
  auto all =
      db_.read([&](soci::session& sql) { return detail::listProposals(sql, store::dataCipher()); });
  std::vector<Proposal> out;
  for (auto& p : all) {
    if (caller.administersRegion(p.region_code) || p.proposer_user_id == caller.user_id)
      out.push_back(std::move(p));
  }
  return out;
}

Result<VersionDetail> MethodologyService::createDraft(const Principal& caller,
                                                      const std::string& toml_text,
                                                      std::optional<std::int64_t> proposal_id) {
  if (toml_text.size() > kDraftMaxBytes)
    return Error::invalid("definition", "a draft is at most 64 KiB");
  auto parsed = parseMethodology(toml_text, "draft");
  if (!parsed.definition) return lintError(parsed.issues);
  const auto& def = *parsed.definition;
  if (def.id.empty() || def.version < 1 || def.scope.empty()) {
    return lintError(
        parsed.issues.empty()
            ? std::vector<LintIssue>{{"draft", 0, "id", "id, version and scope are required"}}
            : parsed.issues);
  }
  if (!mayAuthor(caller, def.scope)) {
    return Error::forbidden("you may draft methodologies only for your own region", "scope");
  }
  auto row = db_.transaction([&](soci::session& sql) -> Result<std::int64_t> {
    if (detail::findVersion(sql, def.id, def.version)) {
      return Error::conflict(
          def.id + " version " + std::to_string(def.version) + " exists; number the draft anew",
          "version");
    }
    if (proposal_id) {
      auto proposal = detail::findProposal(sql, store::dataCipher(), *proposal_id);
      if (!proposal) return Error::notFound("no such proposal", "proposal_id");
      detail::setProposalStatus(sql, *proposal_id, "drafted");
    }
    auto id = detail::insertVersion(sql, def, "draft", toml_text, "", caller.auditActor(),
                                    proposal_id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "methodology.draft",
                             "methodology_version:" + std::to_string(id),
                             {{"id", def.id},
                              {"version", def.version},
                              {"scope", def.scope},
                              {"sha256", sha256Hex(toml_text)}}});
    return id;
  });
  if (!row) return row.error();
  return version(caller, *row);
}

Result<VersionDetail> MethodologyService::updateDraft(const Principal& caller, std::int64_t row_id,
                                                      const std::string& toml_text) {
  if (toml_text.size() > kDraftMaxBytes)
    return Error::invalid("definition", "a draft is at most 64 KiB");
  auto parsed = parseMethodology(toml_text, "draft");
  if (!parsed.definition) return lintError(parsed.issues);
  const auto& def = *parsed.definition;
  auto done = db_.transaction([&](soci::session& sql) -> Status {
    auto stored = detail::findVersion(sql, row_id);
    if (!stored || !mayAuthor(caller, stored->summary.scope))
      return Error::notFound("no such draft", "id");
    if (stored->summary.state != "draft") {
      return Error::conflict("only a draft can be edited; this version is " + stored->summary.state,
                             "state");
    }
    if (!mayAuthor(caller, def.scope))
      return Error::forbidden("you may not move a draft outside your region", "scope");
    if (def.id != stored->summary.methodology_id || def.version != stored->summary.version) {
      if (detail::findVersion(sql, def.id, def.version)) {
        return Error::conflict(def.id + " version " + std::to_string(def.version) + " exists",
                               "version");
      }
    }
    detail::updateVersionDefinition(sql, row_id, def, toml_text, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "methodology.edit",
                             "methodology_version:" + std::to_string(row_id),
                             {{"sha256", sha256Hex(toml_text)}}});
    return {};
  });
  if (!done) return done.error();
  return version(caller, row_id);
}

Result<VersionDetail> MethodologyService::transition(const Principal& caller, std::int64_t row_id,
                                                     const std::string& from, const std::string& to,
                                                     const std::string& action,
                                                     const std::string& note) {
  auto done = db_.transaction([&](soci::session& sql) -> Status {
    auto stored = detail::findVersion(sql, row_id);
    if (!stored) return Error::notFound("no such methodology version", "id");
    if (stored->summary.state != from) {
      return Error::conflict("this version is " + stored->summary.state + ", not " + from, "state");
    }
    auto now = toEpochMs(clock_.now());
    detail::setVersionState(sql, row_id, to, action == "reject" || action == "approve" ? note : "",
                            now);
    detail::insertComment(sql, row_id, caller.auditActor(), action, note, now);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "methodology." + action,
                             "methodology_version:" + std::to_string(row_id),
                             {{"from", from}, {"to", to}, {"note", note}}});
    return {};
  });
  if (!done) return done.error();
  return version(caller, row_id);
}

Result<VersionDetail> MethodologyService::submit(const Principal& caller, std::int64_t row_id) {
  auto current = version(caller, row_id);
  if (!current) return current.error();
  if (!mayAuthor(caller, current->summary.scope))
    return Error::forbidden("only the drafting admins submit", "scope");
  if (!current->lint.empty()) return lintError(current->lint);
  return transition(caller, row_id, "draft", "submitted", "submit", "");
}

Result<std::int64_t> MethodologyService::submitLinked(soci::session& sql, const std::string& actor,
                                                      const std::string& region,
                                                      const std::string& toml_text) {
  if (toml_text.empty() || toml_text.size() > kDraftMaxBytes)
    return Error::invalid("definition_toml", "a methodology version is 1 byte to 64 KiB");
  auto parsed = parseMethodology(toml_text, "submission");
  if (!parsed.definition) return lintError(parsed.issues);
  const auto& def = *parsed.definition;
  if (def.id.empty() || def.version < 1 || def.scope.empty()) {
    return Error::invalid("definition_toml", "id, version and scope are required");
  }
  if (!isRegionCode(def.scope) || regionLevel(def.scope) == RegionLevel::kProvince ||
      !regionCovers(region, def.scope)) {
    return Error::forbidden(
        "the scope " + def.scope + " lies outside the platform's region " + region, "scope");
  }
  if (detail::findVersion(sql, def.id, def.version)) {
    return Error::conflict(
        def.id + " version " + std::to_string(def.version) + " exists; number the version anew",
        "version");
  }
  auto now = toEpochMs(clock_.now());
  auto id = detail::insertVersion(sql, def, "submitted", toml_text, "", actor, std::nullopt, now);
  detail::insertComment(sql, id, actor, "submit", "approved by the platform of " + region, now);
  audit::appendAuditEvent(sql, clock_,
                          {actor,
                           "methodology.submit",
                           "methodology_version:" + std::to_string(id),
                           {{"id", def.id},
                            {"version", def.version},
                            {"scope", def.scope},
                            {"sha256", sha256Hex(toml_text)},
                            {"from", "linked platform"}}});
  return id;
}

Result<VersionDetail> MethodologyService::startReview(const Principal& caller,
                                                      std::int64_t row_id) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province puts methodologies under review");
  return transition(caller, row_id, "submitted", "under_review", "review", "");
}

Result<VersionDetail> MethodologyService::comment(const Principal& caller, std::int64_t row_id,
                                                  const std::string& body) {
  if (body.empty() || body.size() > kCommentMaxBytes)
    return Error::invalid("comment", "a comment is 1-4000 bytes");
  auto done = db_.transaction([&](soci::session& sql) -> Status {
    auto stored = detail::findVersion(sql, row_id);
    if (!stored || !maySeeUnpublished(caller, stored->summary.scope)) {
      return Error::notFound("no such methodology version", "id");
    }
    if (!caller.hasRole(Role::kProvinceAdmin) && !mayAuthor(caller, stored->summary.scope)) {
      return Error::forbidden("only reviewers and the drafting admins comment");
    }
    detail::insertComment(sql, row_id, caller.auditActor(), "comment", body,
                          toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "methodology.comment",
                             "methodology_version:" + std::to_string(row_id),
                             {{"sha256", sha256Hex(body)}}});
    return {};
  });
  if (!done) return done.error();
  return version(caller, row_id);
}

Result<VersionDetail> MethodologyService::approve(const Principal& caller, std::int64_t row_id,
                                                  const std::string& reason) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province approves methodologies");
  auto current = version(caller, row_id);
  if (!current) return current.error();
  if (!current->lint.empty()) return lintError(current->lint);
  return transition(caller, row_id, "under_review", "approved", "approve", reason);
}

Result<VersionDetail> MethodologyService::reject(const Principal& caller, std::int64_t row_id,
                                                 const std::string& reason) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province rejects methodologies");
  if (reason.empty() || reason.size() > kCommentMaxBytes)
    return Error::invalid("reason", "say why, in 1-4000 bytes");
  return transition(caller, row_id, "under_review", "rejected", "reject", reason);
}

Result<VersionDetail> MethodologyService::activate(const Principal& caller, std::int64_t row_id,
                                                   const std::string& effective_from) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province activates methodologies");
  if (!isIsoDate(effective_from))
    return Error::invalid("effective_from", "effective_from must be YYYY-MM-DD");
  auto done = db_.transaction([&](soci::session& sql) -> Status {
    auto stored = detail::findVersion(sql, row_id);
    if (!stored) return Error::notFound("no such methodology version", "id");
    if (stored->summary.state != "approved") {
      return Error::conflict(
          "only an approved version is activated; this one is " + stored->summary.state, "state");
    }
    const auto& s = stored->summary;
    if (!s.effective_until.empty() && s.effective_until < effective_from) {
      return Error::invalid("effective_from",
                            "the version ends on " + s.effective_until + ", before that date");
    }
    auto parsed = parseMethodology(stored->definition_toml, s.methodology_id);
    auto library = detail::loadFactorLibrary(sql);
    auto issues = lintMethodology(*parsed.definition, library, s.methodology_id);
    if (!issues.empty()) return lintError(issues);
    auto now = toEpochMs(clock_.now());
    // The version in force before this one, for the same id and scope, ends the day before.
    json closed = json::array();
    for (const auto& other : detail::listVersions(sql, kPublicStates, s.methodology_id)) {
      const auto& o = other.summary;
      if (o.scope != s.scope) continue;
      bool overlaps = o.effective_until.empty() || o.effective_until >= effective_from;
      if (!overlaps) continue;
      if (o.effective_from >= effective_from) {
        return Error::conflict("version " + std::to_string(o.version) + " already starts on " +
                                   o.effective_from + "; activate from a later date",
                               "effective_from");
      }
      detail::setVersionWindow(sql, o.row_id, o.effective_from, dayBefore(effective_from), now);
      closed.push_back(o.version);
    }
    auto frozen = canonicalJson(factorsJson(resolveFactors(*parsed.definition, library)));
    detail::setVersionFactors(sql, row_id, frozen);
    detail::setVersionWindow(sql, row_id, effective_from, s.effective_until, now);
    detail::setVersionState(sql, row_id, "active", "", now);
    detail::insertComment(sql, row_id, caller.auditActor(), "activate",
                          "effective from " + effective_from, now);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "methodology.activate",
                             "methodology_version:" + std::to_string(row_id),
                             {{"id", s.methodology_id},
                              {"version", s.version},
                              {"effective_from", effective_from},
                              {"factors_sha256", sha256Hex(frozen)},
                              {"closed_versions", closed}}});
    return {};
  });
  if (!done) return done.error();
  invalidateCatalog();
  return version(caller, row_id);
}

Result<VersionDetail> MethodologyService::retire(const Principal& caller, std::int64_t row_id,
                                                 const std::string& effective_until) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province retires methodologies");
  std::string until = effective_until.empty() ? shanghaiDay(clock_.now()) : effective_until;
  if (!isIsoDate(until))
    return Error::invalid("effective_until", "effective_until must be YYYY-MM-DD");
  auto done = db_.transaction([&](soci::session& sql) -> Status {
    auto stored = detail::findVersion(sql, row_id);
    if (!stored) return Error::notFound("no such methodology version", "id");
    const auto& s = stored->summary;
    if (s.state != "active")
      return Error::conflict("only an active version is retired; this one is " + s.state, "state");
    if (until < s.effective_from)
      return Error::invalid("effective_until", "the version starts on " + s.effective_from);
    auto now = toEpochMs(clock_.now());
    std::string ends =
        s.effective_until.empty() || until < s.effective_until ? until : s.effective_until;
    detail::setVersionWindow(sql, row_id, s.effective_from, ends, now);
    detail::setVersionState(sql, row_id, "retired", "", now);
    detail::insertComment(sql, row_id, caller.auditActor(), "retire", "in force until " + ends,
                          now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "methodology.retire",
         "methodology_version:" + std::to_string(row_id),
         {{"id", s.methodology_id}, {"version", s.version}, {"effective_until", ends}}});
    return {};
  });
  if (!done) return done.error();
  invalidateCatalog();
  return version(caller, row_id);
}

}  // namespace tph::methodology
