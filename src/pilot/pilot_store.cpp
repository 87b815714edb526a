#include "pilot/pilot_store.h"

#include "store/database.h"

namespace tph::pilot::detail {

namespace {

bool isPostgres(soci::session& sql) {
  return store::backendOf(sql) == store::Backend::kPostgresql;
}

std::vector<RubricCriterion> rubricFromJson(const std::string& text) {
  std::vector<RubricCriterion> rubric;
  for (const auto& c : nlohmann::json::parse(text)) {
    rubric.push_back({c.at("key"), c.at("name"), c.at("max_score"), c.at("weight_percent")});
  }
  return rubric;
}

ApplicationRow applicationFromRow(const soci::row& row) {
  ApplicationRow a;
  a.id = store::rowInt64(row, 0);
  a.round_id = store::rowInt64(row, 1);
  a.region_code = row.get<std::string>(2);
  a.state = row.get<std::string>(3);
  a.plan_json = row.get<std::string>(4);
  if (row.get_indicator(5) == soci::i_ok) a.submitted_at_ms = store::rowInt64(row, 5);
  a.decision_reason = row.get<std::string>(6);
  a.pilot_from = row.get<std::string>(7);
  return a;
}

const char* kApplicationColumns =
    "SELECT id, round_id, region_code, state, plan_json, submitted_at_ms, decision_reason, "
    "pilot_from FROM pilot_applications WHERE id = :id";

}  // namespace

std::int64_t insertRound(soci::session& sql, const std::string& name, std::int64_t deadline_ms,
                         const std::string& rubric_json, const std::string& actor,
                         std::int64_t now_ms) {
  long long id = 0, deadline = deadline_ms, now = now_ms;
  sql << "INSERT INTO pilot_rounds (name, deadline_ms, rubric_json, created_by, created_at_ms) "
         "VALUES (:n, :d, :r, :a, :t) RETURNING id",
      soci::use(name), soci::use(deadline), soci::use(rubric_json), soci::use(actor),
      soci::use(now), soci::into(id);
  return id;
}

std::optional<PilotRound> findRound(soci::session& sql, std::int64_t id) {
  long long key = id, deadline = 0;
  PilotRound r;
  std::string rubric;
  sql << "SELECT name, deadline_ms, rubric_json FROM pilot_rounds WHERE id = :id", soci::use(key),
      soci::into(r.name), soci::into(deadline), soci::into(rubric);
  if (!sql.got_data()) return std::nullopt;
  r.id = id;
  r.deadline = fromEpochMs(deadline);
  r.rubric = rubricFromJson(rubric);
  return r;
}

std::vector<PilotRound> listRounds(soci::session& sql) {
  std::vector<std::int64_t> ids;
  soci::rowset<soci::row> rows = (sql.prepare << "SELECT id FROM pilot_rounds ORDER BY id");
  for (const auto& row : rows) ids.push_back(store::rowInt64(row, 0));
  std::vector<PilotRound> out;
  for (auto id : ids) out.push_back(*findRound(sql, id));
  return out;
}

std::optional<std::int64_t> findApplicationId(soci::session& sql, std::int64_t round_id,
                                              const std::string& region_code) {
  long long round = round_id, id = 0;
  sql << "SELECT id FROM pilot_applications WHERE round_id = :r AND region_code = :c",
      soci::use(round), soci::use(region_code), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

std::int64_t insertApplication(soci::session& sql, std::int64_t round_id,
                               const std::string& region_code, const std::string& plan_json,
                               const std::string& actor, std::int64_t now_ms) {
  long long id = 0, round = round_id, now = now_ms;
  sql << "INSERT INTO pilot_applications (round_id, region_code, state, plan_json, drafted_by, "
         "created_at_ms, updated_at_ms) VALUES (:r, :c, 'draft', :p, :a, :t, :t2) RETURNING id",
      soci::use(round), soci::use(region_code), soci::use(plan_json), soci::use(actor),
      soci::use(now), soci::use(now), soci::into(id);
  return id;
}

std::optional<ApplicationRow> findApplicationForUpdate(soci::session& sql, std::int64_t id) {
  std::string query = kApplicationColumns;
  if (isPostgres(sql)) query += " FOR UPDATE";
  long long key = id;
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (const auto& row : rows) return applicationFromRow(row);
  return std::nullopt;
}

std::optional<ApplicationRow> findApplication(soci::session& sql, std::int64_t id) {
  long long key = id;
  soci::rowset<soci::row> rows = (sql.prepare << kApplicationColumns, soci::use(key));
  for (const auto& row : rows) return applicationFromRow(row);
  return std::nullopt;
}

std::vector<std::int64_t> applicationIdsOfRound(soci::session& sql, std::int64_t round_id) {
  long long round = round_id;
  std::vector<std::int64_t> ids;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM pilot_applications WHERE round_id = :r ORDER BY id",
       soci::use(round));
  for (const auto& row : rows) ids.push_back(store::rowInt64(row, 0));
  return ids;
}

void updatePlan(soci::session& sql, std::int64_t id, const std::string& plan_json,
                std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE pilot_applications SET plan_json = :p, updated_at_ms = :t WHERE id = :id",
      soci::use(plan_json), soci::use(now), soci::use(key);
}

void setSubmitted(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE pilot_applications SET state = 'submitted', submitted_at_ms = :t, "
         "updated_at_ms = :t2 WHERE id = :id",
      soci::use(now), soci::use(now), soci::use(key);
}

void setState(soci::session& sql, std::int64_t id, const std::string& state, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE pilot_applications SET state = :s, updated_at_ms = :t WHERE id = :id",
      soci::use(state), soci::use(now), soci::use(key);
}

void setDecision(soci::session& sql, std::int64_t id, const std::string& state,
                 const std::string& reason, const std::string& pilot_from, const std::string& actor,
                 std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE pilot_applications SET state = :s, decision_reason = :r, pilot_from = :f, "
         "decided_by = :a, decided_at_ms = :t, updated_at_ms = :t2 WHERE id = :id",
      soci::use(state), soci::use(reason), soci::use(pilot_from), soci::use(actor), soci::use(now),
      soci::use(now), soci::use(key);
}

bool userExists(soci::session& sql, std::int64_t user_id) {
  long long id = user_id;
  int n = 0;
  sql << "SELECT COUNT(*) FROM users WHERE id = :id", soci::use(id), soci::into(n);
  return n > 0;
}

bool regionExists(soci::session& sql, const std::string& code) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

bool insertReviewer(soci::session& sql, std::int64_t application_id, std::int64_t user_id,
                    const std::string& actor, std::int64_t now_ms) {
  long long app = application_id, user = user_id, now = now_ms;
  int n = 0;
  sql << "SELECT COUNT(*) FROM pilot_reviews WHERE application_id = :a AND reviewer_user_id = :u",
      soci::use(app), soci::use(user), soci::into(n);
  if (n > 0) return false;
  sql << "INSERT INTO pilot_reviews (application_id, reviewer_user_id, assigned_by, "
         "assigned_at_ms) VALUES (:a, :u, :by, :t)",
      soci::use(app), soci::use(user), soci::use(actor), soci::use(now);
  return true;
}

std::vector<Review> reviews(soci::session& sql, std::int64_t application_id) {
  long long app = application_id;
  std::vector<Review> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT reviewer_user_id, scores_json, total_milli, comment "
                      "FROM pilot_reviews WHERE application_id = :a ORDER BY reviewer_user_id",
       soci::use(app));
  for (const auto& row : rows) {
    Review r;
    r.reviewer_user_id = store::rowInt64(row, 0);
    if (row.get_indicator(1) == soci::i_ok) {
      r.scores = nlohmann::json::parse(row.get<std::string>(1)).get<std::map<std::string, int>>();
      r.total_milli = store::rowInt64(row, 2);
    }
    r.comment = row.get<std::string>(3);
    out.push_back(std::move(r));
  }
  return out;
}

