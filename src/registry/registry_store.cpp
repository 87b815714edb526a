#include "registry/registry_store.h"

#include <map>
#include <stdexcept>

#include "store/database.h"

namespace tph::registry::detail {

namespace {

using store::rowInt64;

const char* kAccountColumns = "id, account_no, kind, name, region_code, created_at_ms";

AccountRow accountFrom(const soci::row& row) {
  return {rowInt64(row, 0),        row.get<std::string>(1), row.get<std::string>(2),
          row.get<std::string>(3), row.get<std::string>(4), rowInt64(row, 5)};
}

std::optional<AccountRow> oneAccount(soci::session& sql, const std::string& where,
                                     const std::string& a, const std::string& b = {}) {
  std::string query =
      std::string("SELECT ") + kAccountColumns + " FROM registry_accounts WHERE " + where;
  std::optional<AccountRow> out;
  auto take = [&](soci::rowset<soci::row>& rows) {
    for (const auto& row : rows) {
      out = accountFrom(row);
      break;
    }
  };
  if (b.empty()) {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(a));
    take(rows);
  } else {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(a), soci::use(b));
    take(rows);
  }
  return out;
}

bool isPostgres(soci::session& sql) {
  return sql.get_backend_name() == "postgresql";
}

BlockStatus statusFrom(const std::string& text) {
  if (text == "held") return BlockStatus::kHeld;
  if (text == "retired") return BlockStatus::kRetired;
  if (text == "cancelled") return BlockStatus::kCancelled;
  throw std::logic_error("unknown block status " + text);
}

const char* kBlockSelect =
    "SELECT b.id, b.batch_id, b.first_unit, b.last_unit, b.status, b.operation_id, "
    "a.account_no, i.region_code, i.methodology_id, i.vintage_year "
    "FROM serial_blocks b JOIN registry_accounts a ON a.id = b.account_id "
    "JOIN registry_issuances i ON i.batch_id = b.batch_id ";

SerialBlock blockFrom(const soci::row& row) {
  SerialBlock b;
  b.id = rowInt64(row, 0);
  b.range.batch_no = rowInt64(row, 1);
  b.range.first = rowInt64(row, 2);
  b.range.last = rowInt64(row, 3);
  b.status = statusFrom(row.get<std::string>(4));
  b.operation_id = rowInt64(row, 5);
  b.account_no = row.get<std::string>(6);
  b.range.region = row.get<std::string>(7);
  b.range.methodology = row.get<std::string>(8);
  b.range.vintage_year = static_cast<int>(rowInt64(row, 9));
  return b;
}

}  // namespace

std::optional<AccountRow> findAccountByNo(soci::session& sql, const std::string& account_no) {
  return oneAccount(sql, "account_no = :n", account_no);
}

std::optional<AccountRow> findAccountById(soci::session& sql, std::int64_t id) {
  long long key = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << kAccountColumns << " FROM registry_accounts WHERE id = :id",
       soci::use(key));
  for (const auto& row : rows) return accountFrom(row);
  return std::nullopt;
}

std::optional<AccountRow> findAccountOfKind(soci::session& sql, const std::string& kind,
                                            const std::string& region_code) {
  if (region_code.empty()) return oneAccount(sql, "kind = :k", kind);
  return oneAccount(sql, "kind = :k AND region_code = :r", kind, region_code);
}

AccountRow insertAccount(soci::session& sql, const std::string& kind, const std::string& name,
                         const std::string& region_code, const std::string& account_no,
                         const std::string& actor, std::int64_t now_ms) {
  long long id = 0, now = now_ms;
  sql << "INSERT INTO registry_accounts (account_no, kind, name, region_code, created_by, "
         "created_at_ms) VALUES (:no, :k, :n, :r, :a, :t) RETURNING id",
      soci::use(account_no), soci::use(kind), soci::use(name), soci::use(region_code),
      soci::use(actor), soci::use(now), soci::into(id);
  return {id, account_no, kind, name, region_code, now_ms};
}

void setAccountNo(soci::session& sql, std::int64_t id, const std::string& account_no) {
  long long key = id;
  sql << "UPDATE registry_accounts SET account_no = :n WHERE id = :id", soci::use(account_no),
      soci::use(key);
}

