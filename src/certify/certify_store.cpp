#include "certify/certify_store.h"

#include <map>
#include <stdexcept>

#include "core/region_code.h"
#include "store/database.h"

namespace tph::certify::detail {

namespace {

using store::rowInt64;
using store::rowOptionalInt64;

const char* kBatchColumns =
    "id, methodology_id, region_code, vintage_from, vintage_until, vintage_year, carbon_sink, "
    "operator_account_id, state, opened_by, opened_by_user_id, opened_at_ms, notice_days_working, "
    "notice_until_ms, sample_seed, report_json, records_locked, grams_locked, verifier_user_id, "
    "verifier_name, grams_approved, decision_note, carry_in_grams, carry_out_grams, units_issued, "
    "buffer_units, issued_at_ms";

BatchRow batchFrom(const soci::row& row) {
  BatchRow b;
  b.id = rowInt64(row, 0);
  b.methodology = row.get<std::string>(1);
  b.region = row.get<std::string>(2);
  b.vintage_from = row.get<std::string>(3);
  b.vintage_until = row.get<std::string>(4);
  b.vintage_year = static_cast<int>(rowInt64(row, 5));
  b.carbon_sink = rowInt64(row, 6) != 0;
  b.operator_account_id = rowInt64(row, 7);
  b.state = row.get<std::string>(8);
  b.opened_by = row.get<std::string>(9);
  b.opened_by_user_id = rowOptionalInt64(row, 10);
  b.opened_at_ms = rowInt64(row, 11);
  b.notice_days_working = static_cast<int>(rowInt64(row, 12));
  b.notice_until_ms = rowInt64(row, 13);
  b.sample_seed = row.get<std::string>(14);
  b.report_json = row.get<std::string>(15);
  b.records_locked = rowInt64(row, 16);
  b.grams_locked = rowInt64(row, 17);
  b.verifier_user_id = rowOptionalInt64(row, 18);
  b.verifier_name = row.get<std::string>(19);
  b.grams_approved = rowOptionalInt64(row, 20);
  b.decision_note = row.get<std::string>(21);
  b.carry_in = rowOptionalInt64(row, 22);
  b.carry_out = rowOptionalInt64(row, 23);
  b.units_issued = rowOptionalInt64(row, 24);
  b.buffer_units = rowOptionalInt64(row, 25);
  b.issued_at_ms = rowOptionalInt64(row, 26);
  return b;
}

bool isPostgres(soci::session& sql) {
  return sql.get_backend_name() == "postgresql";
}

std::int64_t count(soci::session& sql, const std::string& query, std::int64_t id) {
  long long key = id, n = 0;
  soci::indicator ind = soci::i_ok;
  sql << query, soci::use(key), soci::into(n, ind);
  return ind == soci::i_null ? 0 : n;
}

}  // namespace

std::optional<BatchRow> findBatch(soci::session& sql, std::int64_t id, bool for_update) {
  long long key = id;
  std::string query =
      std::string("SELECT ") + kBatchColumns + " FROM certification_batches WHERE id = :id";
  if (for_update && isPostgres(sql)) query += " FOR UPDATE";
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (const auto& row : rows) return batchFrom(row);
  return std::nullopt;
}

std::vector<BatchRow> listBatches(soci::session& sql, const std::string& state, int limit,
                                  int offset) {
  std::vector<BatchRow> out;
  std::string query = std::string("SELECT ") + kBatchColumns + " FROM certification_batches ";
  if (state.empty()) {
    soci::rowset<soci::row> rows = (sql.prepare << query + "ORDER BY id DESC LIMIT :l OFFSET :o",
                                    soci::use(limit), soci::use(offset));
    for (const auto& row : rows) out.push_back(batchFrom(row));
  } else {
    soci::rowset<soci::row> rows =
        (sql.prepare << query + "WHERE state = :s ORDER BY id DESC LIMIT :l OFFSET :o",
         soci::use(state), soci::use(limit), soci::use(offset));
    for (const auto& row : rows) out.push_back(batchFrom(row));
  }
  return out;
}

std::int64_t insertBatch(soci::session& sql, const BatchRow& b, std::int64_t now_ms) {
  long long id = 0, op = b.operator_account_id, opened = b.opened_at_ms, until = b.notice_until_ms,
            now = now_ms, user = b.opened_by_user_id.value_or(0);
  int year = b.vintage_year, days = b.notice_days_working, sink = b.carbon_sink ? 1 : 0;
  soci::indicator user_ind = b.opened_by_user_id ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO certification_batches (methodology_id, region_code, vintage_from, "
         "vintage_until, vintage_year, carbon_sink, operator_account_id, state, opened_by, "
         "opened_by_user_id, opened_at_ms, notice_days_working, notice_until_ms, sample_seed, "
         "report_json, records_locked, grams_locked, updated_at_ms) VALUES (:m, :r, :f, :u, :y, "
         ":sink, :op, 'open', :by, :uid, :at, :days, :until, :seed, '{}', 0, 0, :now) "
         "RETURNING id",
      soci::use(b.methodology), soci::use(b.region), soci::use(b.vintage_from),
      soci::use(b.vintage_until), soci::use(year), soci::use(sink), soci::use(op),
      soci::use(b.opened_by), soci::use(user, user_ind), soci::use(opened), soci::use(days),
      soci::use(until), soci::use(b.sample_seed), soci::use(now), soci::into(id);
  return id;
}

bool regionExists(soci::session& sql, const std::string& code) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

std::int64_t lockReductions(soci::session& sql, std::int64_t batch_id,
                            const std::string& methodology, const std::string& region,
                            const std::string& from_day, const std::string& until_day) {
  long long b = batch_id;
  std::string pattern = regionPrefix(region) + "%";
  soci::statement st =
      (sql.prepare << "INSERT INTO batch_reductions (reduction_id, batch_id, grams) "
                      "SELECT r.id, :b, r.grams FROM reductions r "
                      "JOIN ingest_records e ON e.id = r.record_id "
                      "WHERE r.methodology_id = :m AND r.day >= :f AND r.day <= :u "
                      "AND r.region_code LIKE :p AND r.grams > 0 AND e.status = 'credited' "
                      "AND NOT EXISTS (SELECT 1 FROM batch_reductions x "
                      "WHERE x.reduction_id = r.id)",
       soci::use(b), soci::use(methodology), soci::use(from_day), soci::use(until_day),
       soci::use(pattern));
  st.execute(true);
  return st.get_affected_rows();
}

bool isLinkedBatch(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id;
  int n = 0;
  sql << "SELECT COUNT(*) FROM linked_batches WHERE batch_id = :b", soci::use(b), soci::into(n);
  return n > 0;
}

bool linkedSourceTaken(soci::session& sql, const std::string& source, const std::string& ref) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM linked_batches WHERE source = :s AND source_batch_ref = :r",
      soci::use(source), soci::use(ref), soci::into(n);
  return n > 0;
}

void insertLinkedBatch(soci::session& sql, std::int64_t batch_id, const std::string& source,
                       const std::string& ref, const std::string& records_digest) {
  long long b = batch_id;
  sql << "INSERT INTO linked_batches (batch_id, source, source_batch_ref, records_digest) "
         "VALUES (:b, :s, :r, :d)",
      soci::use(b), soci::use(source), soci::use(ref), soci::use(records_digest);
}

Locked lockedTotals(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id, n = 0, g = 0;
  soci::indicator ind = soci::i_ok;
  sql << "SELECT COUNT(*), CAST(SUM(grams) AS BIGINT) FROM batch_reductions WHERE batch_id = :b",
      soci::use(b), soci::into(n), soci::into(g, ind);
  return {n, ind == soci::i_null ? 0 : g};
}

std::int64_t releasedGrams(soci::session& sql, std::int64_t batch_id) {
  return count(sql, "SELECT CAST(SUM(grams) AS BIGINT) FROM batch_releases WHERE batch_id = :b",
               batch_id);
}

std::vector<std::string> lockedDomains(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT DISTINCT r.domain FROM batch_reductions br "
                      "JOIN reductions r ON r.id = br.reduction_id WHERE br.batch_id = :b",
       soci::use(b));
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row.get<std::string>(0));
  return out;
}

