#include "incentive/card_store.h"

#include "store/database.h"

namespace tph::incentive::detail {

namespace {

using store::rowInt64;
using store::rowOptionalInt64;
using store::rowText;

constexpr const char* kPartnerColumns =
    "SELECT p.id, p.code, p.name, p.rate_points, p.rate_reward, p.status, p.export_secret, "
    "p.ledger_account_id, p.created_at_ms, p.updated_at_ms, COALESCE(l.balance, 0) "
    "FROM card_partners p LEFT JOIN ledger_accounts l ON l.id = p.ledger_account_id ";

PartnerRow partnerFrom(const soci::row& r) {
  PartnerRow out;
  CardPartner& p = out.partner;
  p.id = rowInt64(r, 0);
  p.fields = {rowText(r, 1), rowText(r, 2), rowInt64(r, 3), rowInt64(r, 4)};
  p.status = rowText(r, 5);
  out.export_secret = rowText(r, 6);
  out.ledger_account_id = rowInt64(r, 7);
  p.created_at = fromEpochMs(rowInt64(r, 8));
  p.updated_at = fromEpochMs(rowInt64(r, 9));
  p.points = Points(rowInt64(r, 10));
  return out;
}

constexpr const char* kLinkColumns =
    "SELECT k.id, k.partner_id, p.name, k.user_id, k.card_token, k.status, k.created_at_ms "
    "FROM card_links k JOIN card_partners p ON p.id = k.partner_id ";

CardLink linkFrom(const soci::row& r) {
  CardLink k;
  k.id = rowInt64(r, 0);
  k.partner_id = rowInt64(r, 1);
  k.partner_name = rowText(r, 2);
  k.user_id = rowInt64(r, 3);
  k.card_token = rowText(r, 4);
  k.status = rowText(r, 5);
  k.created_at = fromEpochMs(rowInt64(r, 6));
  return k;
}

constexpr const char* kConversionColumns =
    "SELECT c.id, c.link_id, c.partner_id, c.user_id, k.card_token, c.points, c.reward_points, "
    "c.rate_points, c.rate_reward, c.day, c.status, c.bank_reference, c.bank_reason, "
    "c.created_at_ms, c.ledger_account_id FROM card_conversions c "
    "JOIN card_links k ON k.id = c.link_id ";

ConversionRow conversionFrom(const soci::row& r) {
  ConversionRow out;
  CardConversion& c = out.conversion;
  c.id = rowInt64(r, 0);
  c.link_id = rowInt64(r, 1);
  c.partner_id = rowInt64(r, 2);
  c.user_id = rowInt64(r, 3);
  c.card_token = rowText(r, 4);
  c.points = Points(rowInt64(r, 5));
  c.reward_points = rowInt64(r, 6);
  c.rate_points = rowInt64(r, 7);
  c.rate_reward = rowInt64(r, 8);
  c.day = rowText(r, 9);
  c.status = rowText(r, 10);
  c.bank_reference = rowText(r, 11);
  c.bank_reason = rowText(r, 12);
  c.created_at = fromEpochMs(rowInt64(r, 13));
  out.ledger_account_id = rowInt64(r, 14);
  return out;
}

template <class T, class From>
std::vector<T> many(soci::session& sql, const std::string& query, long long a, From from) {
  std::vector<T> out;
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(a));
  for (const auto& r : rows) out.push_back(from(r));
  return out;
}

}  // namespace

bool partnerCodeTaken(soci::session& sql, const std::string& code) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM card_partners WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

std::int64_t insertPartner(soci::session& sql, const CardPartnerFields& f,
                           const std::string& secret, std::int64_t ledger_account_id,
                           const std::string& actor, std::int64_t now_ms) {
  long long id = 0, rp = f.rate_points, rr = f.rate_reward, ledger = ledger_account_id,
            now = now_ms;
  sql << "INSERT INTO card_partners (code, name, rate_points, rate_reward, export_secret, status, "
         "ledger_account_id, created_by, created_at_ms, updated_at_ms) VALUES "
         "(:c, :n, :rp, :rr, :s, 'active', :l, :a, :t, :u) RETURNING id",
      soci::use(f.code), soci::use(f.name), soci::use(rp), soci::use(rr), soci::use(secret),
      soci::use(ledger), soci::use(actor), soci::use(now), soci::use(now), soci::into(id);
  return id;
}

std::optional<PartnerRow> loadPartner(soci::session& sql, std::int64_t id) {
  soci::row r;
  long long pid = id;
  sql << std::string(kPartnerColumns) + "WHERE p.id = :id", soci::use(pid), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return partnerFrom(r);
}