void addMember(soci::session& sql, std::int64_t account_id, std::int64_t user_id,
               std::int64_t now_ms) {
  long long a = account_id, u = user_id, now = now_ms;
  sql << "INSERT INTO registry_account_members (account_id, user_id, added_at_ms) "
         "VALUES (:a, :u, :t)",
      soci::use(a), soci::use(u), soci::use(now);
}

std::vector<std::int64_t> members(soci::session& sql, std::int64_t account_id) {
  long long a = account_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT user_id FROM registry_account_members WHERE account_id = :a "
                      "ORDER BY user_id",
       soci::use(a));
  std::vector<std::int64_t> out;
  for (const auto& row : rows) out.push_back(rowInt64(row, 0));
  return out;
}

bool isMember(soci::session& sql, std::int64_t account_id, std::int64_t user_id) {
  long long a = account_id, u = user_id, n = 0;
  sql << "SELECT COUNT(*) FROM registry_account_members WHERE account_id = :a AND user_id = :u",
      soci::use(a), soci::use(u), soci::into(n);
  return n > 0;
}

bool userExists(soci::session& sql, std::int64_t user_id) {
  long long u = user_id, n = 0;
  sql << "SELECT COUNT(*) FROM users WHERE id = :u", soci::use(u), soci::into(n);
  return n > 0;
}

bool regionExists(soci::session& sql, const std::string& code) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

std::vector<AccountRow> candidateAccounts(soci::session& sql, std::int64_t user_id) {
  long long u = user_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " << kAccountColumns
                   << " FROM registry_accounts WHERE kind IN ('operator', 'buffer', 'province') "
                      "OR id IN (SELECT account_id FROM registry_account_members WHERE user_id = "
                      ":u) ORDER BY id",
       soci::use(u));
  std::vector<AccountRow> out;
  for (const auto& row : rows) out.push_back(accountFrom(row));
  return out;
}

Balances balances(soci::session& sql, std::int64_t account_id) {
  long long a = account_id;
  soci::rowset<soci::row> rows =
      (sql.prepare
           << "SELECT status, CAST(SUM(last_unit - first_unit + 1) AS BIGINT) FROM serial_blocks "
              "WHERE account_id = :a GROUP BY status",
       soci::use(a));
  Balances out;
  for (const auto& row : rows) {
    auto status = row.get<std::string>(0);
    auto units = rowInt64(row, 1);
    if (status == "held") out.held = units;
    if (status == "retired") out.retired = units;
    if (status == "cancelled") out.cancelled = units;
  }
  return out;
}

std::vector<BlockRow> heldBlocksForUpdate(soci::session& sql, std::int64_t account_id,
                                          std::optional<std::int64_t> batch_id,
                                          const UnitFilter* filter) {
  long long a = account_id, b = batch_id.value_or(0);
  std::string query =
      "SELECT b.id, b.batch_id, b.first_unit, b.last_unit, i.methodology_id, i.region_code, "
      "i.vintage_year FROM serial_blocks b JOIN registry_issuances i ON i.batch_id = b.batch_id "
      "WHERE b.account_id = :a AND b.status = 'held'";
  if (batch_id) query += " AND b.batch_id = :b";
  query += " ORDER BY b.batch_id, b.first_unit";
  if (isPostgres(sql)) query += " FOR UPDATE OF b";
  std::vector<BlockRow> out;
  auto collect = [&](soci::rowset<soci::row>& rows) {
    for (const auto& row : rows) {
      if (filter && !filter->matches(row.get<std::string>(4), row.get<std::string>(5),
                                     static_cast<int>(rowInt64(row, 6))))
        continue;
      out.push_back({rowInt64(row, 0), rowInt64(row, 1), rowInt64(row, 2), rowInt64(row, 3)});
    }
  };
  if (batch_id) {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(a), soci::use(b));
    collect(rows);
  } else {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(a));
    collect(rows);
  }
  return out;
}