std::vector<std::int64_t> lockedIds(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT reduction_id FROM batch_reductions WHERE batch_id = :b "
                      "ORDER BY reduction_id",
       soci::use(b));
  std::vector<std::int64_t> out;
  for (const auto& row : rows) out.push_back(rowInt64(row, 0));
  return out;
}

std::vector<MonitoringReport::MonthTotal> monthTotals(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT r.methodology_version, substr(r.day, 1, 7), COUNT(*), "
                      "CAST(SUM(br.grams) AS BIGINT) FROM batch_reductions br "
                      "JOIN reductions r ON r.id = br.reduction_id WHERE br.batch_id = :b "
                      "GROUP BY r.methodology_version, substr(r.day, 1, 7) "
                      "ORDER BY r.methodology_version, substr(r.day, 1, 7)",
       soci::use(b));
  std::vector<MonitoringReport::MonthTotal> out;
  for (const auto& row : rows) {
    out.push_back({static_cast<int>(rowInt64(row, 0)), row.get<std::string>(1), rowInt64(row, 2),
                   Grams(rowInt64(row, 3))});
  }
  return out;
}

std::int64_t subjects(soci::session& sql, std::int64_t batch_id) {
  return count(sql,
               "SELECT COUNT(DISTINCT r.account_id) FROM batch_reductions br "
               "JOIN reductions r ON r.id = br.reduction_id WHERE br.batch_id = :b",
               batch_id);
}

