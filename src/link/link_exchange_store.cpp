// SQL of submissions, spot checks, the province's feed and a city node's copy of it.

#include <algorithm>

#include "link/link_store.h"
#include "store/database.h"

namespace tph::link::detail {

using nlohmann::json;

json inboxOutcome(soci::session& sql, std::int64_t platform_id, const std::string& message_id) {
  long long platform = platform_id;
  std::string text;
  sql << "SELECT outcome_json FROM link_inbox WHERE platform_id = :p AND message_id = :m",
      soci::use(platform), soci::use(message_id), soci::into(text);
  if (!sql.got_data() || text.empty()) return nullptr;
  return json::parse(text);
}

void setInboxOutcome(soci::session& sql, std::int64_t platform_id, const std::string& message_id,
                     const json& outcome) {
  long long platform = platform_id;
  std::string text = outcome.dump();
  sql << "UPDATE link_inbox SET outcome_json = :o WHERE platform_id = :p AND message_id = :m",
      soci::use(text), soci::use(platform), soci::use(message_id);
}

void insertMethodologySubmission(soci::session& sql, std::int64_t platform_id,
                                 const std::string& message_id, const std::string& methodology_id,
                                 int version, const std::string& sha256,
                                 std::optional<std::int64_t> row_id, const std::string& reason,
                                 std::int64_t now_ms) {
  long long platform = platform_id, row = row_id.value_or(0), now = now_ms;
  soci::indicator row_ind = row_id ? soci::i_ok : soci::i_null;
  std::string outcome = row_id ? "submitted" : "refused";
  sql << "INSERT INTO link_methodology_submissions (platform_id, message_id, methodology_id, "
         "version, definition_sha256, version_row_id, outcome, reason, received_at_ms) "
         "VALUES (:p, :m, :i, :v, :h, :r, :o, :why, :t)",
      soci::use(platform), soci::use(message_id), soci::use(methodology_id), soci::use(version),
      soci::use(sha256), soci::use(row, row_ind), soci::use(outcome), soci::use(reason),
      soci::use(now);
}

void insertBatchSubmission(soci::session& sql, std::int64_t platform_id,
                           const std::string& message_id, std::int64_t city_batch_id,
                           std::optional<std::int64_t> batch_id, const std::string& reason,
                           std::int64_t now_ms) {
  long long platform = platform_id, city = city_batch_id, batch = batch_id.value_or(0),
            now = now_ms;
  soci::indicator batch_ind = batch_id ? soci::i_ok : soci::i_null;
  std::string outcome = batch_id ? "submitted" : "refused";
  sql << "INSERT INTO link_batch_submissions (platform_id, message_id, city_batch_id, batch_id, "
         "outcome, reason, received_at_ms) VALUES (:p, :m, :c, :b, :o, :why, :t)",
      soci::use(platform), soci::use(message_id), soci::use(city), soci::use(batch, batch_ind),
      soci::use(outcome), soci::use(reason), soci::use(now);
}

std::vector<Submission> listSubmissions(soci::session& sql, std::int64_t platform_id) {
  long long platform = platform_id;
  std::vector<Submission> out;
  soci::rowset<soci::row> methodologies =
      (sql.prepare << "SELECT message_id, methodology_id, version, outcome, reason, "
                      "version_row_id, received_at_ms FROM link_methodology_submissions "
                      "WHERE platform_id = :p",
       soci::use(platform));
  for (const auto& row : methodologies) {
    out.push_back({"methodology_submission", row.get<std::string>(0),
                   row.get<std::string>(1) + " v" + std::to_string(store::rowInt64(row, 2)),
                   row.get<std::string>(3), row.get<std::string>(4),
                   store::rowOptionalInt64(row, 5), fromEpochMs(store::rowInt64(row, 6))});
  }
  soci::rowset<soci::row> batches =
      (sql.prepare << "SELECT message_id, city_batch_id, outcome, reason, batch_id, "
                      "received_at_ms FROM link_batch_submissions WHERE platform_id = :p",
       soci::use(platform));
  for (const auto& row : batches) {
    out.push_back({"certification_batch", row.get<std::string>(0),
                   std::to_string(store::rowInt64(row, 1)), row.get<std::string>(2),
                   row.get<std::string>(3), store::rowOptionalInt64(row, 4),
                   fromEpochMs(store::rowInt64(row, 5))});
  }
  std::sort(out.begin(), out.end(),
            [](const Submission& a, const Submission& b) { return a.received_at > b.received_at; });
  return out;
}

std::vector<std::pair<std::int64_t, std::int64_t>> submittedBatches(soci::session& sql,
                                                                    std::int64_t platform_id) {
  long long platform = platform_id;
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT city_batch_id, batch_id FROM link_batch_submissions "
                      "WHERE platform_id = :p AND batch_id IS NOT NULL ORDER BY city_batch_id",
       soci::use(platform));
  for (const auto& row : rows) out.emplace_back(store::rowInt64(row, 0), store::rowInt64(row, 1));
  return out;
}

