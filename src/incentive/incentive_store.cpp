#include "incentive/incentive_store.h"

#include "store/database.h"

namespace tph::incentive::detail {

namespace {

using store::rowInt64;
using store::rowOptionalInt64;
using store::rowText;

constexpr const char* kMerchantColumns =
    "SELECT m.id, m.name, m.licence_no, m.category, m.region_code, m.address, m.contact, "
    "m.applicant_user_id, m.status, m.decision_reason, m.ledger_account_id, m.created_at_ms, "
    "m.decided_at_ms, COALESCE(l.balance, 0) FROM merchants m "
    "LEFT JOIN ledger_accounts l ON l.id = m.ledger_account_id ";

MerchantRow merchantFrom(const soci::row& r) {
  MerchantRow out;
  Merchant& m = out.merchant;
  m.id = rowInt64(r, 0);
  m.application = {rowText(r, 1), rowText(r, 2), rowText(r, 3),
                   rowText(r, 4), rowText(r, 5), rowText(r, 6)};
  m.applicant_user_id = rowInt64(r, 7);
  m.status = rowText(r, 8);
  m.decision_reason = rowText(r, 9);
  out.ledger_account_id = rowOptionalInt64(r, 10);
  m.created_at = fromEpochMs(rowInt64(r, 11));
  if (auto d = rowOptionalInt64(r, 12)) m.decided_at = fromEpochMs(*d);
  m.points = Points(rowInt64(r, 13));
  return out;
}

constexpr const char* kOfferColumns =
    "SELECT o.id, o.merchant_id, m.name, o.title_zh, o.title_en, o.description, o.image_url, "
    "o.points_cost, o.stock, o.issued, o.per_user_limit, o.valid_from_ms, o.valid_until_ms, "
    "o.voucher_valid_days, o.status, o.created_at_ms, o.updated_at_ms FROM offers o "
    "JOIN merchants m ON m.id = o.merchant_id ";

std::vector<std::string> offerRegions(soci::session& sql, std::int64_t offer_id) {
  std::vector<std::string> out;
  long long id = offer_id;
  soci::rowset<std::string> rows =
      (sql.prepare << "SELECT region_code FROM offer_regions WHERE offer_id = :o ORDER BY "
                      "region_code",
       soci::use(id));
  for (const auto& code : rows) out.push_back(code);
  return out;
}

Offer offerFrom(const soci::row& r) {
  Offer o;
  o.id = rowInt64(r, 0);
  o.merchant_id = rowInt64(r, 1);
  o.merchant_name = rowText(r, 2);
  OfferFields& f = o.fields;
  f.title_zh = rowText(r, 3);
  f.title_en = rowText(r, 4);
  f.description = rowText(r, 5);
  f.image_url = rowText(r, 6);
  f.points_cost = Points(rowInt64(r, 7));
  f.stock = rowInt64(r, 8);
  o.issued = rowInt64(r, 9);
  f.per_user_limit = static_cast<int>(rowInt64(r, 10));
  f.valid_from = fromEpochMs(rowInt64(r, 11));
  f.valid_until = fromEpochMs(rowInt64(r, 12));
  f.voucher_valid_days = static_cast<int>(rowInt64(r, 13));
  o.status = rowText(r, 14);
  o.created_at = fromEpochMs(rowInt64(r, 15));
  o.updated_at = fromEpochMs(rowInt64(r, 16));
  return o;
}

void insertOfferRegions(soci::session& sql, std::int64_t offer_id,
                        const std::vector<std::string>& regions) {
  long long id = offer_id;
  sql << "DELETE FROM offer_regions WHERE offer_id = :o", soci::use(id);
  for (const auto& code : regions) {
    sql << "INSERT INTO offer_regions (offer_id, region_code) VALUES (:o, :r)", soci::use(id),
        soci::use(code);
  }
}

constexpr const char* kVoucherColumns =
    "SELECT v.id, v.code, v.offer_id, v.merchant_id, m.name, v.user_id, v.title_zh, v.title_en, "
    "v.points, v.status, v.issued_at_ms, v.expires_at_ms, v.used_at_ms, v.ledger_account_id, "
    "v.ended_at_ms FROM vouchers v JOIN merchants m ON m.id = v.merchant_id ";

VoucherRow voucherFrom(const soci::row& r) {
  VoucherRow out;
  Voucher& v = out.voucher;
  v.id = rowInt64(r, 0);
  v.code = rowText(r, 1);
  v.offer_id = rowInt64(r, 2);
  v.merchant_id = rowInt64(r, 3);
  v.merchant_name = rowText(r, 4);
  v.user_id = rowInt64(r, 5);
  v.title_zh = rowText(r, 6);
  v.title_en = rowText(r, 7);
  v.points = Points(rowInt64(r, 8));
  v.status = rowText(r, 9);
  v.issued_at = fromEpochMs(rowInt64(r, 10));
  v.expires_at = fromEpochMs(rowInt64(r, 11));
  if (auto u = rowOptionalInt64(r, 12)) v.used_at = fromEpochMs(*u);
  out.ledger_account_id = rowInt64(r, 13);
  return out;
}

template <class Row, class Fn>
std::optional<Row> one(soci::session& sql, const std::string& query, long long id, Fn from) {
  soci::row r;
  sql << query, soci::use(id), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return from(r);
}

}  // namespace

// ------------------------------------------------------------------ merchants

std::optional<MerchantRow> loadMerchant(soci::session& sql, std::int64_t id) {
  return one<MerchantRow>(sql, std::string(kMerchantColumns) + "WHERE m.id = :id", id,
                          merchantFrom);
}

bool licenceTaken(soci::session& sql, const std::string& licence_no) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM merchants WHERE licence_no = :l AND status <> 'rejected'",
      soci::use(licence_no), soci::into(n);
  return n > 0;
}