std::int64_t reoffered(soci::session& sql, std::int64_t batch_id) {
  return count(sql,
               "SELECT COUNT(*) FROM batch_reductions br WHERE br.batch_id = :b AND EXISTS "
               "(SELECT 1 FROM batch_releases x WHERE x.reduction_id = br.reduction_id)",
               batch_id);
}

std::vector<std::pair<std::string, std::int64_t>> recordStatuses(soci::session& sql,
                                                                 const std::string& methodology,
                                                                 const std::string& region,
                                                                 std::int64_t from_ms,
                                                                 std::int64_t until_ms) {
  long long f = from_ms, u = until_ms;
  std::string pattern = regionPrefix(region) + "%";
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT status, COUNT(*) FROM ingest_records WHERE methodology_id = :m "
                      "AND region_code LIKE :p AND occurred_at_ms >= :f AND occurred_at_ms < :u "
                      "GROUP BY status ORDER BY status",
       soci::use(methodology), soci::use(pattern), soci::use(f), soci::use(u));
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& row : rows) out.emplace_back(row.get<std::string>(0), rowInt64(row, 1));
  return out;
}

std::vector<MonitoringReport::SampleRecord> sampleRecords(soci::session& sql,
                                                          const std::vector<std::int64_t>& ids) {
  std::vector<MonitoringReport::SampleRecord> out;
  if (ids.empty()) return out;
  // The ids are integers from our own table, so listing them inline is safe.
  std::string list;
  for (auto id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
  soci::rowset<soci::row> rows =
      sql.prepare << "SELECT r.id, e.provider_record_id, r.account_id, r.methodology_version, "
                     "r.day, br.grams, r.explanation, e.inputs_json FROM reductions r "
                     "JOIN ingest_records e ON e.id = r.record_id "
                     "JOIN batch_reductions br ON br.reduction_id = r.id WHERE r.id IN ("
                  << list << ")";
  std::map<std::int64_t, MonitoringReport::SampleRecord> by_id;
  for (const auto& row : rows) {
    MonitoringReport::SampleRecord s;
    s.reduction_id = rowInt64(row, 0);
    s.provider_record_id = row.get<std::string>(1);
    s.account_id = rowInt64(row, 2);
    s.methodology_version = static_cast<int>(rowInt64(row, 3));
    s.day = row.get<std::string>(4);
    s.grams = Grams(rowInt64(row, 5));
    s.explanation = nlohmann::json::parse(row.get<std::string>(6), nullptr, false);
    s.inputs = nlohmann::json::parse(row.get<std::string>(7), nullptr, false);
    by_id[s.reduction_id] = std::move(s);
  }
  for (auto id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end())
      throw std::logic_error("sampled reduction " + std::to_string(id) + " is gone");
    out.push_back(std::move(it->second));
  }
  return out;
}

void setReport(soci::session& sql, std::int64_t batch_id, const std::string& report_json,
               std::int64_t records, std::int64_t grams, bool carbon_sink) {
  long long b = batch_id, n = records, g = grams;
  int sink = carbon_sink ? 1 : 0;
  sql << "UPDATE certification_batches SET report_json = :j, records_locked = :n, "
         "grams_locked = :g, carbon_sink = :s WHERE id = :b",
      soci::use(report_json), soci::use(n), soci::use(g), soci::use(sink), soci::use(b);
}

