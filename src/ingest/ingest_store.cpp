#include "ingest/ingest_store.h"

#include "core/clock.h"
#include "store/database.h"
#include "store/json_rows.h"

namespace tph::ingest::detail {

namespace {

constexpr const char* kProviderColumns =
    "id, provider_key, name, kind, user_id, pseudonym_key, status, created_at_ms";

Provider providerFromRow(soci::session& sql, const soci::row& row) {
  Provider p;
  p.id = store::rowInt64(row, 0);
  p.key = row.get<std::string>(1);
  p.name = row.get<std::string>(2);
  p.kind = row.get<std::string>(3);
  if (row.get_indicator(4) != soci::i_null) p.user_id = store::rowInt64(row, 4);
  p.pseudonym_key = row.get<std::string>(5);
  p.status = row.get<std::string>(6);
  p.created_at = fromEpochMs(store::rowInt64(row, 7));
  long long id = p.id;
  std::string value;
  soci::statement regions =
      (sql.prepare << "SELECT region_code FROM provider_regions WHERE provider_id = :id "
                      "ORDER BY region_code",
       soci::use(id), soci::into(value));
  regions.execute();
  while (regions.fetch()) p.regions.push_back(value);
  soci::statement methods = (sql.prepare << "SELECT methodology_id FROM provider_methodologies "
                                            "WHERE provider_id = :id ORDER BY methodology_id",
                             soci::use(id), soci::into(value));
  methods.execute();
  while (methods.fetch()) p.methodologies.push_back(value);
  return p;
}

std::optional<Provider> oneProvider(soci::session& sql, const std::string& where,
                                    const std::string& bind) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kProviderColumns + " FROM providers WHERE " + where,
       soci::use(bind));
  for (const auto& row : rows) return providerFromRow(sql, row);
  return std::nullopt;
}

constexpr const char* kBindingColumns =
    "b.id, b.provider_id, p.provider_key, b.subject_ref, b.account_id, b.status, b.requested_by, "
    "b.created_at_ms, "
    "b.confirmed_at_ms, b.code_hash";

Binding bindingFromRow(const soci::row& row) {
  Binding b;
  b.id = store::rowInt64(row, 0);
  b.provider_id = store::rowInt64(row, 1);
  b.provider_key = row.get<std::string>(2);
  b.subject_ref = row.get<std::string>(3);
  b.account_id = store::rowInt64(row, 4);
  b.status = row.get<std::string>(5);
  if (row.get_indicator(6) != soci::i_null) b.requested_by = store::rowInt64(row, 6);
  b.created_at = fromEpochMs(store::rowInt64(row, 7));
  if (row.get_indicator(8) != soci::i_null) b.confirmed_at = fromEpochMs(store::rowInt64(row, 8));
  b.code_issued = row.get_indicator(9) != soci::i_null;
  return b;
}

std::vector<Binding> bindingsWhere(soci::session& sql, const std::string& where, long long bind) {
  std::vector<Binding> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kBindingColumns +
                          " FROM bindings b JOIN providers p ON p.id = b.provider_id WHERE " +
                          where + " ORDER BY b.id",
       soci::use(bind));
  for (const auto& row : rows) out.push_back(bindingFromRow(row));
  return out;
}

//! Keys for an IN list, as JSON rows of one column: one bound parameter however many keys.
std::string jsonKeys(const std::vector<std::string>& keys) {
  store::JsonRows rows;
  for (const auto& key : keys) rows.row().add(key);
  return rows.text();
}

//! The first millisecond of a day in Asia/Shanghai (UTC+8 all year), or of the day after.
std::int64_t shanghaiDayStartMs(const std::string& day, bool next = false) {
  auto start = shanghaiDayStart(day);
  if (!start) throw std::invalid_argument("not a day: " + day);
  return toEpochMs(*start) + (next ? 86'400'000 : 0);
}

}  // namespace

std::optional<Provider> findProvider(soci::session& sql, std::int64_t id) {
  return oneProvider(sql, "id = CAST(:id AS BIGINT)", std::to_string(id));
}

std::optional<Provider> findProviderByKey(soci::session& sql, const std::string& key) {
  return oneProvider(sql, "provider_key = :k", key);
}

std::optional<Provider> findProviderByUser(soci::session& sql, std::int64_t user_id) {
  return oneProvider(sql, "user_id = CAST(:u AS BIGINT)", std::to_string(user_id));
}