void lockPartner(soci::session& sql, std::int64_t id) {
  long long pid = id;
  sql << "UPDATE card_partners SET updated_at_ms = updated_at_ms WHERE id = :id", soci::use(pid);
}

std::vector<CardPartner> listPartners(soci::session& sql) {
  std::vector<CardPartner> out;
  soci::rowset<soci::row> rows = sql.prepare << std::string(kPartnerColumns) + "ORDER BY p.id";
  for (const auto& r : rows) out.push_back(partnerFrom(r).partner);
  return out;
}

void updatePartnerRate(soci::session& sql, std::int64_t id, std::int64_t rate_points,
                       std::int64_t rate_reward, std::int64_t now_ms) {
  long long pid = id, rp = rate_points, rr = rate_reward, now = now_ms;
  sql << "UPDATE card_partners SET rate_points = :rp, rate_reward = :rr, updated_at_ms = :t "
         "WHERE id = :id",
      soci::use(rp), soci::use(rr), soci::use(now), soci::use(pid);
}

void updatePartnerStatus(soci::session& sql, std::int64_t id, const std::string& status,
                         std::int64_t now_ms) {
  long long pid = id, now = now_ms;
  sql << "UPDATE card_partners SET status = :s, updated_at_ms = :t WHERE id = :id",
      soci::use(status), soci::use(now), soci::use(pid);
}

std::optional<CardLink> findActiveLink(soci::session& sql, std::int64_t partner_id,
                                       const std::string& card_token) {
  soci::row r;
  long long pid = partner_id;
  sql << std::string(kLinkColumns) +
             "WHERE k.partner_id = :p AND k.card_token = :t AND k.status = 'active'",
      soci::use(pid), soci::use(card_token), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return linkFrom(r);
}

std::int64_t insertLink(soci::session& sql, std::int64_t partner_id, std::int64_t user_id,
                        const std::string& card_token, std::int64_t now_ms) {
  long long id = 0, pid = partner_id, uid = user_id, now = now_ms;
  sql << "INSERT INTO card_links (partner_id, user_id, card_token, status, created_at_ms) "
         "VALUES (:p, :u, :t, 'active', :n) RETURNING id",
      soci::use(pid), soci::use(uid), soci::use(card_token), soci::use(now), soci::into(id);
  return id;
}

std::optional<CardLink> loadLink(soci::session& sql, std::int64_t id) {
  soci::row r;
  long long kid = id;
  sql << std::string(kLinkColumns) + "WHERE k.id = :id", soci::use(kid), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return linkFrom(r);
}

std::vector<CardLink> linksOfUser(soci::session& sql, std::int64_t user_id) {
  return many<CardLink>(sql, std::string(kLinkColumns) + "WHERE k.user_id = :u ORDER BY k.id",
                        user_id, linkFrom);
}

void unlink(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long kid = id, now = now_ms;
  sql << "UPDATE card_links SET status = 'unlinked', unlinked_at_ms = :t WHERE id = :id",
      soci::use(now), soci::use(kid);
}

std::int64_t insertConversion(soci::session& sql, const CardConversion& c,
                              std::int64_t ledger_account_id, const std::string& request_key,
                              std::int64_t entry_id) {
  long long id = 0, link = c.link_id, pid = c.partner_id, uid = c.user_id,
            ledger = ledger_account_id, points = c.points.value(), reward = c.reward_points,
            rp = c.rate_points, rr = c.rate_reward, entry = entry_id, now = toEpochMs(c.created_at);
  sql << "INSERT INTO card_conversions (link_id, partner_id, user_id, ledger_account_id, points, "
         "reward_points, rate_points, rate_reward, day, status, request_key, entry_id, "
         "created_at_ms) VALUES (:k, :p, :u, :l, :pt, :rw, :rp, :rr, :d, 'pending', :key, :e, :t) "
         "RETURNING id",
      soci::use(link), soci::use(pid), soci::use(uid), soci::use(ledger), soci::use(points),
      soci::use(reward), soci::use(rp), soci::use(rr), soci::use(c.day), soci::use(request_key),
      soci::use(entry), soci::use(now), soci::into(id);
  return id;
}

std::optional<ConversionRow> loadConversion(soci::session& sql, std::int64_t id) {
  soci::row r;
  long long cid = id;
  sql << std::string(kConversionColumns) + "WHERE c.id = :id", soci::use(cid), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return conversionFrom(r);
}

std::optional<ConversionRow> findConversionByRequest(soci::session& sql, std::int64_t user_id,
                                                     const std::string& request_key) {
  soci::row r;
  long long uid = user_id;
  sql << std::string(kConversionColumns) + "WHERE c.user_id = :u AND c.request_key = :k",
      soci::use(uid), soci::use(request_key), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return conversionFrom(r);
}