void reassignBlock(soci::session& sql, const BlockRow& block, std::int64_t from_account,
                   std::int64_t to_account, const std::string& status, std::int64_t operation_id) {
  long long id = block.id, from = from_account, to = to_account, op = operation_id,
            first = block.first, last = block.last;
  soci::statement st =
      (sql.prepare << "UPDATE serial_blocks SET account_id = :to, status = :s, operation_id = :op "
                      "WHERE id = :id AND account_id = :from AND status = 'held' "
                      "AND first_unit = :f AND last_unit = :l",
       soci::use(to), soci::use(status), soci::use(op), soci::use(id), soci::use(from),
       soci::use(first), soci::use(last));
  st.execute(true);
  if (st.get_affected_rows() != 1)
    throw std::logic_error("serial block " + std::to_string(block.id) + " changed while moving");
}

void splitBlock(soci::session& sql, const BlockRow& block, std::int64_t from_account,
                std::int64_t units, std::int64_t to_account, const std::string& status,
                std::int64_t operation_id) {
  if (units <= 0 || units >= block.last - block.first + 1)
    throw std::logic_error("a split must leave units on both sides");
  long long id = block.id, from = from_account, first = block.first, rest = block.first + units;
  soci::statement st =
      (sql.prepare
           << "UPDATE serial_blocks SET first_unit = :rest "
              "WHERE id = :id AND account_id = :from AND status = 'held' AND first_unit = :f",
       soci::use(rest), soci::use(id), soci::use(from), soci::use(first));
  st.execute(true);
  if (st.get_affected_rows() != 1)
    throw std::logic_error("serial block " + std::to_string(block.id) + " changed while splitting");
  insertBlock(sql, block.batch_id, block.first, block.first + units - 1, to_account, status,
              operation_id);
}

void insertBlock(soci::session& sql, std::int64_t batch_id, std::int64_t first, std::int64_t last,
                 std::int64_t account_id, const std::string& status, std::int64_t operation_id) {
  long long b = batch_id, f = first, l = last, a = account_id, op = operation_id;
  sql << "INSERT INTO serial_blocks (batch_id, first_unit, last_unit, account_id, status, "
         "operation_id) VALUES (:b, :f, :l, :a, :s, :op)",
      soci::use(b), soci::use(f), soci::use(l), soci::use(a), soci::use(status), soci::use(op);
}

std::vector<SerialBlock> blocksOfAccount(soci::session& sql, std::int64_t account_id) {
  long long a = account_id;
  soci::rowset<soci::row> rows = (sql.prepare << kBlockSelect
                                              << "WHERE b.account_id = :a "
                                                 "ORDER BY b.status, b.batch_id, b.first_unit",
                                  soci::use(a));
  std::vector<SerialBlock> out;
  for (const auto& row : rows) out.push_back(blockFrom(row));
  return out;
}

std::vector<SerialBlock> blocksOverlapping(soci::session& sql, std::int64_t batch_id,
                                           std::int64_t first, std::int64_t last) {
  long long b = batch_id, f = first, l = last;
  soci::rowset<soci::row> rows =
      (sql.prepare << kBlockSelect
                   << "WHERE b.batch_id = :b AND b.last_unit >= :f AND b.first_unit <= :l "
                      "ORDER BY b.first_unit",
       soci::use(b), soci::use(f), soci::use(l));
  std::vector<SerialBlock> out;
  for (const auto& row : rows) out.push_back(blockFrom(row));
  return out;
}

std::optional<ExistingOperation> findOperation(soci::session& sql, const std::string& key) {
  long long id = 0;
  std::string digest;
  sql << "SELECT id, request_digest FROM registry_operations WHERE idempotency_key = :k",
      soci::use(key), soci::into(id), soci::into(digest);
  if (!sql.got_data()) return std::nullopt;
  return ExistingOperation{id, digest};
}

