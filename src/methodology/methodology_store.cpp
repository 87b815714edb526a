#include "methodology/methodology_store.h"

#include "store/database.h"

namespace tph::methodology::detail {

constexpr const char* kProposalContact = "methodology_proposals.contact";

namespace {

constexpr const char* kVersionColumns =
    "id, methodology_id, version, state, scope, domain, name_zh, name_en, effective_from, "
    "effective_until, created_by, created_at_ms, updated_at_ms, decision_reason, proposal_id, "
    "definition_toml, factors_json";

std::string optionalText(const soci::row& row, std::size_t i) {
  return row.get_indicator(i) == soci::i_null ? std::string() : row.get<std::string>(i);
}

StoredVersion versionFromRow(const soci::row& row) {
  StoredVersion v;
  VersionSummary& s = v.summary;
  s.row_id = store::rowInt64(row, 0);
  s.methodology_id = row.get<std::string>(1);
  s.version = static_cast<int>(store::rowInt64(row, 2));
  s.state = row.get<std::string>(3);
  s.scope = row.get<std::string>(4);
  s.domain = row.get<std::string>(5);
  s.name_zh = row.get<std::string>(6);
  s.name_en = row.get<std::string>(7);
  s.effective_from = row.get<std::string>(8);
  s.effective_until = optionalText(row, 9);
  s.created_by = row.get<std::string>(10);
  s.created_at = fromEpochMs(store::rowInt64(row, 11));
  s.updated_at = fromEpochMs(store::rowInt64(row, 12));
  s.decision_reason = optionalText(row, 13);
  if (row.get_indicator(14) != soci::i_null) s.proposal_id = store::rowInt64(row, 14);
  v.definition_toml = row.get<std::string>(15);
  v.factors_json = optionalText(row, 16);
  return v;
}

std::vector<StoredVersion> queryVersions(soci::session& sql, const std::string& where,
                                         const std::string& bind) {
  std::vector<StoredVersion> out;
  std::string text = std::string("SELECT ") + kVersionColumns + " FROM methodology_versions " +
                     where + " ORDER BY methodology_id, version";
  if (bind.empty()) {
    soci::rowset<soci::row> rows = sql.prepare << text;
    for (const auto& row : rows) out.push_back(versionFromRow(row));
  } else {
    soci::rowset<soci::row> rows = (sql.prepare << text, soci::use(bind));
    for (const auto& row : rows) out.push_back(versionFromRow(row));
  }
  return out;
}

}  // namespace

FactorLibrary loadFactorLibrary(soci::session& sql) {
  FactorLibrary library;
  soci::rowset<soci::row> rows = sql.prepare << "SELECT factor_key, value, unit, year, region, "
                                                "source, source_kind, note FROM emission_factors";
  for (const auto& row : rows) {
    EmissionFactor f;
    f.key = row.get<std::string>(0);
    f.value = store::rowDouble(row, 1);
    f.unit = row.get<std::string>(2);
    f.year = static_cast<int>(store::rowInt64(row, 3));
    f.region = row.get<std::string>(4);
    f.source = row.get<std::string>(5);
    f.source_kind = row.get<std::string>(6);
    f.note = row.get<std::string>(7);
    library[f.key] = std::move(f);
  }
  return library;
}

int upsertFactor(soci::session& sql, const EmissionFactor& f, std::int64_t now_ms) {
  double value = 0;
  int year = 0;
  std::string unit, region, source, kind, note;
  sql << "SELECT value, unit, year, region, source, source_kind, note FROM emission_factors WHERE "
         "factor_key = :k",
      soci::use(f.key), soci::into(value), soci::into(unit), soci::into(year), soci::into(region),
      soci::into(source), soci::into(kind), soci::into(note);
  long long now = now_ms;
  int f_year = f.year;
  double f_value = f.value;
  if (!sql.got_data()) {
    sql << "INSERT INTO emission_factors (factor_key, value, unit, year, region, source, "
           "source_kind, note, "
           "updated_at_ms) VALUES (:k, :v, :u, :y, :r, :s, :sk, :n, :t)",
        soci::use(f.key), soci::use(f_value), soci::use(f.unit), soci::use(f_year),
        soci::use(f.region), soci::use(f.source), soci::use(f.source_kind), soci::use(f.note),
        soci::use(now);
    return 1;
  }
  if (value == f.value && unit == f.unit && year == f.year && region == f.region &&
      source == f.source && kind == f.source_kind && note == f.note) {
    return 0;
  }
  sql << "UPDATE emission_factors SET value = :v, unit = :u, year = :y, region = :r, source = :s, "
         "source_kind = :sk, note = :n, updated_at_ms = :t WHERE factor_key = :k",
      soci::use(f_value), soci::use(f.unit), soci::use(f_year), soci::use(f.region),
      soci::use(f.source), soci::use(f.source_kind), soci::use(f.note), soci::use(now),
      soci::use(f.key);
  return 2;
}

std::optional<StoredVersion> findVersion(soci::session& sql, std::int64_t row_id) {
  long long id = row_id;
  soci::rowset<soci::row> rows = (sql.prepare << std::string("SELECT ") + kVersionColumns +
                                                     " FROM methodology_versions WHERE id = :id",
                                  soci::use(id));
  for (const auto& row : rows) return versionFromRow(row);
  return std::nullopt;
}

std::optional<StoredVersion> findVersion(soci::session& sql, const std::string& id, int version) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kVersionColumns +
                          " FROM methodology_versions WHERE methodology_id = :m AND version = :v",
       soci::use(id), soci::use(version));
  for (const auto& row : rows) return versionFromRow(row);
  return std::nullopt;
}