void setScores(soci::session& sql, std::int64_t application_id, std::int64_t user_id,
               const std::string& scores_json, std::int64_t total_milli, const std::string& comment,
               std::int64_t now_ms) {
  long long app = application_id, user = user_id, total = total_milli, now = now_ms;
  sql << "UPDATE pilot_reviews SET scores_json = :s, total_milli = :m, comment = :c, "
         "scored_at_ms = :t WHERE application_id = :a AND reviewer_user_id = :u",
      soci::use(scores_json), soci::use(total), soci::use(comment), soci::use(now), soci::use(app),
      soci::use(user);
}

std::int64_t insertAttachment(soci::session& sql, std::int64_t application_id,
                              const AttachmentInfo& info, const std::string& content_base64,
                              const std::string& actor, std::int64_t now_ms) {
  long long id = 0, app = application_id, bytes = info.bytes, now = now_ms;
  sql << "INSERT INTO pilot_attachments (application_id, name, sha256, bytes, content_base64, "
         "added_by, added_at_ms) VALUES (:a, :n, :h, :b, :c, :by, :t) RETURNING id",
      soci::use(app), soci::use(info.name), soci::use(info.sha256), soci::use(bytes),
      soci::use(content_base64), soci::use(actor), soci::use(now), soci::into(id);
  return id;
}