std::int64_t insertOperation(soci::session& sql, const OperationRow& row, std::int64_t now_ms) {
  long long id = 0, units = row.units, now = now_ms, from = row.from_account.value_or(0),
            to = row.to_account.value_or(0);
  soci::indicator from_ind = row.from_account ? soci::i_ok : soci::i_null;
  soci::indicator to_ind = row.to_account ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO registry_operations (idempotency_key, kind, from_account_id, to_account_id, "
         "units, reason, beneficiary, note, request_digest, actor, at_ms) "
         "VALUES (:k, :kind, :f, :t, :u, :r, :b, :n, :d, :a, :at) RETURNING id",
      soci::use(row.key), soci::use(row.kind), soci::use(from, from_ind), soci::use(to, to_ind),
      soci::use(units), soci::use(row.reason), soci::use(row.beneficiary), soci::use(row.note),
      soci::use(row.digest), soci::use(row.actor), soci::use(now), soci::into(id);
  return id;
}

void insertOperationRange(soci::session& sql, std::int64_t operation_id, std::int64_t batch_id,
                          std::int64_t first, std::int64_t last) {
  long long op = operation_id, b = batch_id, f = first, l = last;
  sql << "INSERT INTO registry_operation_blocks (operation_id, batch_id, first_unit, last_unit) "
         "VALUES (:op, :b, :f, :l)",
      soci::use(op), soci::use(b), soci::use(f), soci::use(l);
}

Operation loadOperation(soci::session& sql, std::int64_t id) {
  long long key = id;
  Operation op;
  soci::rowset<soci::row> rows =
      (sql.prepare
           << "SELECT o.id, o.kind, COALESCE(f.account_no, ''), COALESCE(t.account_no, ''), "
              "o.units, o.reason, o.beneficiary, o.note, o.actor, o.at_ms "
              "FROM registry_operations o "
              "LEFT JOIN registry_accounts f ON f.id = o.from_account_id "
              "LEFT JOIN registry_accounts t ON t.id = o.to_account_id WHERE o.id = :id",
       soci::use(key));
  bool found = false;
  for (const auto& row : rows) {
    found = true;
    op.id = rowInt64(row, 0);
    op.kind = row.get<std::string>(1);
    op.from_account_no = row.get<std::string>(2);
    op.to_account_no = row.get<std::string>(3);
    op.units = Units(rowInt64(row, 4));
    op.reason = row.get<std::string>(5);
    op.beneficiary = row.get<std::string>(6);
    op.note = row.get<std::string>(7);
    op.actor = row.get<std::string>(8);
    op.at = fromEpochMs(rowInt64(row, 9));
  }
  if (!found) throw std::logic_error("registry operation " + std::to_string(id) + " is missing");
  soci::rowset<soci::row> ranges =
      (sql.prepare << "SELECT ob.batch_id, ob.first_unit, ob.last_unit, i.region_code, "
                      "i.methodology_id, i.vintage_year FROM registry_operation_blocks ob "
                      "JOIN registry_issuances i ON i.batch_id = ob.batch_id "
                      "WHERE ob.operation_id = :id ORDER BY ob.batch_id, ob.first_unit",
       soci::use(key));
  for (const auto& row : ranges) {
    op.ranges.push_back({row.get<std::string>(3), row.get<std::string>(4),
                         static_cast<int>(rowInt64(row, 5)), rowInt64(row, 0), rowInt64(row, 1),
                         rowInt64(row, 2)});
  }
  return op;
}

std::vector<std::int64_t> operationIds(soci::session& sql, const std::string& kind, int limit,
                                       int offset) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM registry_operations WHERE kind = :k ORDER BY id DESC "
                      "LIMIT :l OFFSET :o",
       soci::use(kind), soci::use(limit), soci::use(offset));
  std::vector<std::int64_t> out;
  for (const auto& row : rows) out.push_back(rowInt64(row, 0));
  return out;
}

std::vector<std::int64_t> operationIdsTouching(soci::session& sql, std::int64_t batch_id,
                                               std::int64_t first, std::int64_t last, int limit) {
  long long b = batch_id, f = first, l = last;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT DISTINCT operation_id FROM registry_operation_blocks WHERE "
                      "batch_id = :b AND first_unit <= :l AND last_unit >= :f "
                      "ORDER BY operation_id LIMIT :lim",
       soci::use(b), soci::use(l), soci::use(f), soci::use(limit));
  std::vector<std::int64_t> out;
  for (const auto& row : rows) out.push_back(rowInt64(row, 0));
  return out;
}

