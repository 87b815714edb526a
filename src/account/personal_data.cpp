#include "account/personal_data.h"

#include <vector>

#include "account/points_ledger.h"
#include "store/database.h"
#include "store/json_export.h"

namespace tph::account {

namespace {

constexpr const char* kForfeitedLedgerCode = "forfeited";

struct Membership {
  long long account_id = 0;
  std::string kind;
  std::string role;
  long long ledger = 0;
  long long others = 0;  //!< members besides the user
};

std::vector<Membership> membershipsOf(soci::session& sql, long long user_id) {
  std::vector<Membership> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT c.id, c.kind, m.role, c.ledger_account_id, "
                      "(SELECT COUNT(*) FROM account_members o WHERE o.account_id = c.id "
                      "AND o.user_id <> m.user_id) "
                      "FROM account_members m JOIN carbon_accounts c ON c.id = m.account_id "
                      "WHERE m.user_id = :u ORDER BY c.id",
       soci::use(user_id));
  for (const auto& row : rows) {
    out.push_back({store::rowInt64(row, 0), store::rowText(row, 1), store::rowText(row, 2),
                   store::rowInt64(row, 3), store::rowInt64(row, 4)});
  }
  return out;
}

//! Moves the whole balance of a carbon account to the forfeited account; returns the amount.
Result<std::int64_t> forfeit(soci::session& sql, const Clock& clock, const Membership& m) {
  Points balance = balanceOf(sql, m.ledger);
  if (balance.value() == 0) return std::int64_t{0};
  auto to = openLedgerAccount(sql, kForfeitedLedgerCode, "forfeited", false, clock);
  JournalEntry entry{"erasure:" + std::to_string(m.account_id),
                     "forfeit",
                     "account deleted by its holder",
                     {{m.ledger, Points(-balance.value())}, {to, balance}}};
  auto posted = postEntry(sql, entry, clock);
  if (!posted) return posted.error();
  return balance.value();
}

}  // namespace

nlohmann::json exportAccountData(soci::session& sql, std::int64_t user_id) {
  nlohmann::json out = nlohmann::json::object();
  out["accounts"] = store::queryAsJson(
      sql,
      "SELECT c.id, c.kind, c.name, c.region_code AS region, m.role, m.joined_at_ms, "
      "l.balance AS points, c.created_at_ms FROM account_members m "
      "JOIN carbon_accounts c ON c.id = m.account_id "
      "JOIN ledger_accounts l ON l.id = c.ledger_account_id WHERE m.user_id = :id ORDER BY c.id",
      user_id);
  out["points_postings"] = store::queryAsJson(
      sql,
      "SELECT e.id AS entry_id, e.kind, e.memo, p.amount AS points, e.at_ms "
      "FROM account_members m JOIN carbon_accounts c ON c.id = m.account_id "
      "JOIN journal_postings p ON p.account_id = c.ledger_account_id "
      "JOIN journal_entries e ON e.id = p.entry_id "
      "WHERE m.user_id = :id AND m.role = 'owner' AND c.kind = 'person' ORDER BY e.at_ms, e.id",
      user_id);
  return out;
}

Status checkAccountErasable(soci::session& sql, std::int64_t user_id) {
  for (const auto& m : membershipsOf(sql, user_id)) {
    if (m.kind == "household" && m.role == "admin" && m.others > 0) {
      return Error::conflict(
          "you administer household " + std::to_string(m.account_id) +
              " with other members; remove them or let them leave before deleting your account",
          "households");
    }
    if (m.kind == "enterprise") {
      return Error::conflict(
          "an enterprise account is closed by the enterprise, not deleted "
          "with a person's data",
          "accounts");
    }
  }
  return {};
}

Result<AccountErasure> eraseAccountData(soci::session& sql, const Clock& clock,
                                        std::int64_t user_id) {
  AccountErasure done;
  long long uid = user_id;
  for (const auto& m : membershipsOf(sql, uid)) {
    bool last = m.others == 0;
    if (m.kind == "household") {
      sql << "DELETE FROM account_members WHERE account_id = :a AND user_id = :u",
          soci::use(m.account_id), soci::use(uid);
      ++done.households_left;
    }
    if (m.kind == "person" || last) {
      auto amount = forfeit(sql, clock, m);
      if (!amount) return amount.error();
      done.points_forfeited += *amount;
      done.closed_accounts.push_back(m.account_id);
      sql << "UPDATE carbon_accounts SET name = '' WHERE id = :a", soci::use(m.account_id);
    }
  }
  return done;
}

}  // namespace tph::account