std::vector<std::int64_t> submittedVersions(soci::session& sql, std::int64_t platform_id) {
  long long platform = platform_id;
  std::vector<std::int64_t> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT version_row_id FROM link_methodology_submissions "
                      "WHERE platform_id = :p AND version_row_id IS NOT NULL ORDER BY id",
       soci::use(platform));
  for (const auto& row : rows) out.push_back(store::rowInt64(row, 0));
  return out;
}

std::int64_t insertSpotCheck(soci::session& sql, const SpotCheck& c, std::int64_t now_ms) {
  long long platform = c.platform_id, records = c.records, grams = c.grams, now = now_ms, id = 0;
  int version = c.methodology_version;
  sql << "INSERT INTO link_spot_checks (platform_id, day, region_code, methodology_id, "
         "methodology_version, records_digest, records, grams, state, requested_by, "
         "requested_at_ms) VALUES (:p, :d, :r, :m, :v, :h, :n, :g, 'requested', :by, :t) "
         "RETURNING id",
      soci::use(platform), soci::use(c.day), soci::use(c.region_code), soci::use(c.methodology_id),
      soci::use(version), soci::use(c.records_digest), soci::use(records), soci::use(grams),
      soci::use(c.requested_by), soci::use(now), soci::into(id);
  return id;
}

namespace {

constexpr const char* kSpotCheckColumns =
    "SELECT id, platform_id, day, region_code, methodology_id, methodology_version, "
    "records_digest, records, grams, state, findings_json, requested_by, requested_at_ms, "
    "answered_at_ms FROM link_spot_checks ";

SpotCheck spotCheckFrom(const soci::row& row) {
  SpotCheck c;
  c.id = store::rowInt64(row, 0);
  c.platform_id = store::rowInt64(row, 1);
  c.day = row.get<std::string>(2);
  c.region_code = row.get<std::string>(3);
  c.methodology_id = row.get<std::string>(4);
  c.methodology_version = static_cast<int>(store::rowInt64(row, 5));
  c.records_digest = row.get<std::string>(6);
  c.records = store::rowInt64(row, 7);
  c.grams = store::rowInt64(row, 8);
  c.state = row.get<std::string>(9);
  for (const auto& f : json::parse(row.get<std::string>(10))) {
    c.findings.push_back({f.value("field", ""), f.value("message", "")});
  }
  c.requested_by = row.get<std::string>(11);
  c.requested_at = fromEpochMs(store::rowInt64(row, 12));
  if (auto at = store::rowOptionalInt64(row, 13)) c.answered_at = fromEpochMs(*at);
  return c;
}

}  // namespace

std::optional<SpotCheck> findSpotCheck(soci::session& sql, std::int64_t id, bool for_update) {
  long long key = id;
  std::string query = std::string(kSpotCheckColumns) + "WHERE id = :id";
  if (for_update && store::backendOf(sql) == store::Backend::kPostgresql) query += " FOR UPDATE";
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (const auto& row : rows) return spotCheckFrom(row);
  return std::nullopt;
}

void answerSpotCheck(soci::session& sql, std::int64_t id, const std::string& state,
                     const std::vector<SpotCheck::Finding>& findings,
                     const std::string& answer_digest, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  json list = json::array();
  for (const auto& f : findings) list.push_back({{"field", f.field}, {"message", f.message}});
  std::string text = list.dump();
  sql << "UPDATE link_spot_checks SET state = :s, findings_json = :f, answer_digest = :d, "
         "answered_at_ms = :t WHERE id = :id",
      soci::use(state), soci::use(text), soci::use(answer_digest), soci::use(now), soci::use(key);
}

std::vector<SpotCheck> listSpotChecks(soci::session& sql, std::int64_t platform_id) {
  long long platform = platform_id;
  std::vector<SpotCheck> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kSpotCheckColumns) +
                          "WHERE platform_id = :p ORDER BY id DESC LIMIT 500",
       soci::use(platform));
  for (const auto& row : rows) out.push_back(spotCheckFrom(row));
  return out;
}

std::int64_t lastFeedSeq(soci::session& sql, std::int64_t platform_id, const std::string& stream) {
  long long platform = platform_id, seq = 0;
  soci::indicator ind;
  sql << "SELECT MAX(seq) FROM link_feed WHERE platform_id = :p AND stream = :s",
      soci::use(platform), soci::use(stream), soci::into(seq, ind);
  return ind == soci::i_ok ? seq : 0;
}

void insertFeed(soci::session& sql, std::int64_t platform_id, const FeedMessage& m) {
  long long platform = platform_id, seq = m.seq, now = m.created_at_ms;
  sql << "INSERT INTO link_feed (platform_id, stream, seq, message_id, kind, body_json, "
         "created_at_ms) VALUES (:p, :s, :q, :m, :k, :b, :t)",
      soci::use(platform), soci::use(m.stream), soci::use(seq), soci::use(m.message_id),
      soci::use(m.kind), soci::use(m.body_json), soci::use(now);
}

