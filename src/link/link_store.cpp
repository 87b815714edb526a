#include "link/link_store.h"

#include "store/database.h"

namespace tph::link::detail {

std::int64_t insertPlatform(soci::session& sql, const std::string& name,
                            const std::string& region_code, const std::string& public_key_hex,
                            const std::string& actor, std::int64_t now_ms) {
  long long id = 0, now = now_ms;
  sql << "INSERT INTO link_platforms (name, region_code, public_key_hex, status, registered_by, "
         "registered_at_ms) VALUES (:n, :r, :k, 'active', :a, :t) RETURNING id",
      soci::use(name), soci::use(region_code), soci::use(public_key_hex), soci::use(actor),
      soci::use(now), soci::into(id);
  return id;
}

std::optional<LinkedPlatform> findPlatform(soci::session& sql, std::int64_t id) {
  long long key = id;
  LinkedPlatform p;
  sql << "SELECT name, region_code, public_key_hex, status FROM link_platforms WHERE id = :id",
      soci::use(key), soci::into(p.name), soci::into(p.region_code), soci::into(p.public_key_hex),
      soci::into(p.status);
  if (!sql.got_data()) return std::nullopt;
  p.id = id;
  return p;
}

bool publicKeyTaken(soci::session& sql, const std::string& public_key_hex) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM link_platforms WHERE public_key_hex = :k", soci::use(public_key_hex),
      soci::into(n);
  return n > 0;
}

std::vector<LinkedPlatform> listPlatforms(soci::session& sql) {
  std::vector<LinkedPlatform> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, name, region_code, public_key_hex, status FROM link_platforms "
                      "ORDER BY id");
  for (const auto& row : rows) {
    out.push_back({store::rowInt64(row, 0), row.get<std::string>(1), row.get<std::string>(2),
                   row.get<std::string>(3), row.get<std::string>(4)});
  }
  return out;
}

std::optional<InboxEntry> findInbox(soci::session& sql, std::int64_t platform_id,
                                    const std::string& message_id) {
  long long platform = platform_id, seq = 0;
  InboxEntry e;
  sql << "SELECT seq, body_digest FROM link_inbox WHERE platform_id = :p AND message_id = :m",
      soci::use(platform), soci::use(message_id), soci::into(seq), soci::into(e.body_digest);
  if (!sql.got_data()) return std::nullopt;
  e.seq = seq;
  return e;
}

std::int64_t lastSeq(soci::session& sql, std::int64_t platform_id, const std::string& stream) {
  long long platform = platform_id, seq = 0;
  soci::indicator ind;
  sql << "SELECT MAX(seq) FROM link_inbox WHERE platform_id = :p AND stream = :s",
      soci::use(platform), soci::use(stream), soci::into(seq, ind);
  return ind == soci::i_ok ? seq : 0;
}

void insertInbox(soci::session& sql, const Envelope& e, const std::string& body_digest,
                 std::int64_t now_ms) {
  long long platform = e.platform_id, seq = e.seq, now = now_ms;
  std::string body = e.body.dump();
  sql << "INSERT INTO link_inbox (platform_id, message_id, stream, seq, kind, body_digest, "
         "body_json, received_at_ms) VALUES (:p, :m, :s, :q, :k, :d, :b, :t)",
      soci::use(platform), soci::use(e.message_id), soci::use(e.stream), soci::use(seq),
      soci::use(e.kind), soci::use(body_digest), soci::use(body), soci::use(now);
}

void replaceDay(soci::session& sql, std::int64_t platform_id, const std::string& day,
                const std::vector<ingest::DailyReductionAggregate>& rows,
                const std::string& message_id) {
  long long platform = platform_id;
  sql << "DELETE FROM link_aggregates WHERE platform_id = :p AND day = :d", soci::use(platform),
      soci::use(day);
  for (const auto& r : rows) {
    long long records = r.records, subjects = r.subjects, grams = r.grams.value();
    int version = r.methodology_version;
    sql << "INSERT INTO link_aggregates (platform_id, day, region_code, methodology_id, "
           "methodology_version, records, subjects, grams, records_digest, message_id) "
           "VALUES (:p, :d, :r, :m, :v, :n, :s, :g, :h, :id)",
        soci::use(platform), soci::use(day), soci::use(r.region_code), soci::use(r.methodology_id),
        soci::use(version), soci::use(records), soci::use(subjects), soci::use(grams),
        soci::use(r.records_digest), soci::use(message_id);
  }
}