bool regionExists(soci::session& sql, const std::string& code) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

std::int64_t insertMerchant(soci::session& sql, const MerchantApplication& a,
                            std::int64_t applicant_user_id, std::int64_t now_ms) {
  long long id = 0, user = applicant_user_id, now = now_ms;
  // A rejected application's licence may apply again: the old row gives way.
  sql << "DELETE FROM merchants WHERE licence_no = :l AND status = 'rejected'",
      soci::use(a.licence_no);
  sql << "INSERT INTO merchants (name, licence_no, category, region_code, address, contact, "
         "applicant_user_id, status, created_at_ms) VALUES (:n, :l, :c, :r, :a, :ct, :u, "
         "'pending', :t) RETURNING id",
      soci::use(a.name), soci::use(a.licence_no), soci::use(a.category), soci::use(a.region_code),
      soci::use(a.address), soci::use(a.contact), soci::use(user), soci::use(now), soci::into(id);
  return id;
}

bool decideMerchant(soci::session& sql, std::int64_t id, const std::string& status,
                    const std::string& reason, const std::string& actor,
                    std::optional<std::int64_t> ledger_account_id, std::int64_t now_ms) {
  long long mid = id, now = now_ms, ledger = ledger_account_id.value_or(0);
  soci::indicator ind = ledger_account_id ? soci::i_ok : soci::i_null;
  soci::statement st =
      (sql.prepare << "UPDATE merchants SET status = :s, decision_reason = :r, decided_by = :a, "
                      "ledger_account_id = :l, decided_at_ms = :t WHERE id = :id AND status = "
                      "'pending'",
       soci::use(status), soci::use(reason), soci::use(actor), soci::use(ledger, ind),
       soci::use(now), soci::use(mid));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

std::vector<MerchantRow> listMerchants(soci::session& sql, const std::string& status) {
  std::vector<MerchantRow> out;
  std::string where = status.empty() ? "" : "WHERE m.status = :s ";
  std::string query = std::string(kMerchantColumns) + where + "ORDER BY m.id";
  if (status.empty()) {
    soci::rowset<soci::row> rows = sql.prepare << query;
    for (const auto& r : rows) out.push_back(merchantFrom(r));
  } else {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(status));
    for (const auto& r : rows) out.push_back(merchantFrom(r));
  }
  return out;
}

