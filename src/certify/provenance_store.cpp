#include "certify/provenance_store.h"

#include "store/database.h"

namespace tph::certify::detail {

namespace {

using store::rowInt64;

// The resident's own person account: reductions of households and enterprises are not theirs
// alone, so proofs stay with the person who travelled.
const char* kResidentAccounts =
    "SELECT m.account_id FROM account_members m JOIN carbon_accounts a ON a.id = m.account_id "
    "WHERE m.user_id = :user AND a.kind = 'person'";

const char* kResidentColumns =
    "r.id, r.account_id, r.methodology_id, r.methodology_version, r.day, r.grams, br.batch_id, "
    "(SELECT rl.batch_id FROM batch_releases rl WHERE rl.reduction_id = r.id ORDER BY rl.id DESC "
    "LIMIT 1), "
    "(SELECT rl.kind FROM batch_releases rl WHERE rl.reduction_id = r.id ORDER BY rl.id DESC "
    "LIMIT 1), "
    "(SELECT rl.reason FROM batch_releases rl WHERE rl.reduction_id = r.id ORDER BY rl.id DESC "
    "LIMIT 1) ";

ResidentReductionRow residentFrom(const soci::row& row) {
  ResidentReductionRow r;
  r.reduction_id = rowInt64(row, 0);
  r.account_id = rowInt64(row, 1);
  r.methodology = row.get<std::string>(2);
  r.methodology_version = static_cast<int>(rowInt64(row, 3));
  r.day = row.get<std::string>(4);
  r.grams = rowInt64(row, 5);
  if (row.get_indicator(6) != soci::i_null) r.batch_id = rowInt64(row, 6);
  if (row.get_indicator(7) != soci::i_null) {
    r.released_batch_id = rowInt64(row, 7);
    r.released_kind = row.get<std::string>(8);
    r.released_reason = row.get<std::string>(9);
  }
  return r;
}

std::vector<GroupTotal> groupTotals(soci::session& sql, const std::string& key_expr,
                                    std::int64_t batch_id) {
  long long batch = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " + key_expr +
                          " AS k, COUNT(*), SUM(br.grams) FROM batch_reductions br JOIN reductions "
                          "r ON r.id = br.reduction_id WHERE br.batch_id = :b GROUP BY " +
                          key_expr + " ORDER BY " + key_expr,
       soci::use(batch));
  std::vector<GroupTotal> out;
  for (const auto& row : rows)
    out.push_back({row.get<std::string>(0), rowInt64(row, 1), rowInt64(row, 2)});
  return out;
}

}  // namespace

std::optional<MerkleRow> findMerkle(soci::session& sql, std::int64_t batch_id) {
  long long batch = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT salt, opened_root, opened_leaves, root, leaves, grams, updated_at_ms "
                      "FROM batch_merkle WHERE batch_id = :b",
       soci::use(batch));
  for (const auto& row : rows) {
    return MerkleRow{row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(3),
                     rowInt64(row, 2),        rowInt64(row, 4),        rowInt64(row, 5),
                     rowInt64(row, 6)};
  }
  return std::nullopt;
}

std::vector<MerkleLeaf> batchLeaves(soci::session& sql, std::int64_t batch_id,
                                    const std::string& salt) {
  long long batch = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT r.id, i.provider_id, i.subject_ref, r.methodology_id, "
                      "r.methodology_version, r.day, br.grams FROM batch_reductions br "
                      "JOIN reductions r ON r.id = br.reduction_id "
                      "JOIN ingest_records i ON i.id = r.record_id "
                      "WHERE br.batch_id = :b ORDER BY r.id",
       soci::use(batch));
  std::vector<MerkleLeaf> out;
  for (const auto& row : rows) {
    out.push_back({rowInt64(row, 0), leafSubject(salt, rowInt64(row, 1), row.get<std::string>(2)),
                   row.get<std::string>(3), static_cast<int>(rowInt64(row, 4)),
                   row.get<std::string>(5), rowInt64(row, 6)});
  }
  return out;
}