bool setState(soci::session& sql, std::int64_t id, const std::vector<std::string>& from,
              const std::string& to, std::int64_t now_ms) {
  if (from.empty() || from.size() > 4) throw std::logic_error("setState takes 1-4 states");
  std::vector<std::string> states = from;
  states.resize(4, from.front());
  long long key = id, now = now_ms;
  soci::statement st =
      (sql.prepare << "UPDATE certification_batches SET state = :to, updated_at_ms = :now "
                      "WHERE id = :id AND state IN (:a, :b, :c, :d)",
       soci::use(to), soci::use(now), soci::use(key), soci::use(states[0]), soci::use(states[1]),
       soci::use(states[2]), soci::use(states[3]));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void setVerifier(soci::session& sql, std::int64_t id, std::int64_t user_id, const std::string& name,
                 std::int64_t now_ms) {
  long long key = id, user = user_id, now = now_ms;
  sql << "UPDATE certification_batches SET verifier_user_id = :u, verifier_name = :n, "
         "updated_at_ms = :now WHERE id = :id",
      soci::use(user), soci::use(name), soci::use(now), soci::use(key);
}

void setDecision(soci::session& sql, std::int64_t id, std::optional<std::int64_t> grams,
                 const std::string& note, std::int64_t now_ms) {
  long long key = id, g = grams.value_or(0), now = now_ms;
  soci::indicator ind = grams ? soci::i_ok : soci::i_null;
  sql << "UPDATE certification_batches SET grams_approved = :g, decision_note = :n, "
         "updated_at_ms = :now WHERE id = :id",
      soci::use(g, ind), soci::use(note), soci::use(now), soci::use(key);
}

void setIssued(soci::session& sql, std::int64_t id, std::int64_t carry_in, std::int64_t carry_out,
               std::int64_t units, std::int64_t buffer_units, std::int64_t now_ms) {
  long long key = id, ci = carry_in, co = carry_out, u = units, bu = buffer_units, now = now_ms;
  sql << "UPDATE certification_batches SET state = 'issued', carry_in_grams = :ci, "
         "carry_out_grams = :co, units_issued = :u, buffer_units = :bu, issued_at_ms = :t, "
         "updated_at_ms = :t2 WHERE id = :id AND state = 'approved'",
      soci::use(ci), soci::use(co), soci::use(u), soci::use(bu), soci::use(now), soci::use(now),
      soci::use(key);
}

void refreshLockedTotals(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  auto totals = lockedTotals(sql, id);
  long long key = id, n = totals.records, g = totals.grams, now = now_ms;
  sql << "UPDATE certification_batches SET records_locked = :n, grams_locked = :g, "
         "updated_at_ms = :now WHERE id = :id",
      soci::use(n), soci::use(g), soci::use(now), soci::use(key);
}

std::optional<std::int64_t> lockedGrams(soci::session& sql, std::int64_t batch_id,
                                        std::int64_t reduction_id) {
  long long b = batch_id, r = reduction_id, g = 0;
  sql << "SELECT grams FROM batch_reductions WHERE reduction_id = :r AND batch_id = :b",
      soci::use(r), soci::use(b), soci::into(g);
  if (!sql.got_data()) return std::nullopt;
  return g;
}

void releaseOne(soci::session& sql, std::int64_t batch_id, std::int64_t reduction_id,
                std::int64_t grams, const std::string& reason, const std::string& actor,
                std::int64_t now_ms) {
  long long b = batch_id, r = reduction_id, g = grams, now = now_ms;
  sql << "INSERT INTO batch_releases (batch_id, reduction_id, grams, kind, reason, actor, at_ms) "
         "VALUES (:b, :r, :g, 'deducted', :reason, :a, :t)",
      soci::use(b), soci::use(r), soci::use(g), soci::use(reason), soci::use(actor), soci::use(now);
  soci::statement st = (sql.prepare << "DELETE FROM batch_reductions WHERE reduction_id = :r "
                                       "AND batch_id = :b",
                        soci::use(r), soci::use(b));
  st.execute(true);
  if (st.get_affected_rows() != 1)
    throw std::logic_error("reduction " + std::to_string(reduction_id) + " was not locked");
}

std::int64_t releaseAll(soci::session& sql, std::int64_t batch_id, const std::string& reason,
                        const std::string& actor, std::int64_t now_ms) {
  long long b = batch_id, now = now_ms;
  sql << "INSERT INTO batch_releases (batch_id, reduction_id, grams, kind, reason, actor, at_ms) "
         "SELECT batch_id, reduction_id, grams, 'rejected', :reason, :a, :t FROM batch_reductions "
         "WHERE batch_id = :b",
      soci::use(reason), soci::use(actor), soci::use(now), soci::use(b);
  soci::statement st =
      (sql.prepare << "DELETE FROM batch_reductions WHERE batch_id = :b", soci::use(b));
  st.execute(true);
  return st.get_affected_rows();
}

std::int64_t insertComment(soci::session& sql, std::int64_t batch_id, const std::string& author,
                           std::optional<std::int64_t> user_id, const std::string& body,
                           std::int64_t now_ms) {
  long long id = 0, b = batch_id, u = user_id.value_or(0), now = now_ms;
  soci::indicator ind = user_id ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO batch_comments (batch_id, author, user_id, body, at_ms) "
         "VALUES (:b, :a, :u, :body, :t) RETURNING id",
      soci::use(b), soci::use(author), soci::use(u, ind), soci::use(body), soci::use(now),
      soci::into(id);
  return id;
}

std::int64_t commentCount(soci::session& sql, std::int64_t batch_id) {
  return count(sql, "SELECT COUNT(*) FROM batch_comments WHERE batch_id = :b", batch_id);
}

std::vector<Comment> listComments(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, author, body, at_ms FROM batch_comments WHERE batch_id = :b "
                      "ORDER BY id",
       soci::use(b));
  std::vector<Comment> out;
  for (const auto& row : rows) {
    out.push_back({rowInt64(row, 0), row.get<std::string>(1), row.get<std::string>(2),
                   fromEpochMs(rowInt64(row, 3))});
  }
  return out;
}