// ------------------------------------------------------------------ offers

std::int64_t insertOffer(soci::session& sql, std::int64_t merchant_id, const OfferFields& f,
                         std::int64_t now_ms) {
  long long id = 0, merchant = merchant_id, cost = f.points_cost.value(), stock = f.stock,
            from = toEpochMs(f.valid_from), until = toEpochMs(f.valid_until), now = now_ms;
  int limit = f.per_user_limit, days = f.voucher_valid_days;
  sql << "INSERT INTO offers (merchant_id, title_zh, title_en, description, image_url, "
         "points_cost, stock, issued, per_user_limit, valid_from_ms, valid_until_ms, "
         "voucher_valid_days, status, created_at_ms, updated_at_ms) VALUES (:m, :tz, :te, :d, :i, "
         ":c, :s, 0, :l, :f, :u, :vd, 'active', :t, :t2) RETURNING id",
      soci::use(merchant), soci::use(f.title_zh), soci::use(f.title_en), soci::use(f.description),
      soci::use(f.image_url), soci::use(cost), soci::use(stock), soci::use(limit), soci::use(from),
      soci::use(until), soci::use(days), soci::use(now), soci::use(now), soci::into(id);
  insertOfferRegions(sql, id, f.regions);
  return id;
}

bool updateOffer(soci::session& sql, std::int64_t offer_id, const OfferFields& f,
                 std::int64_t now_ms) {
  long long id = offer_id, cost = f.points_cost.value(), stock = f.stock,
            from = toEpochMs(f.valid_from), until = toEpochMs(f.valid_until), now = now_ms;
  int limit = f.per_user_limit, days = f.voucher_valid_days;
  soci::statement st =
      (sql.prepare << "UPDATE offers SET title_zh = :tz, title_en = :te, description = :d, "
                      "image_url = :i, points_cost = :c, stock = :s, per_user_limit = :l, "
                      "valid_from_ms = :f, valid_until_ms = :u, voucher_valid_days = :vd, "
                      "updated_at_ms = :t WHERE id = :id AND issued <= :s2",
       soci::use(f.title_zh), soci::use(f.title_en), soci::use(f.description),
       soci::use(f.image_url), soci::use(cost), soci::use(stock), soci::use(limit), soci::use(from),
       soci::use(until), soci::use(days), soci::use(now), soci::use(id), soci::use(stock));
  st.execute(true);
  if (st.get_affected_rows() != 1) return false;
  insertOfferRegions(sql, offer_id, f.regions);
  return true;
}

void setOfferStatus(soci::session& sql, std::int64_t offer_id, const std::string& status,
                    std::int64_t now_ms) {
  long long id = offer_id, now = now_ms;
  sql << "UPDATE offers SET status = :s, updated_at_ms = :t WHERE id = :id", soci::use(status),
      soci::use(now), soci::use(id);
}

std::optional<Offer> loadOffer(soci::session& sql, std::int64_t offer_id) {
  auto offer =
      one<Offer>(sql, std::string(kOfferColumns) + "WHERE o.id = :id", offer_id, offerFrom);
  if (offer) offer->fields.regions = offerRegions(sql, offer->id);
  return offer;
}