std::vector<StoredVersion> listVersions(soci::session& sql, const std::string& where_state_in,
                                        const std::string& methodology_id) {
  std::string where = "WHERE 1 = 1";
  if (!where_state_in.empty()) where += " AND state IN (" + where_state_in + ")";
  if (!methodology_id.empty()) where += " AND methodology_id = :m";
  return queryVersions(sql, where, methodology_id);
}

std::int64_t insertVersion(soci::session& sql, const MethodologyDefinition& def,
                           const std::string& state, const std::string& toml,
                           const std::string& factors_json, const std::string& created_by,
                           std::optional<std::int64_t> proposal_id, std::int64_t now_ms) {
  long long id = 0, now = now_ms, proposal = proposal_id.value_or(0);
  soci::indicator until_ind = def.effective_until.empty() ? soci::i_null : soci::i_ok;
  soci::indicator factors_ind = factors_json.empty() ? soci::i_null : soci::i_ok;
  soci::indicator proposal_ind = proposal_id ? soci::i_ok : soci::i_null;
  int version = def.version;
  sql << "INSERT INTO methodology_versions (methodology_id, version, state, scope, domain, "
         "name_zh, name_en, "
         "effective_from, effective_until, definition_toml, factors_json, proposal_id, created_by, "
         "created_at_ms, updated_at_ms) VALUES (:m, :v, :s, :sc, :d, :nz, :ne, :f, :u, :t, :fj, "
         ":p, :c, :ca, :ua) "
         "RETURNING id",
      soci::use(def.id), soci::use(version), soci::use(state), soci::use(def.scope),
      soci::use(def.domain), soci::use(def.name_zh), soci::use(def.name_en),
      soci::use(def.effective_from), soci::use(def.effective_until, until_ind), soci::use(toml),
      soci::use(factors_json, factors_ind), soci::use(proposal, proposal_ind),
      soci::use(created_by), soci::use(now), soci::use(now), soci::into(id);
  return id;
}

void updateVersionDefinition(soci::session& sql, std::int64_t row_id,
                             const MethodologyDefinition& def, const std::string& toml,
                             std::int64_t now_ms) {
  long long id = row_id, now = now_ms;
  int version = def.version;
  soci::indicator until_ind = def.effective_until.empty() ? soci::i_null : soci::i_ok;
  sql << "UPDATE methodology_versions SET methodology_id = :m, version = :v, scope = :sc, domain = "
         ":d, "
         "name_zh = :nz, name_en = :ne, effective_from = :f, effective_until = :u, definition_toml "
         "= :t, "
         "updated_at_ms = :ua WHERE id = :id",
      soci::use(def.id), soci::use(version), soci::use(def.scope), soci::use(def.domain),
      soci::use(def.name_zh), soci::use(def.name_en), soci::use(def.effective_from),
      soci::use(def.effective_until, until_ind), soci::use(toml), soci::use(now), soci::use(id);
}

void setVersionState(soci::session& sql, std::int64_t row_id, const std::string& state,
                     const std::string& reason, std::int64_t now_ms) {
  long long id = row_id, now = now_ms;
  soci::indicator reason_ind = reason.empty() ? soci::i_null : soci::i_ok;
  sql << "UPDATE methodology_versions SET state = :s, decision_reason = COALESCE(:r, "
         "decision_reason), "
         "updated_at_ms = :t WHERE id = :id",
      soci::use(state), soci::use(reason, reason_ind), soci::use(now), soci::use(id);
}

void setVersionWindow(soci::session& sql, std::int64_t row_id, const std::string& from,
                      const std::string& until, std::int64_t now_ms) {
  long long id = row_id, now = now_ms;
  soci::indicator until_ind = until.empty() ? soci::i_null : soci::i_ok;
  sql << "UPDATE methodology_versions SET effective_from = :f, effective_until = :u, updated_at_ms "
         "= :t "
         "WHERE id = :id",
      soci::use(from), soci::use(until, until_ind), soci::use(now), soci::use(id);
}