std::vector<FeedMessage> feedAfter(soci::session& sql, std::int64_t platform_id,
                                   const std::string& stream, std::int64_t after_seq, int limit) {
  long long platform = platform_id, after = after_seq;
  std::vector<FeedMessage> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT seq, message_id, kind, body_json, created_at_ms FROM link_feed "
                      "WHERE platform_id = :p AND stream = :s AND seq > :a ORDER BY seq LIMIT :n",
       soci::use(platform), soci::use(stream), soci::use(after), soci::use(limit));
  for (const auto& row : rows) {
    out.push_back({stream, store::rowInt64(row, 0), row.get<std::string>(1),
                   row.get<std::string>(2), row.get<std::string>(3), store::rowInt64(row, 4)});
  }
  return out;
}

std::map<std::string, std::string> feedItems(soci::session& sql, std::int64_t platform_id,
                                             const std::string& stream) {
  long long platform = platform_id;
  std::map<std::string, std::string> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT item_key, item_digest FROM link_feed_items "
                      "WHERE platform_id = :p AND stream = :s",
       soci::use(platform), soci::use(stream));
  for (const auto& row : rows) out[row.get<std::string>(0)] = row.get<std::string>(1);
  return out;
}

void putFeedItem(soci::session& sql, std::int64_t platform_id, const std::string& stream,
                 const std::string& key, const std::string& digest) {
  dropFeedItem(sql, platform_id, stream, key);
  long long platform = platform_id;
  sql << "INSERT INTO link_feed_items (platform_id, stream, item_key, item_digest) "
         "VALUES (:p, :s, :k, :d)",
      soci::use(platform), soci::use(stream), soci::use(key), soci::use(digest);
}

void dropFeedItem(soci::session& sql, std::int64_t platform_id, const std::string& stream,
                  const std::string& key) {
  long long platform = platform_id;
  sql << "DELETE FROM link_feed_items WHERE platform_id = :p AND stream = :s AND item_key = :k",
      soci::use(platform), soci::use(stream), soci::use(key);
}

std::optional<CityInboxEntry> findCityInbox(soci::session& sql, const std::string& stream,
                                            std::int64_t seq) {
  long long q = seq;
  CityInboxEntry e;
  sql << "SELECT message_id, body_digest FROM link_city_inbox WHERE stream = :s AND seq = :q",
      soci::use(stream), soci::use(q), soci::into(e.message_id), soci::into(e.body_digest);
  if (!sql.got_data()) return std::nullopt;
  return e;
}

std::int64_t lastCitySeq(soci::session& sql, const std::string& stream) {
  long long seq = 0;
  soci::indicator ind;
  sql << "SELECT MAX(seq) FROM link_city_inbox WHERE stream = :s", soci::use(stream),
      soci::into(seq, ind);
  return ind == soci::i_ok ? seq : 0;
}

void insertCityInbox(soci::session& sql, const std::string& stream, std::int64_t seq,
                     const std::string& message_id, const std::string& kind,
                     const std::string& body_digest, std::int64_t now_ms) {
  long long q = seq, now = now_ms;
  sql << "INSERT INTO link_city_inbox (stream, seq, message_id, kind, body_digest, "
         "applied_at_ms) VALUES (:s, :q, :m, :k, :d, :t)",
      soci::use(stream), soci::use(q), soci::use(message_id), soci::use(kind),
      soci::use(body_digest), soci::use(now);
}

void clearProvinceItems(soci::session& sql, const std::string& stream) {
  sql << "DELETE FROM link_province_items WHERE stream = :s", soci::use(stream);
}

void putProvinceItem(soci::session& sql, const std::string& stream, const std::string& key,
                     const std::string& item_json, const std::string& message_id,
                     std::int64_t now_ms) {
  dropProvinceItem(sql, stream, key);
  long long now = now_ms;
  sql << "INSERT INTO link_province_items (stream, item_key, item_json, message_id, "
         "updated_at_ms) VALUES (:s, :k, :j, :m, :t)",
      soci::use(stream), soci::use(key), soci::use(item_json), soci::use(message_id),
      soci::use(now);
}

void dropProvinceItem(soci::session& sql, const std::string& stream, const std::string& key) {
  sql << "DELETE FROM link_province_items WHERE stream = :s AND item_key = :k", soci::use(stream),
      soci::use(key);
}

std::vector<json> provinceItems(soci::session& sql, const std::string& stream) {
  std::vector<json> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT item_json FROM link_province_items WHERE stream = :s "
                      "ORDER BY item_key",
       soci::use(stream));
  for (const auto& row : rows) out.push_back(json::parse(row.get<std::string>(0)));
  return out;
}

std::optional<std::string> nodeSetting(soci::session& sql, const std::string& name) {
  std::string value;
  sql << "SELECT value FROM link_node_state WHERE name = :n", soci::use(name), soci::into(value);
  if (!sql.got_data()) return std::nullopt;
  return value;
}

void putNodeSetting(soci::session& sql, const std::string& name, const std::string& value) {
  sql << "DELETE FROM link_node_state WHERE name = :n", soci::use(name);
  sql << "INSERT INTO link_node_state (name, value) VALUES (:n, :v)", soci::use(name),
      soci::use(value);
}

}  // namespace tph::link::detail