std::vector<Offer> listOffers(soci::session& sql, const OfferQuery& q,
                              const std::vector<std::string>& covering_regions,
                              std::int64_t now_ms) {
  // Every value below is an integer or a validated six-digit region code, so it is written into
  // the statement rather than bound: the filters vary, and so would the binds.
  std::string where = "WHERE 1 = 1 ";
  if (q.merchant_id) where += "AND o.merchant_id = " + std::to_string(*q.merchant_id) + " ";
  if (q.active_only) {
    where += "AND o.status = 'active' AND o.valid_from_ms <= " + std::to_string(now_ms) +
             " AND o.valid_until_ms > " + std::to_string(now_ms) + " ";
  }
  if (!covering_regions.empty()) {
    where +=
        "AND EXISTS (SELECT 1 FROM offer_regions r WHERE r.offer_id = o.id AND "
        "r.region_code IN (";
    for (std::size_t i = 0; i < covering_regions.size(); ++i)
      where += (i ? ", '" : "'") + covering_regions[i] + "'";
    where += ")) ";
  }
  std::string query = std::string(kOfferColumns) + where + "ORDER BY o.id LIMIT " +
                      std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
  std::vector<Offer> out;
  soci::rowset<soci::row> rows = sql.prepare << query;
  for (const auto& r : rows) out.push_back(offerFrom(r));
  for (auto& o : out) o.fields.regions = offerRegions(sql, o.id);
  return out;
}

bool takeStock(soci::session& sql, std::int64_t offer_id) {
  long long id = offer_id;
  soci::statement st =
      (sql.prepare << "UPDATE offers SET issued = issued + 1 WHERE id = :id AND status = "
                      "'active' AND issued < stock",
       soci::use(id));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void returnStock(soci::session& sql, std::int64_t offer_id) {
  long long id = offer_id;
  sql << "UPDATE offers SET issued = issued - 1 WHERE id = :id AND issued > 0", soci::use(id);
}

// ------------------------------------------------------------------ vouchers

std::int64_t countUserVouchers(soci::session& sql, std::int64_t offer_id, std::int64_t user_id) {
  long long offer = offer_id, user = user_id, n = 0;
  sql << "SELECT COUNT(*) FROM vouchers WHERE offer_id = :o AND user_id = :u AND status <> "
         "'cancelled'",
      soci::use(offer), soci::use(user), soci::into(n);
  return n;
}

std::int64_t insertVoucher(soci::session& sql, const Voucher& v, std::int64_t ledger_account_id,
                           const std::string& request_key, std::int64_t redeem_entry_id) {
  long long id = 0, offer = v.offer_id, merchant = v.merchant_id, user = v.user_id,
            ledger = ledger_account_id, points = v.points.value(), issued = toEpochMs(v.issued_at),
            expires = toEpochMs(v.expires_at), entry = redeem_entry_id;
  sql << "INSERT INTO vouchers (code, offer_id, merchant_id, user_id, ledger_account_id, "
         "title_zh, title_en, points, status, issued_at_ms, expires_at_ms, request_key, "
         "redeem_entry_id) VALUES (:c, :o, :m, :u, :l, :tz, :te, :p, 'issued', :i, :e, :k, :j) "
         "RETURNING id",
      soci::use(v.code), soci::use(offer), soci::use(merchant), soci::use(user), soci::use(ledger),
      soci::use(v.title_zh), soci::use(v.title_en), soci::use(points), soci::use(issued),
      soci::use(expires), soci::use(request_key), soci::use(entry), soci::into(id);
  return id;
}

std::optional<VoucherRow> loadVoucher(soci::session& sql, std::int64_t id) {
  return one<VoucherRow>(sql, std::string(kVoucherColumns) + "WHERE v.id = :id", id, voucherFrom);
}

std::optional<VoucherRow> findVoucherByCode(soci::session& sql, const std::string& code) {
  soci::row r;
  sql << std::string(kVoucherColumns) + "WHERE v.code = :c", soci::use(code), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return voucherFrom(r);
}

std::optional<VoucherRow> findVoucherByRequest(soci::session& sql, std::int64_t user_id,
                                               const std::string& request_key) {
  soci::row r;
  long long user = user_id;
  sql << std::string(kVoucherColumns) + "WHERE v.user_id = :u AND v.request_key = :k",
      soci::use(user), soci::use(request_key), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return voucherFrom(r);
}

std::vector<Voucher> vouchersOfUser(soci::session& sql, std::int64_t user_id, int limit,
                                    int offset) {
  long long user = user_id, lim = limit, off = offset;
  std::vector<Voucher> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kVoucherColumns) +
                          "WHERE v.user_id = :u ORDER BY v.id DESC LIMIT :l OFFSET :o",
       soci::use(user), soci::use(lim), soci::use(off));
  for (const auto& r : rows) out.push_back(voucherFrom(r).voucher);
  return out;
}

