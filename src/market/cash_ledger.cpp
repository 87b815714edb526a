#include "market/cash_ledger.h"

#include <algorithm>
#include <stdexcept>

#include "core/crypto.h"
#include "store/database.h"

namespace tph::market {

namespace {

constexpr std::size_t kIdempotencyKeyMaxBytes = 200;

//! The legs in a canonical order, as text: what the idempotency check compares.
std::string legsDigest(std::vector<CashLeg> legs) {
  std::sort(legs.begin(), legs.end(),
            [](const CashLeg& a, const CashLeg& b) { return a.account < b.account; });
  std::string text;
  for (const auto& leg : legs)
    text += std::to_string(leg.account) + ":" + std::to_string(leg.amount.value()) + ";";
  return sha256Hex(text);
}

}  // namespace

CashAccountId openCashAccount(soci::session& sql, const std::string& code, const std::string& kind,
                              bool allow_negative, const Clock& clock) {
  long long found = 0;
  sql << "SELECT id FROM market_cash_accounts WHERE code = :c", soci::use(code), soci::into(found);
  if (sql.got_data()) return found;
  long long id = 0, now = toEpochMs(clock.now());
  int negative = allow_negative ? 1 : 0;
  sql << "INSERT INTO market_cash_accounts (code, kind, allow_negative, balance, created_at_ms) "
         "VALUES (:c, :k, :n, 0, :t) RETURNING id",
      soci::use(code), soci::use(kind), soci::use(negative), soci::use(now), soci::into(id);
  return id;
}

Result<CashPosting> postCash(soci::session& sql, const CashEntry& entry, const Clock& clock) {
  if (entry.legs.size() < 2) throw std::logic_error("a cash entry needs at least two legs");
  Fen sum{0};
  for (const auto& leg : entry.legs) sum += leg.amount;
  if (!sum.isZero()) {
    throw std::logic_error("cash entry " + entry.idempotency_key +
                           " does not balance: legs sum to " + sum.toString());
  }
  for (std::size_t i = 0; i < entry.legs.size(); ++i) {
    for (std::size_t j = i + 1; j < entry.legs.size(); ++j) {
      if (entry.legs[i].account == entry.legs[j].account) {
        throw std::logic_error("cash entry " + entry.idempotency_key + " names an account twice");
      }
    }
  }
  if (entry.idempotency_key.empty() || entry.idempotency_key.size() > kIdempotencyKeyMaxBytes) {
    return Error::invalid("idempotency_key", "an idempotency key is 1-200 bytes");
  }
  std::string digest = legsDigest(entry.legs);
  long long existing_id = 0;
  std::string existing_digest;
  sql << "SELECT id, legs_digest FROM market_cash_entries WHERE idempotency_key = :k",
      soci::use(entry.idempotency_key), soci::into(existing_id), soci::into(existing_digest);
  if (sql.got_data()) {
    if (existing_digest != digest) {
      return Error::conflict(
          "idempotency key " + entry.idempotency_key + " was used for a different posting",
          "idempotency_key");
    }
    return CashPosting{existing_id, true};
  }
  long long entry_id = 0, now = toEpochMs(clock.now());
  sql << "INSERT INTO market_cash_entries (idempotency_key, kind, memo, legs_digest, at_ms) "
         "VALUES (:k, :kind, :m, :d, :t) RETURNING id",
      soci::use(entry.idempotency_key), soci::use(entry.kind), soci::use(entry.memo),
      soci::use(digest), soci::use(now), soci::into(entry_id);
  // One prepared statement each for the balance update and the posting, run once per leg.
  long long account = 0, amount = 0;
  soci::statement update =
      (sql.prepare << "UPDATE market_cash_accounts SET balance = balance + :a "
                      "WHERE id = :id AND (allow_negative = 1 OR balance + :a2 >= 0)",
       soci::use(amount), soci::use(account), soci::use(amount));
  soci::statement insert =
      (sql.prepare << "INSERT INTO market_cash_postings (entry_id, account_id, amount) "
                      "VALUES (:e, :a, :m)",
       soci::use(entry_id), soci::use(account), soci::use(amount));
  for (const auto& leg : entry.legs) {
    account = leg.account;
    amount = leg.amount.value();
    update.execute(true);
    if (update.get_affected_rows() != 1) {
      long long exists = 0;
      sql << "SELECT COUNT(*) FROM market_cash_accounts WHERE id = :id", soci::use(account),
          soci::into(exists);
      if (exists == 0)
        throw std::logic_error("posting to unknown cash account " + std::to_string(account));
      return Error::conflict("not enough cash", "cash");
    }
    insert.execute(true);
  }
  return CashPosting{entry_id, false};
}

Fen cashBalance(soci::session& sql, CashAccountId account) {
  long long id = account, balance = 0;
  sql << "SELECT balance FROM market_cash_accounts WHERE id = :id", soci::use(id),
      soci::into(balance);
  return Fen(balance);
}

CashCheck verifyCashLedger(soci::session& sql) {
  CashCheck check;
  long long entry_id = 0, total = 0;
  soci::indicator total_ind;
  soci::statement entries =
      (sql.prepare << "SELECT e.id, SUM(p.amount) FROM market_cash_entries e "
                      "LEFT JOIN market_cash_postings p ON p.entry_id = e.id GROUP BY e.id",
       soci::into(entry_id), soci::into(total, total_ind));
  entries.execute();
  while (entries.fetch()) {
    ++check.entries;
    if (total_ind == soci::i_null || total != 0) {
      check.ok = false;
      check.problem = "cash entry " + std::to_string(entry_id) + " does not sum to zero";
      return check;
    }
  }
  long long account_id = 0, balance = 0, derived = 0;
  soci::indicator derived_ind;
  soci::statement accounts =
      (sql.prepare << "SELECT a.id, a.balance, (SELECT SUM(p.amount) FROM market_cash_postings p "
                      "WHERE p.account_id = a.id) FROM market_cash_accounts a",
       soci::into(account_id), soci::into(balance), soci::into(derived, derived_ind));
  accounts.execute();
  while (accounts.fetch()) {
    ++check.accounts;
    long long expected = derived_ind == soci::i_null ? 0 : derived;
    if (balance != expected) {
      check.ok = false;
      check.problem = "cash account " + std::to_string(account_id) + " shows " +
                      std::to_string(balance) + " but its postings sum to " +
                      std::to_string(expected);
      return check;
    }
  }
  return check;
}

}  // namespace tph::market