void insertMerkle(soci::session& sql, std::int64_t batch_id, const MerkleRow& m) {
  long long batch = batch_id, opened_leaves = m.opened_leaves, leaves = m.leaves, grams = m.grams,
            at = m.updated_at_ms;
  sql << "INSERT INTO batch_merkle (batch_id, salt, opened_root, opened_leaves, root, leaves, "
         "grams, updated_at_ms) VALUES (:b, :salt, :oroot, :oleaves, :root, :leaves, :grams, :at)",
      soci::use(batch), soci::use(m.salt), soci::use(m.opened_root), soci::use(opened_leaves),
      soci::use(m.root), soci::use(leaves), soci::use(grams), soci::use(at);
}

void updateMerkle(soci::session& sql, std::int64_t batch_id, const std::string& root,
                  std::int64_t leaves, std::int64_t grams, std::int64_t now_ms) {
  long long batch = batch_id, n = leaves, g = grams, at = now_ms;
  sql << "UPDATE batch_merkle SET root = :root, leaves = :leaves, grams = :grams, "
         "updated_at_ms = :at WHERE batch_id = :b",
      soci::use(root), soci::use(n), soci::use(g), soci::use(at), soci::use(batch);
}

std::vector<ResidentReductionRow> residentReductions(soci::session& sql, std::int64_t user_id,
                                                     int limit, int offset) {
  long long user = user_id, lim = limit, off = offset;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kResidentColumns +
                          "FROM reductions r LEFT JOIN batch_reductions br ON br.reduction_id = "
                          "r.id WHERE r.account_id IN (" +
                          kResidentAccounts +
                          ") ORDER BY r.occurred_at_ms DESC, r.id DESC LIMIT :lim OFFSET :off",
       soci::use(user), soci::use(lim), soci::use(off));
  std::vector<ResidentReductionRow> out;
  for (const auto& row : rows) out.push_back(residentFrom(row));
  return out;
}

std::optional<ResidentReductionRow> residentReduction(soci::session& sql, std::int64_t user_id,
                                                      std::int64_t reduction_id) {
  long long user = user_id, id = reduction_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kResidentColumns +
                          "FROM reductions r LEFT JOIN batch_reductions br ON br.reduction_id = "
                          "r.id WHERE r.id = :id AND r.account_id IN (" +
                          kResidentAccounts + ")",
       soci::use(id), soci::use(user));
  for (const auto& row : rows) return residentFrom(row);
  return std::nullopt;
}

std::vector<LeftOutRecordRow> residentLeftOut(soci::session& sql, std::int64_t user_id, int limit) {
  long long user = user_id, lim = limit;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT provider_record_id, methodology_id, status, reason, "
                                  "occurred_at_ms FROM ingest_records WHERE status IN ('held', "
                                  "'quarantined', 'rejected') AND account_id IN (") +
                          kResidentAccounts + ") ORDER BY occurred_at_ms DESC, id DESC LIMIT :lim",
       soci::use(user), soci::use(lim));
  std::vector<LeftOutRecordRow> out;
  for (const auto& row : rows) {
    out.push_back({row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(2),
                   row.get<std::string>(3), rowInt64(row, 4)});
  }
  return out;
}

std::vector<GroupTotal> totalsByMonth(soci::session& sql, std::int64_t batch_id) {
  return groupTotals(sql, "SUBSTR(r.day, 1, 7)", batch_id);
}

std::vector<GroupTotal> totalsByRegion(soci::session& sql, std::int64_t batch_id) {
  return groupTotals(sql, "r.region_code", batch_id);
}

std::vector<int> methodologyVersions(soci::session& sql, std::int64_t batch_id) {
  long long batch = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT DISTINCT r.methodology_version FROM batch_reductions br JOIN "
                      "reductions r ON r.id = br.reduction_id WHERE br.batch_id = :b ORDER BY 1",
       soci::use(batch));
  std::vector<int> out;
  for (const auto& row : rows) out.push_back(static_cast<int>(rowInt64(row, 0)));
  return out;
}

}  // namespace tph::certify::detail