void insertReview(soci::session& sql, std::int64_t batch_id, const std::string& actor,
                  const std::string& action, const std::string& note, std::int64_t now_ms) {
  long long b = batch_id, now = now_ms;
  sql << "INSERT INTO batch_reviews (batch_id, actor, action, note, at_ms) "
         "VALUES (:b, :a, :act, :n, :t)",
      soci::use(b), soci::use(actor), soci::use(action), soci::use(note), soci::use(now);
}

std::vector<ReviewEntry> listReviews(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT actor, action, note, at_ms FROM batch_reviews WHERE batch_id = :b "
                      "ORDER BY id",
       soci::use(b));
  std::vector<ReviewEntry> out;
  for (const auto& row : rows) {
    out.push_back({row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(2),
                   fromEpochMs(rowInt64(row, 3))});
  }
  return out;
}

std::int64_t carryOver(soci::session& sql, const std::string& region,
                       const std::string& methodology) {
  long long g = 0;
  std::string query =
      "SELECT grams FROM carry_overs WHERE region_code = :r AND methodology_id = :m";
  if (isPostgres(sql)) query += " FOR UPDATE";
  sql << query, soci::use(region), soci::use(methodology), soci::into(g);
  return sql.got_data() ? g : 0;
}

bool replaceCarryOver(soci::session& sql, const std::string& region, const std::string& methodology,
                      std::int64_t before, std::int64_t after, std::int64_t now_ms) {
  long long b = before, a = after, now = now_ms, exists = 0;
  sql << "SELECT COUNT(*) FROM carry_overs WHERE region_code = :r AND methodology_id = :m",
      soci::use(region), soci::use(methodology), soci::into(exists);
  if (exists == 0) {
    if (before != 0) return false;
    sql << "INSERT INTO carry_overs (region_code, methodology_id, grams, updated_at_ms) "
           "VALUES (:r, :m, :g, :t)",
        soci::use(region), soci::use(methodology), soci::use(a), soci::use(now);
    return true;
  }
  soci::statement st =
      (sql.prepare << "UPDATE carry_overs SET grams = :a, updated_at_ms = :t "
                      "WHERE region_code = :r AND methodology_id = :m AND grams = :b",
       soci::use(a), soci::use(now), soci::use(region), soci::use(methodology), soci::use(b));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace tph::certify::detail