std::vector<AttachmentInfo> attachments(soci::session& sql, std::int64_t application_id) {
  long long app = application_id;
  std::vector<AttachmentInfo> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, name, sha256, bytes FROM pilot_attachments "
                      "WHERE application_id = :a ORDER BY id",
       soci::use(app));
  for (const auto& row : rows) {
    out.push_back({store::rowInt64(row, 0), row.get<std::string>(1), row.get<std::string>(2),
                   store::rowInt64(row, 3)});
  }
  return out;
}

void insertPilot(soci::session& sql, const std::string& region_code, std::int64_t application_id,
                 const std::string& pilot_from, std::int64_t now_ms) {
  long long app = application_id, now = now_ms;
  sql << "INSERT INTO pilots (region_code, application_id, pilot_from, designated_at_ms) "
         "VALUES (:c, :a, :f, :t)",
      soci::use(region_code), soci::use(app), soci::use(pilot_from), soci::use(now);
}

std::optional<Pilot> findPilot(soci::session& sql, const std::string& region_code) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT region_code, application_id, pilot_from FROM pilots "
                      "WHERE region_code = :c",
       soci::use(region_code));
  for (const auto& row : rows) {
    return Pilot{row.get<std::string>(0), store::rowInt64(row, 1), row.get<std::string>(2)};
  }
  return std::nullopt;
}

std::vector<Pilot> listPilots(soci::session& sql) {
  std::vector<Pilot> out;
  soci::rowset<soci::row> rows = (sql.prepare << "SELECT region_code, application_id, pilot_from "
                                                 "FROM pilots ORDER BY region_code");
  for (const auto& row : rows) {
    out.push_back({row.get<std::string>(0), store::rowInt64(row, 1), row.get<std::string>(2)});
  }
  return out;
}

bool progressExists(soci::session& sql, const std::string& region_code, int year, int quarter) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM pilot_progress_reports WHERE region_code = :c AND year = :y "
         "AND quarter = :q",
      soci::use(region_code), soci::use(year), soci::use(quarter), soci::into(n);
  return n > 0;
}

std::int64_t insertProgress(soci::session& sql, const ProgressRow& row, const std::string& actor) {
  long long id = 0, at = row.filed_at_ms;
  sql << "INSERT INTO pilot_progress_reports (region_code, year, quarter, measured_json, "
         "targets_json, narrative, filed_by, filed_at_ms) VALUES (:c, :y, :q, :m, :g, :n, :a, "
         ":t) RETURNING id",
      soci::use(row.region_code), soci::use(row.year), soci::use(row.quarter),
      soci::use(row.measured_json), soci::use(row.targets_json), soci::use(row.narrative),
      soci::use(actor), soci::use(at), soci::into(id);
  return id;
}

std::vector<ProgressRow> listProgress(soci::session& sql, const std::string& region_code) {
  std::vector<ProgressRow> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, region_code, year, quarter, measured_json, targets_json, "
                      "narrative, filed_at_ms FROM pilot_progress_reports WHERE region_code = :c "
                      "ORDER BY year, quarter",
       soci::use(region_code));
  for (const auto& row : rows) {
    ProgressRow r;
    r.id = store::rowInt64(row, 0);
    r.region_code = row.get<std::string>(1);
    r.year = static_cast<int>(store::rowInt64(row, 2));
    r.quarter = static_cast<int>(store::rowInt64(row, 3));
    r.measured_json = row.get<std::string>(4);
    r.targets_json = row.get<std::string>(5);
    r.narrative = row.get<std::string>(6);
    r.filed_at_ms = store::rowInt64(row, 7);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tph::pilot::detail