bool markVoucherUsed(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long vid = id, now = now_ms;
  soci::statement st =
      (sql.prepare << "UPDATE vouchers SET status = 'used', used_at_ms = :t WHERE id = :id AND "
                      "status = 'issued' AND expires_at_ms > :t2",
       soci::use(now), soci::use(vid), soci::use(now));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

bool endVoucher(soci::session& sql, std::int64_t id, const std::string& status,
                std::int64_t refund_entry_id, std::int64_t now_ms) {
  long long vid = id, now = now_ms, entry = refund_entry_id;
  soci::statement st =
      (sql.prepare << "UPDATE vouchers SET status = :s, ended_at_ms = :t, refund_entry_id = :e "
                      "WHERE id = :id AND status = 'issued'",
       soci::use(status), soci::use(now), soci::use(entry), soci::use(vid));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

std::vector<std::int64_t> expiredVoucherIds(soci::session& sql, std::int64_t now_ms, int limit) {
  long long now = now_ms, lim = limit;
  std::vector<std::int64_t> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM vouchers WHERE status = 'issued' AND expires_at_ms <= :t "
                      "ORDER BY expires_at_ms, id LIMIT :l",
       soci::use(now), soci::use(lim));
  for (const auto& r : rows) out.push_back(rowInt64(r, 0));
  return out;
}

std::vector<Voucher> vouchersTouching(soci::session& sql, std::int64_t merchant_id,
                                      std::int64_t from_ms, std::int64_t to_ms,
                                      std::vector<std::optional<std::int64_t>>* ended_at_ms) {
  long long merchant = merchant_id, from = from_ms, to = to_ms;
  std::vector<Voucher> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kVoucherColumns) +
                          "WHERE v.merchant_id = :m AND ((v.issued_at_ms >= :f1 AND "
                          "v.issued_at_ms < :t1) OR (v.used_at_ms >= :f2 AND v.used_at_ms < :t2) "
                          "OR (v.ended_at_ms >= :f3 AND v.ended_at_ms < :t3)) ORDER BY v.id",
       soci::use(merchant), soci::use(from), soci::use(to), soci::use(from), soci::use(to),
       soci::use(from), soci::use(to));
  for (const auto& r : rows) {
    out.push_back(voucherFrom(r).voucher);
    ended_at_ms->push_back(rowOptionalInt64(r, 14));
  }
  return out;
}

// ------------------------------------------------------------------ benefits