std::vector<CardConversion> conversionsOfUser(soci::session& sql, std::int64_t user_id) {
  std::vector<CardConversion> out;
  for (auto& row : many<ConversionRow>(
           sql, std::string(kConversionColumns) + "WHERE c.user_id = :u ORDER BY c.id DESC",
           user_id, conversionFrom))
    out.push_back(row.conversion);
  return out;
}

std::vector<ConversionRow> conversionsOfDay(soci::session& sql, std::int64_t partner_id,
                                            const std::string& day) {
  std::vector<ConversionRow> out;
  long long pid = partner_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kConversionColumns) +
                          "WHERE c.partner_id = :p AND c.day = :d ORDER BY c.id",
       soci::use(pid), soci::use(day));
  for (const auto& r : rows) out.push_back(conversionFrom(r));
  return out;
}

void markDayExported(soci::session& sql, std::int64_t partner_id, const std::string& day) {
  long long pid = partner_id;
  sql << "UPDATE card_conversions SET status = 'exported' "
         "WHERE partner_id = :p AND day = :d AND status = 'pending'",
      soci::use(pid), soci::use(day);
}

bool decideConversion(soci::session& sql, std::int64_t id, const std::string& status,
                      const std::string& reference, const std::string& reason,
                      std::optional<std::int64_t> refund_entry_id, const std::string& via,
                      std::int64_t now_ms) {
  long long cid = id, now = now_ms, refund = refund_entry_id.value_or(0);
  soci::indicator ind = refund_entry_id ? soci::i_ok : soci::i_null;
  soci::statement st =
      (sql.prepare << "UPDATE card_conversions SET status = :s, bank_reference = :r, "
                      "bank_reason = :why, refund_entry_id = :e, reconciled_at_ms = :t, "
                      "decided_via = :v WHERE id = :id AND status = 'exported'",
       soci::use(status), soci::use(reference), soci::use(reason), soci::use(refund, ind),
       soci::use(now), soci::use(via), soci::use(cid));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

bool recordPartnerNonce(soci::session& sql, std::int64_t partner_id, const std::string& nonce,
                        std::int64_t now_ms, std::int64_t prune_before_ms) {
  long long pid = partner_id, now = now_ms, prune = prune_before_ms;
  sql << "DELETE FROM card_partner_nonces WHERE partner_id = :p AND seen_at_ms < :t",
      soci::use(pid), soci::use(prune);
  soci::statement st =
      (sql.prepare << "INSERT INTO card_partner_nonces (partner_id, nonce, seen_at_ms) "
                      "VALUES (:p, :n, :t) ON CONFLICT (partner_id, nonce) DO NOTHING",
       soci::use(pid), soci::use(nonce), soci::use(now));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

std::optional<ExportRow> loadExport(soci::session& sql, std::int64_t partner_id,
                                    const std::string& day) {
  soci::row r;
  long long pid = partner_id;
  sql << "SELECT body, signature, conversions, points, reward_points, reconciled_at_ms, "
         "discrepancies FROM card_exports WHERE partner_id = :p AND day = :d",
      soci::use(pid), soci::use(day), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  ExportRow out;
  out.file = {
      partner_id,    day, rowText(r, 0), rowText(r, 1), rowInt64(r, 2), Points(rowInt64(r, 3)),
      rowInt64(r, 4)};
  out.reconciled_at_ms = rowOptionalInt64(r, 5);
  out.discrepancies_json = rowText(r, 6);
  return out;
}

void insertExport(soci::session& sql, const CardExport& e, const std::string& actor,
                  std::int64_t now_ms) {
  long long pid = e.partner_id, n = e.conversions, points = e.points.value(),
            reward = e.reward_points, now = now_ms;
  sql << "INSERT INTO card_exports (partner_id, day, body, signature, conversions, points, "
         "reward_points, created_by, created_at_ms) VALUES (:p, :d, :b, :s, :n, :pt, :rw, :a, :t)",
      soci::use(pid), soci::use(e.day), soci::use(e.body), soci::use(e.signature), soci::use(n),
      soci::use(points), soci::use(reward), soci::use(actor), soci::use(now);
}

void recordReconciliation(soci::session& sql, std::int64_t partner_id, const std::string& day,
                          const std::string& discrepancies_json, std::int64_t now_ms) {
  long long pid = partner_id, now = now_ms;
  sql << "UPDATE card_exports SET reconciled_at_ms = :t, discrepancies = :j "
         "WHERE partner_id = :p AND day = :d",
      soci::use(now), soci::use(discrepancies_json), soci::use(pid), soci::use(day);
}

}  // namespace tph::incentive::detail