std::vector<Provider> listProviders(soci::session& sql) {
  std::vector<Provider> out;
  soci::rowset<soci::row> rs =
      sql.prepare << std::string("SELECT ") + kProviderColumns + " FROM providers ORDER BY id";
  std::vector<std::int64_t> ids;
  for (const auto& row : rs) ids.push_back(store::rowInt64(row, 0));
  for (auto id : ids) out.push_back(*findProvider(sql, id));
  return out;
}

Status checkProviderReferences(soci::session& sql, const NewProvider& provider) {
  for (const auto& region : provider.regions) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(region), soci::into(n);
    if (n == 0) return Error::invalid("regions", "unknown region " + region);
  }
  for (const auto& m : provider.methodologies) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM methodology_versions WHERE methodology_id = :m", soci::use(m),
        soci::into(n);
    if (n == 0) return Error::invalid("methodologies", "unknown methodology " + m);
  }
  if (provider.user_id) {
    long long u = *provider.user_id;
    int n = 0;
    sql << "SELECT COUNT(*) FROM user_roles WHERE user_id = :u AND role = 'provider'", soci::use(u),
        soci::into(n);
    if (n == 0) return Error::invalid("user_id", "the user must hold the provider role");
    int taken = 0;
    sql << "SELECT COUNT(*) FROM providers WHERE user_id = :u", soci::use(u), soci::into(taken);
    if (taken > 0)
      return Error::conflict("that user already speaks for another provider", "user_id");
  }
  return {};
}