namespace {

constexpr const char* kPolicyColumns =
    "SELECT p.id, p.region_code, p.kind, p.name_zh, p.name_en, p.description, p.points_price, "
    "p.monthly_budget_units, p.per_user_monthly_limit, p.fulfilment, p.webhook_url, p.status, "
    "p.created_at_ms, p.webhook_secret, COALESCE(u.units, 0) FROM "
    "benefit_policies p LEFT JOIN benefit_budget_usage u ON u.policy_id = p.id AND u.month = :m ";

PolicyRow policyFrom(const soci::row& r) {
  PolicyRow out;
  BenefitPolicy& p = out.policy;
  p.id = rowInt64(r, 0);
  BenefitPolicyFields& f = p.fields;
  f.region_code = rowText(r, 1);
  f.kind = rowText(r, 2);
  f.name_zh = rowText(r, 3);
  f.name_en = rowText(r, 4);
  f.description = rowText(r, 5);
  f.points_price = Points(rowInt64(r, 6));
  f.monthly_budget_units = rowInt64(r, 7);
  f.per_user_monthly_limit = static_cast<int>(rowInt64(r, 8));
  f.fulfilment = rowText(r, 9);
  f.webhook_url = rowText(r, 10);
  p.status = rowText(r, 11);
  p.created_at = fromEpochMs(rowInt64(r, 12));
  out.webhook_secret = rowText(r, 13);
  p.units_used_this_month = rowInt64(r, 14);
  return out;
}

constexpr const char* kClaimColumns =
    "SELECT id, policy_id, user_id, month, units, points, status, entitlement_code, "
    "partner_reference, failure_reason, created_at_ms, ledger_account_id FROM benefit_claims ";

ClaimRow claimFrom(const soci::row& r) {
  ClaimRow out;
  BenefitClaim& c = out.claim;
  c.id = rowInt64(r, 0);
  c.policy_id = rowInt64(r, 1);
  c.user_id = rowInt64(r, 2);
  c.month = rowText(r, 3);
  c.units = rowInt64(r, 4);
  c.points = Points(rowInt64(r, 5));
  c.status = rowText(r, 6);
  c.entitlement_code = rowText(r, 7);
  c.partner_reference = rowText(r, 8);
  c.failure_reason = rowText(r, 9);
  c.created_at = fromEpochMs(rowInt64(r, 10));
  out.ledger_account_id = rowInt64(r, 11);
  return out;
}

}  // namespace

std::int64_t insertPolicy(soci::session& sql, const BenefitPolicyFields& f,
                          const std::string& secret, const std::string& actor,
                          std::int64_t now_ms) {
  long long id = 0, price = f.points_price.value(), budget = f.monthly_budget_units, now = now_ms;
  int limit = f.per_user_monthly_limit;
  sql << "INSERT INTO benefit_policies (region_code, kind, name_zh, name_en, description, "
         "points_price, monthly_budget_units, per_user_monthly_limit, fulfilment, webhook_url, "
         "webhook_secret, status, created_by, created_at_ms) VALUES (:r, :k, :nz, :ne, :d, :p, "
         ":b, :l, :f, :u, :s, 'active', :a, :t) RETURNING id",
      soci::use(f.region_code), soci::use(f.kind), soci::use(f.name_zh), soci::use(f.name_en),
      soci::use(f.description), soci::use(price), soci::use(budget), soci::use(limit),
      soci::use(f.fulfilment), soci::use(f.webhook_url), soci::use(secret), soci::use(actor),
      soci::use(now), soci::into(id);
  return id;
}

std::optional<PolicyRow> loadPolicy(soci::session& sql, std::int64_t id, const std::string& month) {
  soci::row r;
  long long pid = id;
  sql << std::string(kPolicyColumns) + "WHERE p.id = :id", soci::use(month), soci::use(pid),
      soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return policyFrom(r);
}

std::vector<BenefitPolicy> listPolicies(soci::session& sql,
                                        const std::vector<std::string>& covering_regions,
                                        const std::string& month) {
  // Region codes are validated six-digit codes, written into the statement.
  std::string where = "WHERE p.status = 'active' ";
  if (!covering_regions.empty()) {
    where += "AND p.region_code IN (";
    for (std::size_t i = 0; i < covering_regions.size(); ++i)
      where += (i ? ", '" : "'") + covering_regions[i] + "'";
    where += ") ";
  }
  std::vector<BenefitPolicy> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kPolicyColumns) + where + "ORDER BY p.id", soci::use(month));
  for (const auto& r : rows) out.push_back(policyFrom(r).policy);
  return out;
}

void endPolicy(soci::session& sql, std::int64_t id) {
  long long pid = id;
  sql << "UPDATE benefit_policies SET status = 'ended' WHERE id = :id", soci::use(pid);
}

