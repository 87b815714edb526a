#include "incentive/personal_data.h"

#include <vector>

#include "incentive/incentive_store.h"
#include "store/data_key.h"
#include "store/database.h"
#include "store/json_export.h"

namespace tph::incentive {

nlohmann::json exportIncentiveData(soci::session& sql, std::int64_t user_id) {
  nlohmann::json out = nlohmann::json::object();
  out["vouchers"] = store::queryAsJson(
      sql,
      "SELECT v.id, v.code, v.offer_id, m.name AS merchant, v.title_zh, v.title_en, v.points, "
      "v.status, v.issued_at_ms, v.expires_at_ms, v.used_at_ms, v.ended_at_ms "
      "FROM vouchers v JOIN merchants m ON m.id = v.merchant_id WHERE v.user_id = :id "
      "ORDER BY v.issued_at_ms, v.id",
      user_id);
  out["benefit_claims"] = store::queryAsJson(
      sql,
      "SELECT id, policy_id, month, units, points, status, entitlement_code, partner_reference, "
      "failure_reason, created_at_ms, decided_at_ms FROM benefit_claims WHERE user_id = :id "
      "ORDER BY created_at_ms, id",
      user_id);
  out["cards"] = store::queryAsJson(
      sql,
      "SELECT k.id, p.name AS partner, k.card_token, k.status, k.created_at_ms, k.unlinked_at_ms "
      "FROM card_links k JOIN card_partners p ON p.id = k.partner_id WHERE k.user_id = :id "
      "ORDER BY k.created_at_ms, k.id",
      user_id);
  out["card_conversions"] = store::queryAsJson(
      sql,
      "SELECT id, link_id, points, reward_points, day, status, bank_reference, bank_reason, "
      "created_at_ms, reconciled_at_ms FROM card_conversions WHERE user_id = :id "
      "ORDER BY created_at_ms, id",
      user_id);
  nlohmann::json profile = store::queryAsJson(
      sql,
      "SELECT p.nickname, p.listed, c.name AS community, p.updated_at_ms FROM ranking_profiles p "
      "LEFT JOIN communities c ON c.id = p.community_id WHERE p.user_id = :id",
      user_id);
  out["leaderboard_profile"] = profile.empty() ? nlohmann::json(nullptr) : profile.front();
  return out;
}

Status checkIncentiveErasable(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  int claims = 0, conversions = 0;
  sql << "SELECT COUNT(*) FROM benefit_claims WHERE user_id = :u AND status = 'pending'",
      soci::use(uid), soci::into(claims);
  if (claims > 0) {
    return Error::conflict(
        "a benefit claim is still waiting for its partner; delete the account once it is decided",
        "benefit_claims");
  }
  sql << "SELECT COUNT(*) FROM card_conversions WHERE user_id = :u "
         "AND status IN ('pending', 'exported')",
      soci::use(uid), soci::into(conversions);
  if (conversions > 0) {
    return Error::conflict(
        "a card conversion is still with the bank; delete the account once the bank has answered",
        "card_conversions");
  }
  return {};
}

Result<std::int64_t> eraseIncentiveData(soci::session& sql, const Clock& clock,
                                        std::int64_t user_id, const std::string& actor) {
  long long uid = user_id, now = toEpochMs(clock.now());
  std::vector<long long> issued;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM vouchers WHERE user_id = :u AND status = 'issued'",
       soci::use(uid));
  for (const auto& row : rows) issued.push_back(store::rowInt64(row, 0));
  for (auto id : issued) {
    auto voucher = detail::loadVoucher(sql, id);
    if (!voucher) continue;
    auto refunded = detail::refundVoucher(sql, clock, *voucher, "cancelled", actor);
    if (!refunded) return refunded.error();
  }
  sql << "UPDATE card_links SET status = 'unlinked', unlinked_at_ms = :t "
         "WHERE user_id = :u AND status = 'active'",
      soci::use(now), soci::use(uid);
  sql << "DELETE FROM ranking_profiles WHERE user_id = :u", soci::use(uid);
  sql << "UPDATE ranking_totals SET listed = 0 WHERE user_id = :u", soci::use(uid);
  return static_cast<std::int64_t>(issued.size());
}

std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher) {
  return store::sealPlainColumn(sql, cipher, "merchants", "id", "contact");
}

}  // namespace tph::incentive