void insertIssuance(soci::session& sql, const IssuanceRow& row) {
  long long b = row.batch_id, u = row.units, bu = row.buffer_units, a = row.account_id,
            t = row.issued_at_ms;
  int year = row.vintage_year;
  sql << "INSERT INTO registry_issuances (batch_id, region_code, methodology_id, vintage_year, "
         "units, buffer_units, account_id, issued_at_ms) VALUES (:b, :r, :m, :y, :u, :bu, :a, :t)",
      soci::use(b), soci::use(row.region), soci::use(row.methodology), soci::use(year),
      soci::use(u), soci::use(bu), soci::use(a), soci::use(t);
}

namespace {
const char* kIssuanceSelect =
    "SELECT batch_id, region_code, methodology_id, vintage_year, units, buffer_units, account_id, "
    "issued_at_ms FROM registry_issuances ";
IssuanceRow issuanceFrom(const soci::row& row) {
  return {rowInt64(row, 0),        row.get<std::string>(1),
          row.get<std::string>(2), static_cast<int>(rowInt64(row, 3)),
          rowInt64(row, 4),        rowInt64(row, 5),
          rowInt64(row, 6),        rowInt64(row, 7)};
}
}  // namespace

std::optional<IssuanceRow> findIssuance(soci::session& sql, std::int64_t batch_id) {
  long long b = batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << kIssuanceSelect << "WHERE batch_id = :b", soci::use(b));
  for (const auto& row : rows) return issuanceFrom(row);
  return std::nullopt;
}

std::vector<IssuanceRow> listIssuances(soci::session& sql, int limit, int offset) {
  soci::rowset<soci::row> rows =
      (sql.prepare << kIssuanceSelect << "ORDER BY batch_id DESC LIMIT :l OFFSET :o",
       soci::use(limit), soci::use(offset));
  std::vector<IssuanceRow> out;
  for (const auto& row : rows) out.push_back(issuanceFrom(row));
  return out;
}

std::vector<SerialRange> issuedRanges(soci::session& sql, const IssuanceRow& issuance) {
  long long b = issuance.batch_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT ob.first_unit, ob.last_unit FROM registry_operation_blocks ob "
                      "JOIN registry_operations o ON o.id = ob.operation_id "
                      "WHERE o.kind = 'issue' AND ob.batch_id = :b ORDER BY ob.first_unit",
       soci::use(b));
  std::vector<SerialRange> out;
  for (const auto& row : rows) {
    out.push_back({issuance.region, issuance.methodology, issuance.vintage_year, issuance.batch_id,
                   rowInt64(row, 0), rowInt64(row, 1)});
  }
  return out;
}

std::vector<TotalsRow> totalsBy(soci::session& sql, const std::string& group) {
  std::string column;
  if (group == "vintage") column = "CAST(i.vintage_year AS TEXT)";
  if (group == "methodology") column = "i.methodology_id";
  if (group == "region") column = "i.region_code";
  if (column.empty()) throw std::logic_error("unknown totals group " + group);
  std::map<std::string, TotalsRow> by_key;
  soci::rowset<soci::row> issued =
      (sql.prepare << "SELECT " << column
                   << ", CAST(SUM(i.units) AS BIGINT) FROM registry_issuances i GROUP BY "
                   << column);
  for (const auto& row : issued) {
    auto key = row.get<std::string>(0);
    by_key[key].key = key;
    by_key[key].issued = Units(rowInt64(row, 1));
  }
  soci::rowset<soci::row> held =
      (sql.prepare
       << "SELECT " << column
       << ", b.status, CAST(SUM(b.last_unit - b.first_unit + 1) AS BIGINT) FROM serial_blocks b "
          "JOIN registry_issuances i ON i.batch_id = b.batch_id GROUP BY "
       << column << ", b.status");
  for (const auto& row : held) {
    auto& t = by_key[row.get<std::string>(0)];
    Units units(rowInt64(row, 2));
    switch (statusFrom(row.get<std::string>(1))) {
      case BlockStatus::kHeld:
        t.held = units;
        break;
      case BlockStatus::kRetired:
        t.retired = units;
        break;
      case BlockStatus::kCancelled:
        t.cancelled = units;
        break;
    }
  }
  std::vector<TotalsRow> out;
  for (auto& [key, row] : by_key) out.push_back(row);
  return out;
}