std::int64_t insertProvider(soci::session& sql, const NewProvider& p, const std::string& created_by,
                            std::int64_t now_ms) {
  long long id = 0, now = now_ms, user = p.user_id.value_or(0);
  soci::indicator user_ind = p.user_id ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO providers (provider_key, name, kind, user_id, pseudonym_key, status, "
         "created_by, created_at_ms) "
         "VALUES (:k, :n, :kind, :u, :pk, 'active', :c, :t) RETURNING id",
      soci::use(p.key), soci::use(p.name), soci::use(p.kind), soci::use(user, user_ind),
      soci::use(p.pseudonym_key), soci::use(created_by), soci::use(now), soci::into(id);
  for (const auto& region : p.regions) {
    sql << "INSERT INTO provider_regions (provider_id, region_code) VALUES (:p, :r)", soci::use(id),
        soci::use(region);
  }
  replaceProviderMethodologies(sql, id, p.methodologies);
  return id;
}

void replaceProviderMethodologies(soci::session& sql, std::int64_t provider_id,
                                  const std::vector<std::string>& methodologies) {
  long long id = provider_id;
  sql << "DELETE FROM provider_methodologies WHERE provider_id = :p", soci::use(id);
  for (const auto& m : methodologies) {
    sql << "INSERT INTO provider_methodologies (provider_id, methodology_id) VALUES (:p, :m)",
        soci::use(id), soci::use(m);
  }
}

std::optional<Binding> findBinding(soci::session& sql, std::int64_t id) {
  auto found = bindingsWhere(sql, "b.id = :id", id);
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<Binding> activeBinding(soci::session& sql, std::int64_t provider_id,
                                     const std::string& subject_ref) {
  long long p = provider_id, id = 0;
  sql << "SELECT id FROM bindings WHERE provider_id = :p AND subject_ref = :r AND status = "
         "'active'",
      soci::use(p), soci::use(subject_ref), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return findBinding(sql, id);
}

std::vector<Binding> bindingsOfAccounts(soci::session& sql,
                                        const std::vector<std::int64_t>& account_ids) {
  std::vector<Binding> out;
  for (auto id : account_ids) {
    auto found = bindingsWhere(sql, "b.account_id = :a AND b.status IN ('pending', 'active')", id);
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::vector<Binding> pendingBindings(soci::session& sql, std::int64_t provider_id) {
  return bindingsWhere(sql, "b.provider_id = :p AND b.status = 'pending'", provider_id);
}

std::int64_t insertBinding(soci::session& sql, const Binding& b, std::int64_t now_ms) {
  long long id = 0, now = now_ms, provider = b.provider_id, account = b.account_id,
            by = b.requested_by.value_or(0);
  soci::indicator by_ind = b.requested_by ? soci::i_ok : soci::i_null;
  soci::indicator confirmed_ind = b.status == "active" ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO bindings (provider_id, subject_ref, account_id, status, requested_by, "
         "created_at_ms, "
         "confirmed_at_ms) VALUES (:p, :r, :a, :s, :b, :t, :c) RETURNING id",
      soci::use(provider), soci::use(b.subject_ref), soci::use(account), soci::use(b.status),
      soci::use(by, by_ind), soci::use(now), soci::use(now, confirmed_ind), soci::into(id);
  return id;
}

void setBindingState(soci::session& sql, std::int64_t binding_id, const std::string& status,
                     std::int64_t now_ms) {
  long long id = binding_id, now = now_ms;
  if (status == "active") {
    sql << "UPDATE bindings SET status = 'active', confirmed_at_ms = :t, code_hash = NULL WHERE id "
           "= :id",
        soci::use(now), soci::use(id);
  } else {
    sql << "UPDATE bindings SET status = :s, ended_at_ms = :t WHERE id = :id", soci::use(status),
        soci::use(now), soci::use(id);
  }
}

void setBindingCode(soci::session& sql, std::int64_t binding_id, const std::string& code_hash,
                    std::int64_t expires_ms) {
  long long id = binding_id, expires = expires_ms;
  sql << "UPDATE bindings SET code_hash = :h, code_expires_at_ms = :e, attempts = 0 WHERE id = :id",
      soci::use(code_hash), soci::use(expires), soci::use(id);
}

void countBindingAttempt(soci::session& sql, std::int64_t binding_id) {
  long long id = binding_id;
  sql << "UPDATE bindings SET attempts = attempts + 1 WHERE id = :id", soci::use(id);
}

std::map<std::string, BoundAccount> boundAccounts(soci::session& sql, std::int64_t provider_id,
                                                  const std::vector<std::string>& refs) {
  std::map<std::string, BoundAccount> out;
  if (refs.empty()) return out;
  long long provider = provider_id, account = 0, ledger = 0;
  std::string keys = jsonKeys(refs), ref, kind;
  soci::statement st =
      (sql.prepare
           << "SELECT b.subject_ref, c.id, c.kind, c.ledger_account_id FROM bindings b "
              "JOIN carbon_accounts c ON c.id = b.account_id WHERE b.status = 'active' "
              "AND b.provider_id = :provider AND b.subject_ref IN (SELECT value ->> 0 FROM " +
                  store::jsonRowsSource(sql, "keys") + ")",
       soci::use(provider), soci::use(keys), soci::into(ref), soci::into(account), soci::into(kind),
       soci::into(ledger));
  st.execute();
  while (st.fetch()) out[ref] = {account, kind, ledger};
  return out;
}

std::map<std::string, StoredOutcome> storedOutcomes(soci::session& sql, std::int64_t provider_id,
                                                    const std::vector<std::string>& record_ids) {
  std::map<std::string, StoredOutcome> out;
  if (record_ids.empty()) return out;
  long long provider = provider_id, id = 0;
  std::string keys = jsonKeys(record_ids), rid, status, reason;
  soci::statement st =
      (sql.prepare << "SELECT provider_record_id, id, status, reason FROM ingest_records "
                      "WHERE provider_id = :provider AND provider_record_id IN (SELECT value ->> 0 "
                      "FROM " +
                          store::jsonRowsSource(sql, "keys") + ")",
       soci::use(provider), soci::use(keys), soci::into(rid), soci::into(id), soci::into(status),
       soci::into(reason));
  st.execute();
  while (st.fetch()) out[rid] = {id, status, reason};
  return out;
}

void updateRecordOutcome(soci::session& sql, std::int64_t record_id, const std::string& status,
                         const std::string& reason, std::optional<std::int64_t> account_id,
                         std::int64_t now_ms) {
  long long id = record_id, now = now_ms, account = account_id.value_or(0);
  soci::indicator account_ind = account_id ? soci::i_ok : soci::i_null;
  sql << "UPDATE ingest_records SET status = :s, reason = :r, account_id = :a, decided_at_ms = :t "
         "WHERE id = :id",
      soci::use(status), soci::use(reason), soci::use(account, account_ind), soci::use(now),
      soci::use(id);
}

void deleteRecord(soci::session& sql, std::int64_t record_id) {
  long long id = record_id;
  sql << "DELETE FROM ingest_records WHERE id = :id", soci::use(id);
}

void updateReduction(soci::session& sql, std::int64_t record_id, std::int64_t grams,
                     std::int64_t points, std::int64_t campaign_bonus_points,
                     const std::string& cap, const std::string& explanation) {
  long long record = record_id, g = grams, p = points, bonus = campaign_bonus_points;
  sql << "UPDATE reductions SET grams = :g, points = :p, campaign_bonus_points = :b, "
         "cap_applied = :c, explanation = :e WHERE record_id = :r",
      soci::use(g), soci::use(p), soci::use(bonus), soci::use(cap), soci::use(explanation),
      soci::use(record);
}

bool dayHasLockedReductions(soci::session& sql, std::int64_t account_id,
                            const std::string& methodology, const std::string& day) {
  long long account = account_id, from = shanghaiDayStartMs(day),
            to = shanghaiDayStartMs(day, true), found = 0;
  sql << "SELECT COUNT(*) FROM reductions r JOIN batch_reductions b ON b.reduction_id = r.id "
         "WHERE r.account_id = :a AND r.occurred_at_ms >= :f AND r.occurred_at_ms < :t "
         "AND r.methodology_id = :m",
      soci::use(account), soci::use(from), soci::use(to), soci::use(methodology), soci::into(found);
  return found > 0;
}

std::vector<DayRecord> creditedDayRecords(soci::session& sql, std::int64_t account_id,
                                          const std::string& methodology, const std::string& day) {
  std::vector<DayRecord> out;
  long long account = account_id, from = shanghaiDayStartMs(day),
            to = shanghaiDayStartMs(day, true);
  soci::rowset<soci::row> rows =
      (sql.prepare
           << "SELECT r.record_id, r.occurred_at_ms, e.provider_record_id, e.inputs_json, "
              "r.region_code, "
              "r.methodology_version, r.grams, r.points FROM reductions r "
              "JOIN ingest_records e ON e.id = r.record_id "
              "WHERE r.account_id = :a AND r.occurred_at_ms >= :f AND r.occurred_at_ms < :t "
              "AND r.methodology_id = :m",
       soci::use(account), soci::use(from), soci::use(to), soci::use(methodology));
  for (const auto& row : rows) {
    out.push_back({store::rowInt64(row, 0), store::rowInt64(row, 1), row.get<std::string>(2),
                   row.get<std::string>(3), row.get<std::string>(4),
                   static_cast<int>(store::rowInt64(row, 5)), store::rowInt64(row, 6),
                   store::rowInt64(row, 7)});
  }
  return out;
}

std::int64_t insertBatch(soci::session& sql, std::int64_t provider_id, const std::string& source,
                         std::int64_t now_ms) {
  long long id = 0, provider = provider_id, now = now_ms;
  sql << "INSERT INTO ingest_batches (provider_id, source, received_at_ms, records, credited, "
         "duplicate, held, "
         "quarantined, digest) VALUES (:p, :s, :t, 0, 0, 0, 0, 0, '') RETURNING id",
      soci::use(provider), soci::use(source), soci::use(now), soci::into(id);
  return id;
}

void finishBatch(soci::session& sql, std::int64_t batch_id, const BatchReport& r,
                 const std::string& digest) {
  long long id = batch_id, records = r.records, credited = r.credited, duplicate = r.duplicate,
            held = r.held, quarantined = r.quarantined;
  sql << "UPDATE ingest_batches SET records = :r, credited = :c, duplicate = :d, held = :h, "
         "quarantined = :q, "
         "digest = :g WHERE id = :id",
      soci::use(records), soci::use(credited), soci::use(duplicate), soci::use(held),
      soci::use(quarantined), soci::use(digest), soci::use(id);
}

std::vector<StoredRecord> recordsWhere(soci::session& sql, const std::string& where,
                                       const std::vector<std::string>& binds, int limit,
                                       int offset) {
  std::vector<StoredRecord> out;
  long long id = 0, provider = 0, at = 0, received = 0, account = 0;
  std::string key, rid, ref, methodology, region, inputs, status, reason;
  soci::indicator account_ind;
  soci::statement st(sql);
  st.exchange(soci::into(id));
  st.exchange(soci::into(provider));
  st.exchange(soci::into(key));
  st.exchange(soci::into(rid));
  st.exchange(soci::into(ref));
  st.exchange(soci::into(methodology));
  st.exchange(soci::into(at));
  st.exchange(soci::into(region));
  st.exchange(soci::into(inputs));
  st.exchange(soci::into(status));
  st.exchange(soci::into(reason));
  st.exchange(soci::into(received));
  st.exchange(soci::into(account, account_ind));
  for (const auto& b : binds) st.exchange(soci::use(b));
  st.alloc();
  st.prepare(
      "SELECT e.id, e.provider_id, p.provider_key, e.provider_record_id, e.subject_ref, "
      "e.methodology_id, "
      "e.occurred_at_ms, e.region_code, e.inputs_json, e.status, e.reason, e.received_at_ms, "
      "e.account_id "
      "FROM ingest_records e JOIN providers p ON p.id = e.provider_id WHERE " +
      where + " ORDER BY e.id DESC LIMIT " + std::to_string(limit) + " OFFSET " +
      std::to_string(offset));
  st.define_and_bind();
  st.execute(false);
  while (st.fetch()) {
    StoredRecord r;
    r.id = id;
    r.provider_id = provider;
    r.provider_key = key;
    r.provider_record_id = rid;
    r.subject_ref = ref;
    r.methodology = methodology;
    r.occurred_at = fromEpochMs(at);
    r.region = region;
    r.inputs = nlohmann::json::parse(inputs, nullptr, false);
    r.status = status;
    r.reason = reason;
    r.received_at = fromEpochMs(received);
    if (account_ind != soci::i_null) r.account_id = account;
    out.push_back(std::move(r));
  }
  return out;
}

AccountSummary accountSummary(soci::session& sql, std::int64_t account_id,
                              const std::string& from_day, const std::string& to_day) {
  AccountSummary out;
  long long account = account_id, grams = 0, points = 0, count = 0;
  std::string key;
  soci::indicator grams_ind, points_ind;
  sql << "SELECT COUNT(*), SUM(grams), SUM(points) FROM reductions WHERE account_id = :a",
      soci::use(account), soci::into(count), soci::into(grams, grams_ind),
      soci::into(points, points_ind);
  out.records = count;
  out.grams = grams_ind == soci::i_null ? 0 : grams;
  out.points_earned = points_ind == soci::i_null ? 0 : points;
  soci::statement domains =
      (sql.prepare << "SELECT domain, SUM(grams) FROM reductions WHERE account_id = :a "
                      "GROUP BY domain ORDER BY domain",
       soci::use(account), soci::into(key), soci::into(grams));
  domains.execute();
  while (domains.fetch()) out.grams_by_domain[key] = grams;
  // The time range lets the (account, time) index find the days.
  long long from_ms = shanghaiDayStartMs(from_day), to_ms = shanghaiDayStartMs(to_day, true);
  soci::statement days =
      (sql.prepare << "SELECT day, SUM(grams) FROM reductions WHERE account_id = :a "
                      "AND occurred_at_ms >= :f AND occurred_at_ms < :t GROUP BY day ORDER BY day",
       soci::use(account), soci::use(from_ms), soci::use(to_ms), soci::into(key),
       soci::into(grams));
  days.execute();
  while (days.fetch()) out.grams_by_day.emplace_back(key, grams);
  return out;
}

std::vector<ReductionEntry> accountHistory(soci::session& sql, std::int64_t account_id, int limit,
                                           int offset) {
  std::vector<ReductionEntry> out;
  long long account = account_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT r.record_id, p.provider_key, e.provider_record_id, r.methodology_id, "
                      "r.methodology_version, r.domain, r.occurred_at_ms, r.region_code, r.grams, "
                      "r.points, "
                      "r.cap_applied, r.explanation, e.inputs_json, r.campaign_id, "
                      "r.campaign_bonus_points FROM reductions r JOIN "
                      "ingest_records e ON "
                      "e.id = r.record_id "
                      "JOIN providers p ON p.id = r.provider_id WHERE r.account_id = :a "
                      "ORDER BY r.occurred_at_ms DESC, r.record_id DESC LIMIT " +
                          std::to_string(limit) + " OFFSET " + std::to_string(offset),
       soci::use(account));
  for (const auto& row : rows) {
    ReductionEntry e;
    e.record_id = store::rowInt64(row, 0);
    e.provider_key = row.get<std::string>(1);
    e.provider_record_id = row.get<std::string>(2);
    e.methodology = row.get<std::string>(3);
    e.version = static_cast<int>(store::rowInt64(row, 4));
    e.domain = row.get<std::string>(5);
    e.occurred_at = fromEpochMs(store::rowInt64(row, 6));
    e.region = row.get<std::string>(7);
    e.grams = store::rowInt64(row, 8);
    e.points = store::rowInt64(row, 9);
    e.cap_applied = row.get<std::string>(10);
    e.explanation = nlohmann::json::parse(row.get<std::string>(11), nullptr, false);
    e.inputs = nlohmann::json::parse(row.get<std::string>(12), nullptr, false);
    e.campaign_id = store::rowOptionalInt64(row, 13);
    e.campaign_bonus_points = store::rowInt64(row, 14);
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

using store::ColumnType;

std::vector<store::BulkColumn> recordColumns() {
  return {{"id", ColumnType::kInt64},
          {"provider_id", ColumnType::kInt64},
          {"provider_record_id", ColumnType::kText},
          {"batch_id", ColumnType::kInt64},
          {"subject_ref", ColumnType::kText},
          {"methodology_id", ColumnType::kText},
          {"occurred_at_ms", ColumnType::kInt64},
          {"region_code", ColumnType::kText},
          {"inputs_json", ColumnType::kText},
          {"status", ColumnType::kText},
          {"reason", ColumnType::kText},
          {"account_id", ColumnType::kInt64},
          {"received_at_ms", ColumnType::kInt64},
          {"decided_at_ms", ColumnType::kInt64}};
}

std::vector<store::BulkColumn> reductionColumns() {
  return {{"record_id", ColumnType::kInt64},
          {"account_id", ColumnType::kInt64},
          {"provider_id", ColumnType::kInt64},
          {"methodology_id", ColumnType::kText},
          {"methodology_version", ColumnType::kInt64},
          {"domain", ColumnType::kText},
          {"occurred_at_ms", ColumnType::kInt64},
          {"day", ColumnType::kText},
          {"region_code", ColumnType::kText},
          {"grams", ColumnType::kInt64},
          {"points", ColumnType::kInt64},
          {"cap_applied", ColumnType::kText},
          {"explanation", ColumnType::kText},
          {"campaign_id", ColumnType::kInt64},
          {"campaign_bonus_points", ColumnType::kInt64}};
}

}  // namespace

BatchStatements::BatchStatements(soci::session& sql)
    : sql_(sql),
      records_("ingest_records", recordColumns()),
      reductions_("reductions", reductionColumns()) {
  recent_travel_.emplace(
      (sql.prepare
           << "SELECT occurred_at_ms, provider_id, methodology_id FROM reductions "
              "WHERE account_id = :a AND occurred_at_ms BETWEEN :f AND :t AND domain = 'travel'",
       soci::use(trip_account_), soci::use(trip_from_), soci::use(trip_to_), soci::into(trip_at_),
       soci::into(trip_provider_), soci::into(trip_methodology_)));
  load_caps_.emplace(
      (sql.prepare << "SELECT period, grams, input_totals, last_key FROM cap_usage "
                      "WHERE account_id = :a AND methodology_id = :m AND period IN (:d, :mo, :y)",
       soci::use(cap_account_), soci::use(cap_methodology_), soci::use(cap_day_),
       soci::use(cap_month_), soci::use(cap_year_), soci::into(cap_period_), soci::into(cap_grams_),
       soci::into(cap_totals_), soci::into(cap_key_)));
}

std::int64_t BatchStatements::nextRecordId() {
  if (store::backendOf(sql_) == store::Backend::kSqlite) {
    // The transaction began IMMEDIATE and holds SQLite's write lock: nobody else inserts.
    if (next_id_ == 0) {
      long long max = 0;
      soci::indicator ind;
      sql_ << "SELECT MAX(id) FROM ingest_records", soci::into(max, ind);
      next_id_ = (ind == soci::i_null ? 0 : max) + 1;
    }
    return next_id_++;
  }
  if (free_ids_.empty()) {
    constexpr int kBlock = 2000;
    long long id = 0;
    int block = kBlock;
    soci::statement st =
        (sql_.prepare << "SELECT nextval(pg_get_serial_sequence('ingest_records', 'id')) "
                         "FROM generate_series(1, :n)",
         soci::use(block), soci::into(id));
    st.execute();
    while (st.fetch()) free_ids_.push_back(id);
    std::reverse(free_ids_.begin(), free_ids_.end());
  }
  std::int64_t id = free_ids_.back();
  free_ids_.pop_back();
  return id;
}

std::int64_t BatchStatements::queueRecord(const RecordRow& row, std::int64_t now_ms) {
  std::int64_t id = nextRecordId();
  records_.row()
      .add(id)
      .add(row.provider_id)
      .add(row.rid)
      .add(row.batch_id)
      .add(row.ref)
      .add(row.methodology)
      .add(row.at_ms)
      .add(row.region)
      .add(row.inputs_json)
      .add(row.status)
      .add(row.reason)
      .add(row.account_id)
      .add(now_ms)
      .add(row.status == "held" ? std::nullopt : std::optional<std::int64_t>(now_ms));
  return id;
}

void BatchStatements::queueReduction(const ReductionRow& row) {
  reductions_.row()
      .add(row.record_id)
      .add(row.account_id)
      .add(row.provider_id)
      .add(row.methodology)
      .add(row.version)
      .add(row.domain)
      .add(row.at_ms)
      .add(row.day)
      .add(row.region)
      .add(row.grams)
      .add(row.points)
      .add(row.cap)
      .add(row.explanation)
      .add(row.campaign_id)
      .add(row.campaign_bonus_points);
  rollups_.add(row.day, row.region, row.domain, row.methodology, row.account_id, 1, row.grams,
               row.points);
}

void BatchStatements::queueReductionChange(const std::string& day, const std::string& region,
                                           const std::string& domain,
                                           const std::string& methodology, std::int64_t account_id,
                                           std::int64_t grams_delta, std::int64_t points_delta) {
  rollups_.add(day, region, domain, methodology, account_id, 0, grams_delta, points_delta);
}

void BatchStatements::flush() {
  records_.execute(sql_);
  reductions_.execute(sql_);
  rollups_.apply(sql_);
  flushCaps();
}

std::vector<RecentTrip> BatchStatements::recentTravel(std::int64_t account_id, std::int64_t from_ms,
                                                      std::int64_t to_ms) {
  std::vector<RecentTrip> out;
  if (trips_loaded_for_.count(account_id) && from_ms >= trips_from_ && to_ms <= trips_to_) {
    for (const auto& t : trips_[account_id]) {
      if (t.at_ms >= from_ms && t.at_ms <= to_ms) out.push_back(t);
    }
    return out;
  }
  trip_account_ = account_id;
  trip_from_ = from_ms;
  trip_to_ = to_ms;
  recent_travel_->execute(false);
  while (recent_travel_->fetch()) out.push_back({trip_at_, trip_provider_, trip_methodology_});
  return out;
}

void BatchStatements::preload(const std::vector<std::int64_t>& account_ids,
                              const std::vector<std::string>& periods, std::int64_t trips_from_ms,
                              std::int64_t trips_to_ms) {
  constexpr std::size_t kChunk = 400;
  bool postgres = sql_.get_backend_name() == "postgresql";
  trips_from_ = trips_from_ms;
  trips_to_ = trips_to_ms;
  cap_periods_.insert(periods.begin(), periods.end());
  std::string period_list;
  for (std::size_t i = 0; i < periods.size(); ++i)
    period_list += (i ? ",:p" : ":p") + std::to_string(i);
  for (std::size_t start = 0; start < account_ids.size(); start += kChunk) {
    std::size_t n = std::min(kChunk, account_ids.size() - start);
    std::string accounts;  // ids are integers from the database: safe to write into the text
    for (std::size_t i = 0; i < n; ++i)
      accounts += (i ? "," : "") + std::to_string(account_ids[start + i]);
    {
      long long account = 0, grams = 0;
      std::string methodology, period, totals, key;
      soci::statement st(sql_);
      st.exchange(soci::into(account));
      st.exchange(soci::into(methodology));
      st.exchange(soci::into(period));
      st.exchange(soci::into(grams));
      st.exchange(soci::into(totals));
      st.exchange(soci::into(key));
      for (const auto& p : periods) st.exchange(soci::use(p));
      st.alloc();
      st.prepare(
          "SELECT account_id, methodology_id, period, grams, input_totals, last_key FROM cap_usage "
          "WHERE account_id IN (" +
          accounts + ") AND period IN (" + period_list + ")" + (postgres ? " FOR UPDATE" : ""));
      st.define_and_bind();
      st.execute(false);
      while (st.fetch()) caps_[{account, methodology, period}] = {grams, 0, totals, key};
    }
    {
      long long account = 0, at = 0, provider = 0, from = trips_from_ms, to = trips_to_ms;
      std::string methodology;
      soci::statement st =
          (sql_.prepare << "SELECT account_id, occurred_at_ms, provider_id, methodology_id "
                           "FROM reductions WHERE domain = 'travel' AND account_id IN (" +
                               accounts + ") AND occurred_at_ms BETWEEN :f AND :t",
           soci::use(from), soci::use(to), soci::into(account), soci::into(at),
           soci::into(provider), soci::into(methodology));
      st.execute();
      while (st.fetch()) trips_[account].push_back({at, provider, methodology});
    }
    for (std::size_t i = 0; i < n; ++i) {
      caps_loaded_for_.insert(account_ids[start + i]);
      trips_loaded_for_.insert(account_ids[start + i]);
    }
  }
}

CapRows BatchStatements::loadCapRows(std::int64_t account_id, const std::string& methodology,
                                     const std::string& day) {
  std::string d = "d:" + day, m = "m:" + day.substr(0, 7), y = "y:" + day.substr(0, 4);
  bool preloaded = caps_loaded_for_.count(account_id) && cap_periods_.count(d) &&
                   cap_periods_.count(m) && cap_periods_.count(y);
  if (!preloaded) {
    cap_account_ = account_id;
    cap_methodology_ = methodology;
    cap_day_ = d;
    cap_month_ = m;
    cap_year_ = y;
    load_caps_->execute(false);
    while (load_caps_->fetch()) {
      // A row this batch already changed keeps its newer value.
      CapKey key{account_id, methodology, cap_period_};
      if (!dirty_.count(key)) caps_[key] = {cap_grams_, 0, cap_totals_, cap_key_};
    }
  }
  CapRows rows;
  if (auto it = caps_.find({account_id, methodology, d}); it != caps_.end()) {
    rows.day_grams = it->second.grams;
    rows.input_totals = it->second.totals;
    rows.last_key = it->second.key;
  }
  if (auto it = caps_.find({account_id, methodology, m}); it != caps_.end())
    rows.month_grams = it->second.grams;
  if (auto it = caps_.find({account_id, methodology, y}); it != caps_.end())
    rows.year_grams = it->second.grams;
  return rows;
}

void BatchStatements::saveCapRows(std::int64_t account_id, const std::string& methodology,
                                  const std::string& day, const CapRows& before,
                                  const CapRows& after) {
  std::int64_t delta = after.day_grams - before.day_grams;
  auto bump = [&](const std::string& period, const std::string* totals, const std::string* key) {
    CapKey k{account_id, methodology, period};
    auto& row = caps_[k];
    row.grams += delta;
    row.delta += delta;
    if (totals) row.totals = *totals;
    if (key) row.key = *key;
    dirty_.insert(k);
  };
  bump("d:" + day, &after.input_totals, &after.last_key);
  bump("m:" + day.substr(0, 7), nullptr, nullptr);
  bump("y:" + day.substr(0, 4), nullptr, nullptr);
}

void BatchStatements::flushCaps() {
  if (dirty_.empty()) return;
  store::BulkInsert rows("cap_usage",
                         {{"account_id", ColumnType::kInt64},
                          {"methodology_id", ColumnType::kText},
                          {"period", ColumnType::kText},
                          {"grams", ColumnType::kInt64},
                          {"input_totals", ColumnType::kText},
                          {"last_key", ColumnType::kText}},
                         "ON CONFLICT (account_id, methodology_id, period) DO UPDATE SET "
                         "grams = cap_usage.grams + excluded.grams, "
                         "input_totals = excluded.input_totals, last_key = excluded.last_key");
  for (const auto& key : dirty_) {
    auto& row = caps_[key];
    rows.row()
        .add(std::get<0>(key))
        .add(std::get<1>(key))
        .add(std::get<2>(key))
        .add(row.delta)
        .add(row.totals)
        .add(row.key);
    row.delta = 0;
  }
  dirty_.clear();
  rows.execute(sql_);
}

}  // namespace tph::ingest::detail