std::vector<ingest::DailyReductionAggregate> aggregatesOfDay(soci::session& sql,
                                                             std::int64_t platform_id,
                                                             const std::string& day) {
  long long platform = platform_id;
  std::vector<ingest::DailyReductionAggregate> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT region_code, methodology_id, methodology_version, records, "
                      "subjects, grams, records_digest FROM link_aggregates "
                      "WHERE platform_id = :p AND day = :d "
                      "ORDER BY region_code, methodology_id, methodology_version",
       soci::use(platform), soci::use(day));
  for (const auto& row : rows) {
    ingest::DailyReductionAggregate a;
    a.day = day;
    a.region_code = row.get<std::string>(0);
    a.methodology_id = row.get<std::string>(1);
    a.methodology_version = static_cast<int>(store::rowInt64(row, 2));
    a.records = store::rowInt64(row, 3);
    a.subjects = store::rowInt64(row, 4);
    a.grams = Grams(store::rowInt64(row, 5));
    a.records_digest = row.get<std::string>(6);
    out.push_back(std::move(a));
  }
  return out;
}

std::int64_t nextOutboxSeq(soci::session& sql, const std::string& stream) {
  long long seq = 0;
  soci::indicator ind;
  sql << "SELECT MAX(seq) FROM link_outbox WHERE stream = :s", soci::use(stream),
      soci::into(seq, ind);
  return (ind == soci::i_ok ? seq : 0) + 1;
}

void insertOutbox(soci::session& sql, const OutboxRow& row, std::int64_t now_ms) {
  long long seq = row.seq, now = now_ms;
  sql << "INSERT INTO link_outbox (stream, seq, message_id, kind, body_json, state, "
         "next_attempt_ms, created_at_ms) VALUES (:s, :q, :m, :k, :b, 'pending', :n, :t)",
      soci::use(row.stream), soci::use(seq), soci::use(row.message_id), soci::use(row.kind),
      soci::use(row.body_json), soci::use(now), soci::use(now);
}

std::vector<OutboxRow> headsOfStreams(soci::session& sql) {
  std::vector<OutboxRow> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT o.id, o.stream, o.seq, o.message_id, o.kind, o.body_json, "
                      "o.attempts, o.next_attempt_ms FROM link_outbox o WHERE o.state = "
                      "'pending' AND o.seq = (SELECT MIN(p.seq) FROM link_outbox p WHERE "
                      "p.stream = o.stream AND p.state = 'pending') ORDER BY o.stream");
  for (const auto& row : rows) {
    OutboxRow r;
    r.id = store::rowInt64(row, 0);
    r.stream = row.get<std::string>(1);
    r.seq = store::rowInt64(row, 2);
    r.message_id = row.get<std::string>(3);
    r.kind = row.get<std::string>(4);
    r.body_json = row.get<std::string>(5);
    r.attempts = static_cast<int>(store::rowInt64(row, 6));
    r.next_attempt_ms = store::rowInt64(row, 7);
    out.push_back(std::move(r));
  }
  return out;
}

void markSent(soci::session& sql, std::int64_t id, std::int64_t now_ms,
              const std::string& receipt_json) {
  long long key = id, now = now_ms;
  sql << "UPDATE link_outbox SET state = 'sent', sent_at_ms = :t, attempts = attempts + 1, "
         "last_error = '', receipt_json = :r WHERE id = :id",
      soci::use(now), soci::use(receipt_json), soci::use(key);
}

std::vector<OutboxEntry> recentOutbox(soci::session& sql, int limit) {
  std::vector<OutboxEntry> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, stream, seq, message_id, kind, attempts, next_attempt_ms, "
                      "state, last_error, receipt_json, created_at_ms, sent_at_ms "
                      "FROM link_outbox ORDER BY id DESC LIMIT :n",
       soci::use(limit));
  for (const auto& row : rows) {
    OutboxEntry e;
    e.row.id = store::rowInt64(row, 0);
    e.row.stream = row.get<std::string>(1);
    e.row.seq = store::rowInt64(row, 2);
    e.row.message_id = row.get<std::string>(3);
    e.row.kind = row.get<std::string>(4);
    e.row.attempts = static_cast<int>(store::rowInt64(row, 5));
    e.row.next_attempt_ms = store::rowInt64(row, 6);
    e.state = row.get<std::string>(7);
    e.last_error = row.get<std::string>(8);
    e.receipt_json = row.get<std::string>(9);
    e.created_at_ms = store::rowInt64(row, 10);
    e.sent_at_ms = store::rowOptionalInt64(row, 11);
    out.push_back(std::move(e));
  }
  return out;
}

void markFailed(soci::session& sql, std::int64_t id, int attempts, std::int64_t next_attempt_ms,
                const std::string& error) {
  long long key = id, next = next_attempt_ms;
  std::string message = error.substr(0, 500);
  sql << "UPDATE link_outbox SET attempts = :a, next_attempt_ms = :n, last_error = :e "
         "WHERE id = :id",
      soci::use(attempts), soci::use(next), soci::use(message), soci::use(key);
}

int pendingOutbox(soci::session& sql) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM link_outbox WHERE state = 'pending'", soci::into(n);
  return n;
}

}  // namespace tph::link::detail