void setVersionFactors(soci::session& sql, std::int64_t row_id, const std::string& factors_json) {
  long long id = row_id;
  sql << "UPDATE methodology_versions SET factors_json = :f WHERE id = :id",
      soci::use(factors_json), soci::use(id);
}

std::string versionsFingerprint(soci::session& sql) {
  long long count = 0, latest = 0;
  soci::indicator latest_ind;
  sql << "SELECT COUNT(*), MAX(updated_at_ms) FROM methodology_versions", soci::into(count),
      soci::into(latest, latest_ind);
  return std::to_string(count) + ":" + std::to_string(latest_ind == soci::i_null ? 0 : latest);
}

void insertComment(soci::session& sql, std::int64_t row_id, const std::string& author,
                   const std::string& kind, const std::string& body, std::int64_t now_ms) {
  long long id = row_id, now = now_ms;
  sql << "INSERT INTO methodology_comments (version_id, author, kind, body, at_ms) VALUES (:v, :a, "
         ":k, :b, :t)",
      soci::use(id), soci::use(author), soci::use(kind), soci::use(body), soci::use(now);
}

std::vector<VersionComment> loadComments(soci::session& sql, std::int64_t row_id) {
  long long id = row_id;
  std::vector<VersionComment> out;
  soci::rowset<soci::row> rows = (sql.prepare << "SELECT id, author, kind, body, at_ms FROM "
                                                 "methodology_comments WHERE version_id = :v "
                                                 "ORDER BY id",
                                  soci::use(id));
  for (const auto& row : rows) {
    out.push_back({store::rowInt64(row, 0), row.get<std::string>(1), row.get<std::string>(2),
                   row.get<std::string>(3), fromEpochMs(store::rowInt64(row, 4))});
  }
  return out;
}

std::int64_t insertProposal(soci::session& sql, const FieldCipher& cipher, const Proposal& p,
                            std::int64_t now_ms) {
  long long id = 0, now = now_ms, user = p.proposer_user_id.value_or(0);
  std::string contact = cipher.seal(p.contact, kProposalContact);
  soci::indicator user_ind = p.proposer_user_id ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO methodology_proposals (title, domain, description, contact, "
         "proposer_user_id, region_code, "
         "status, created_at_ms) VALUES (:t, :d, :ds, :c, :u, :r, 'proposed', :at) RETURNING id",
      soci::use(p.title), soci::use(p.domain), soci::use(p.description), soci::use(contact),
      soci::use(user, user_ind), soci::use(p.region_code), soci::use(now), soci::into(id);
  return id;
}

namespace {

Proposal proposalFromRow(const soci::row& row, const FieldCipher& cipher) {
  Proposal p;
  p.id = store::rowInt64(row, 0);
  p.title = row.get<std::string>(1);
  p.domain = row.get<std::string>(2);
  p.description = row.get<std::string>(3);
  p.contact = cipher.reveal(row.get<std::string>(4), kProposalContact);
  if (row.get_indicator(5) != soci::i_null) p.proposer_user_id = store::rowInt64(row, 5);
  p.region_code = row.get<std::string>(6);
  p.status = row.get<std::string>(7);
  p.created_at = fromEpochMs(store::rowInt64(row, 8));
  return p;
}

constexpr const char* kProposalColumns =
    "id, title, domain, description, contact, proposer_user_id, region_code, status, created_at_ms";

}  // namespace

std::vector<Proposal> listProposals(soci::session& sql, const FieldCipher& cipher) {
  std::vector<Proposal> out;
  soci::rowset<soci::row> rows = sql.prepare << std::string("SELECT ") + kProposalColumns +
                                                    " FROM methodology_proposals ORDER BY id DESC";
  for (const auto& row : rows) out.push_back(proposalFromRow(row, cipher));
  return out;
}

std::optional<Proposal> findProposal(soci::session& sql, const FieldCipher& cipher,
                                     std::int64_t proposal_id) {
  long long id = proposal_id;
  soci::rowset<soci::row> rows = (sql.prepare << std::string("SELECT ") + kProposalColumns +
                                                     " FROM methodology_proposals WHERE id = :id",
                                  soci::use(id));
  for (const auto& row : rows) return proposalFromRow(row, cipher);
  return std::nullopt;
}

void setProposalStatus(soci::session& sql, std::int64_t proposal_id, const std::string& status) {
  long long id = proposal_id;
  sql << "UPDATE methodology_proposals SET status = :s WHERE id = :id", soci::use(status),
      soci::use(id);
}

}  // namespace tph::methodology::detail