bool takeBudget(soci::session& sql, std::int64_t policy_id, const std::string& month,
                std::int64_t units, std::int64_t budget) {
  long long pid = policy_id, n = units, cap = budget;
  sql << "INSERT INTO benefit_budget_usage (policy_id, month, units) VALUES (:p, :m, 0) "
         "ON CONFLICT (policy_id, month) DO NOTHING",
      soci::use(pid), soci::use(month);
  soci::statement st =
      (sql.prepare << "UPDATE benefit_budget_usage SET units = units + :n WHERE policy_id = :p "
                      "AND month = :m AND units + :n2 <= :cap",
       soci::use(n), soci::use(pid), soci::use(month), soci::use(n), soci::use(cap));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void returnBudget(soci::session& sql, std::int64_t policy_id, const std::string& month,
                  std::int64_t units) {
  long long pid = policy_id, n = units;
  sql << "UPDATE benefit_budget_usage SET units = units - :n WHERE policy_id = :p AND month = :m",
      soci::use(n), soci::use(pid), soci::use(month);
}

std::int64_t userUnits(soci::session& sql, std::int64_t policy_id, std::int64_t user_id,
                       const std::string& month) {
  long long pid = policy_id, uid = user_id, n = 0;
  sql << "SELECT COALESCE(SUM(units), 0) FROM benefit_claims WHERE policy_id = :p AND user_id = "
         ":u AND month = :m AND status <> 'failed'",
      soci::use(pid), soci::use(uid), soci::use(month), soci::into(n);
  return n;
}

std::int64_t insertClaim(soci::session& sql, const BenefitClaim& c, std::int64_t ledger_account_id,
                         const std::string& request_key) {
  long long id = 0, pid = c.policy_id, uid = c.user_id, units = c.units, points = c.points.value(),
            ledger = ledger_account_id, now = toEpochMs(c.created_at);
  soci::indicator decided = c.status == "pending" ? soci::i_null : soci::i_ok;
  sql << "INSERT INTO benefit_claims (policy_id, user_id, ledger_account_id, month, units, "
         "points, status, request_key, entitlement_code, created_at_ms, decided_at_ms) VALUES "
         "(:p, :u, :l, :m, :n, :pt, :s, :k, :c, :t, :d) RETURNING id",
      soci::use(pid), soci::use(uid), soci::use(ledger), soci::use(c.month), soci::use(units),
      soci::use(points), soci::use(c.status), soci::use(request_key), soci::use(c.entitlement_code),
      soci::use(now), soci::use(now, decided), soci::into(id);
  return id;
}

std::optional<ClaimRow> loadClaim(soci::session& sql, std::int64_t id) {
  return one<ClaimRow>(sql, std::string(kClaimColumns) + "WHERE id = :id", id, claimFrom);
}

std::optional<ClaimRow> findClaimByRequest(soci::session& sql, std::int64_t user_id,
                                           const std::string& request_key) {
  soci::row r;
  long long uid = user_id;
  sql << std::string(kClaimColumns) + "WHERE user_id = :u AND request_key = :k", soci::use(uid),
      soci::use(request_key), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return claimFrom(r);
}

std::vector<BenefitClaim> claimsOfUser(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  std::vector<BenefitClaim> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kClaimColumns) + "WHERE user_id = :u ORDER BY id DESC LIMIT 500",
       soci::use(uid));
  for (const auto& r : rows) out.push_back(claimFrom(r).claim);
  return out;
}

bool finishClaim(soci::session& sql, std::int64_t id, const std::string& status,
                 const std::string& partner_reference, const std::string& failure_reason,
                 std::int64_t now_ms) {
  long long cid = id, now = now_ms;
  soci::statement st =
      (sql.prepare << "UPDATE benefit_claims SET status = :s, partner_reference = :r, "
                      "failure_reason = :f, decided_at_ms = :t WHERE id = :id AND status = "
                      "'pending'",
       soci::use(status), soci::use(partner_reference), soci::use(failure_reason), soci::use(now),
       soci::use(cid));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace tph::incentive::detail