CheckReport checkInvariants(soci::session& sql) {
  CheckReport report;
  auto fail = [&](std::string problem) {
    report.ok = false;
    report.problem = std::move(problem);
    return report;
  };
  std::map<std::int64_t, std::int64_t> issued;  // batch → units
  {
    soci::rowset<soci::row> rows =
        sql.prepare << "SELECT batch_id, units, buffer_units FROM registry_issuances";
    for (const auto& row : rows) {
      ++report.issuances;
      issued[rowInt64(row, 0)] = rowInt64(row, 1);
      if (rowInt64(row, 2) > rowInt64(row, 1) || rowInt64(row, 2) < 0)
        return fail("batch " + std::to_string(rowInt64(row, 0)) + ": buffer units out of range");
    }
  }
  // Walk every batch's blocks in serial order: they must tile 1..units exactly, so they are
  // disjoint and issued = held + retired + cancelled.
  std::int64_t batch = 0, next = 0;
  auto closeBatch = [&]() -> bool { return batch == 0 || next == issued[batch] + 1; };
  soci::rowset<soci::row> blocks =
      sql.prepare << "SELECT b.id, b.batch_id, b.first_unit, b.last_unit, b.status, o.kind "
                     "FROM serial_blocks b JOIN registry_operations o ON o.id = b.operation_id "
                     "ORDER BY b.batch_id, b.first_unit";
  for (const auto& row : blocks) {
    ++report.blocks;
    auto id = rowInt64(row, 0), b = rowInt64(row, 1), first = rowInt64(row, 2),
         last = rowInt64(row, 3);
    auto status = row.get<std::string>(4), kind = row.get<std::string>(5);
    std::string name = "serial block " + std::to_string(id) + " (batch " + std::to_string(b) +
                       ", units " + std::to_string(first) + "-" + std::to_string(last) + ")";
    if (b != batch) {
      if (!closeBatch()) {
        return fail("batch " + std::to_string(batch) + ": blocks cover units 1-" +
                    std::to_string(next - 1) + " of " + std::to_string(issued[batch]) + " issued");
      }
      batch = b;
      next = 1;
      if (!issued.count(b)) return fail(name + " belongs to no issuance");
    }
    if (first < next) return fail(name + " overlaps the block before it");
    if (first > next)
      return fail(name + " leaves units " + std::to_string(next) + "-" + std::to_string(first - 1) +
                  " in no block");
    if (last < first) return fail(name + " is empty");
    if (last > issued[b])
      return fail(name + " runs past the " + std::to_string(issued[b]) + " units issued");
    if ((status == "retired" && kind != "retire") || (status == "cancelled" && kind != "cancel")) {
      return fail(name + " is " + status + " but was last moved by a " + kind + " operation");
    }
    next = last + 1;
  }
  if (!closeBatch()) {
    return fail("batch " + std::to_string(batch) + ": blocks cover units 1-" +
                std::to_string(next - 1) + " of " + std::to_string(issued[batch]) + " issued");
  }
  for (const auto& [b, units] : issued) {
    long long key = b, n = 0;
    sql << "SELECT COUNT(*) FROM serial_blocks WHERE batch_id = :b", soci::use(key), soci::into(n);
    if (n == 0)
      return fail("batch " + std::to_string(b) + " issued " + std::to_string(units) +
                  " units but holds no block");
  }
  soci::rowset<soci::row> ops =
      sql.prepare
      << "SELECT o.id, o.units, (SELECT CAST(SUM(ob.last_unit - ob.first_unit + 1) AS BIGINT) FROM "
         "registry_operation_blocks ob WHERE ob.operation_id = o.id) "
         "FROM registry_operations o ORDER BY o.id";
  for (const auto& row : ops) {
    auto moved = row.get_indicator(2) == soci::i_null ? 0 : rowInt64(row, 2);
    if (moved != rowInt64(row, 1)) {
      return fail("operation " + std::to_string(rowInt64(row, 0)) + " moved " +
                  std::to_string(moved) + " units but records " + std::to_string(rowInt64(row, 1)));
    }
  }
  return report;
}

}  // namespace tph::registry::detail
