#include "incentive/merchant_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "incentive/incentive_common.h"
#include "incentive/incentive_store.h"
#include "store/data_key.h"
#include "store/database.h"

namespace tph::incentive {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr std::size_t kVoucherCodeBytes = 16;  // 128 bits: unguessable, 32 hex characters

Status checkApplication(const MerchantApplication& a) {
  TPH_TRY(detail::checkText("name", a.name, kTextMaxBytes, true));
  TPH_TRY(detail::checkText("category", a.category, kTextMaxBytes, true));
  TPH_TRY(detail::checkText("address", a.address, kTextMaxBytes, true));
  TPH_TRY(detail::checkText("contact", a.contact, kTextMaxBytes, true));
  // 统一社会信用代码: 18 characters of digits and capital letters.
  if (a.licence_no.size() != 18 ||
      !std::all_of(a.licence_no.begin(), a.licence_no.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); })) {
    return Error::invalid("licence_no", "licence_no is an 18-character unified social credit code");
  }
  if (!isRegionCode(a.region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  return {};
}

Status checkOffer(const OfferFields& f) {
  TPH_TRY(detail::checkText("title_zh", f.title_zh, kTextMaxBytes, true));
  TPH_TRY(detail::checkText("title_en", f.title_en, kTextMaxBytes, true));
  TPH_TRY(detail::checkText("description", f.description, kDescriptionMaxBytes, false));
  TPH_TRY(detail::checkText("image_url", f.image_url, kDescriptionMaxBytes, false));
  if (!f.image_url.empty() && f.image_url.rfind("https://", 0) != 0 &&
      f.image_url.rfind("/", 0) != 0) {
    return Error::invalid("image_url", "image_url is an https:// URL or a path on this site");
  }
  if (f.points_cost.value() < 1 || f.points_cost.value() > kOfferMaxPoints)
    return Error::invalid("points_cost",
                          "points_cost must be 1-" + std::to_string(kOfferMaxPoints));
  if (f.stock < 0 || f.stock > kOfferMaxStock)
    return Error::invalid("stock", "stock must be 0-" + std::to_string(kOfferMaxStock));
  if (f.per_user_limit < 1 || f.per_user_limit > kOfferMaxPerUserLimit)
    return Error::invalid("per_user_limit",
                          "per_user_limit must be 1-" + std::to_string(kOfferMaxPerUserLimit));
  if (f.valid_until <= f.valid_from)
    return Error::invalid("valid_until", "valid_until must be after valid_from");
  if (f.voucher_valid_days < 1 || f.voucher_valid_days > kVoucherMaxValidDays)
    return Error::invalid("voucher_valid_days",
                          "voucher_valid_days must be 1-" + std::to_string(kVoucherMaxValidDays));
  if (f.regions.empty() || f.regions.size() > kOfferMaxRegions)
    return Error::invalid("regions", "an offer names 1-50 regions");
  for (const auto& r : f.regions)
    if (!isRegionCode(r)) return Error::invalid("regions", r + " is not a GB/T 2260 code");
  return {};
}

//! The approved merchant the caller runs.
Result<detail::MerchantRow> ownMerchant(soci::session& sql, const Principal& caller,
                                        std::int64_t merchant_id) {
  auto m = detail::loadMerchant(sql, merchant_id);
  if (!m) return Error::notFound("no such merchant", "merchant_id");
  if (m->merchant.applicant_user_id != caller.user_id ||
      !caller.actsInRegion(Role::kMerchant, m->merchant.application.region_code))
    return Error::forbidden("only the merchant's own user acts for it");
  if (m->merchant.status != "approved")
    return Error::conflict("the merchant is not approved", "merchant_id");
  return *m;
}

bool canSeeMerchant(const Principal& caller, const Merchant& m) {
  return m.applicant_user_id == caller.user_id ||
         caller.administersRegion(m.application.region_code);
}

Status checkOfferRegions(soci::session& sql, const OfferFields& f, const Merchant& m) {
  for (const auto& r : f.regions) {
    if (!detail::regionExists(sql, r)) return Error::invalid("regions", "unknown region " + r);
    // A merchant offers within its own city (or the city's districts), not across the province.
    if (!regionCovers(m.application.region_code.substr(0, 4) + "00", r))
      return Error::invalid("regions", r + " is outside the merchant's city");
  }
  return {};
}

std::string normaliseCode(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

json offerAudit(const OfferFields& f) {
  return {{"title_zh", f.title_zh},
          {"points_cost", f.points_cost.value()},
          {"stock", f.stock},
          {"per_user_limit", f.per_user_limit},
          {"valid_from", formatIso8601(f.valid_from)},
          {"valid_until", formatIso8601(f.valid_until)},
          {"regions", f.regions}};
}

constexpr const char* kMerchantContact = "merchants.contact";

}  // namespace

Merchant MerchantService::opened(Merchant m) const {
  m.application.contact = store::dataCipher().reveal(m.application.contact, kMerchantContact);
  return m;
}

Result<Merchant> MerchantService::apply(const Principal& caller,
                                        const MerchantApplication& application) {
  TPH_TRY(checkApplication(application));
  return db_.transaction([&](soci::session& sql) -> Result<Merchant> {
    if (!detail::regionExists(sql, application.region_code))
      return Error::invalid("region", "unknown region " + application.region_code);
    if (detail::licenceTaken(sql, application.licence_no))
      return Error::conflict("a merchant with this licence has applied or joined", "licence_no");
    MerchantApplication sealed = application;
    sealed.contact = store::dataCipher().seal(application.contact, kMerchantContact);
    auto id = detail::insertMerchant(sql, sealed, caller.user_id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "merchant.apply",
                             "merchant:" + std::to_string(id),
                             {{"name", application.name},
                              {"licence_no", application.licence_no},
                              {"region", application.region_code}}});
    return opened(detail::loadMerchant(sql, id)->merchant);
  });
}

Result<Merchant> MerchantService::decide(const Principal& caller, std::int64_t merchant_id,
                                         bool approve, const std::string& reason) {
  TPH_TRY(detail::checkText("reason", reason, kDescriptionMaxBytes, !approve));
  return db_.transaction([&](soci::session& sql) -> Result<Merchant> {
    auto m = detail::loadMerchant(sql, merchant_id);
    if (!m) return Error::notFound("no such merchant", "merchant_id");
    const std::string& region = m->merchant.application.region_code;
    if (!caller.administersRegion(region))
      return Error::forbidden("only an admin of region " + region + " decides this application");
    if (m->merchant.status != "pending")
      return Error::conflict("the application was already " + m->merchant.status, "merchant_id");
    std::optional<std::int64_t> ledger;
    if (approve) {
      ledger = account::openLedgerAccount(sql, "merchant:" + std::to_string(merchant_id),
                                          "merchant", false, clock_);
      auth::grantRoleInTransaction(sql, clock_, caller.auditActor(), m->merchant.applicant_user_id,
                                   {Role::kMerchant, region});
    }
    if (!detail::decideMerchant(sql, merchant_id, approve ? "approved" : "rejected", reason,
                                caller.auditActor(), ledger, toEpochMs(clock_.now())))
      return Error::conflict("the application was decided meanwhile", "merchant_id");
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             approve ? "merchant.approve" : "merchant.reject",
                             "merchant:" + std::to_string(merchant_id),
                             {{"reason", reason}}});
    return opened(detail::loadMerchant(sql, merchant_id)->merchant);
  });
}

Result<std::vector<Merchant>> MerchantService::merchants(const Principal& caller,
                                                         const std::string& status) {
  if (!status.empty() && status != "pending" && status != "approved" && status != "rejected")
    return Error::invalid("status", "status is pending, approved or rejected");
  return db_.read([&](soci::session& sql) -> Result<std::vector<Merchant>> {
    std::vector<Merchant> out;
    for (auto& row : detail::listMerchants(sql, status))
      if (canSeeMerchant(caller, row.merchant)) out.push_back(opened(std::move(row.merchant)));
    return out;
  });
}

Result<Merchant> MerchantService::merchant(const Principal& caller, std::int64_t merchant_id) {
  return db_.read([&](soci::session& sql) -> Result<Merchant> {
    auto m = detail::loadMerchant(sql, merchant_id);
    if (!m || !canSeeMerchant(caller, m->merchant))
      return Error::notFound("no such merchant", "merchant_id");
    return opened(m->merchant);
  });
}

Result<Offer> MerchantService::createOffer(const Principal& caller, std::int64_t merchant_id,
                                           const OfferFields& fields) {
  TPH_TRY(checkOffer(fields));
  return db_.transaction([&](soci::session& sql) -> Result<Offer> {
    auto m = ownMerchant(sql, caller, merchant_id);
    if (!m) return m.error();
    TPH_TRY(checkOfferRegions(sql, fields, m->merchant));
    auto id = detail::insertOffer(sql, merchant_id, fields, toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "offer.create", "offer:" + std::to_string(id), offerAudit(fields)});
    return *detail::loadOffer(sql, id);
  });
}

Result<Offer> MerchantService::updateOffer(const Principal& caller, std::int64_t offer_id,
                                           const OfferFields& fields) {
  TPH_TRY(checkOffer(fields));
  return db_.transaction([&](soci::session& sql) -> Result<Offer> {
    auto offer = detail::loadOffer(sql, offer_id);
    if (!offer) return Error::notFound("no such offer", "offer_id");
    auto m = ownMerchant(sql, caller, offer->merchant_id);
    if (!m) return m.error();
    if (offer->status == "ended") return Error::conflict("the offer has ended", "offer_id");
    TPH_TRY(checkOfferRegions(sql, fields, m->merchant));
    if (!detail::updateOffer(sql, offer_id, fields, toEpochMs(clock_.now())))
      return Error::invalid("stock", "stock cannot fall below the " +
                                         std::to_string(offer->issued) + " vouchers issued");
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "offer.update",
                             "offer:" + std::to_string(offer_id), offerAudit(fields)});
    return *detail::loadOffer(sql, offer_id);
  });
}

Result<Offer> MerchantService::changeOfferStatus(const Principal& caller, std::int64_t offer_id,
                                                 const std::string& action) {
  std::string to;
  if (action == "pause")
    to = "paused";
  else if (action == "resume")
    to = "active";
  else if (action == "end")
    to = "ended";
  else
    return Error::invalid("action", "action is pause, resume or end");
  return db_.transaction([&](soci::session& sql) -> Result<Offer> {
    auto offer = detail::loadOffer(sql, offer_id);
    if (!offer) return Error::notFound("no such offer", "offer_id");
    auto merchant = detail::loadMerchant(sql, offer->merchant_id);
    bool admin = caller.administersRegion(merchant->merchant.application.region_code);
    // Region admins may pause or end an offer (moderation); only the merchant resumes one.
    if (!admin || action == "resume") {
      auto m = ownMerchant(sql, caller, offer->merchant_id);
      if (!m) return m.error();
    }
    if (offer->status == "ended") return Error::conflict("the offer has ended", "offer_id");
    if (offer->status == to) return Error::conflict("the offer is already " + to, "action");
    detail::setOfferStatus(sql, offer_id, to, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "offer." + action,
                             "offer:" + std::to_string(offer_id), json::object()});
    return *detail::loadOffer(sql, offer_id);
  });
}

Result<std::vector<Offer>> MerchantService::offers(const OfferQuery& query) {
  TPH_TRY(detail::checkLimit(query.limit, query.offset));
  if (!query.region_code.empty() && !isRegionCode(query.region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  return db_.read([&](soci::session& sql) -> Result<std::vector<Offer>> {
    return detail::listOffers(sql, query, regionAndAncestors(query.region_code),
                              toEpochMs(clock_.now()));
  });
}

Result<Offer> MerchantService::offer(std::int64_t offer_id) {
  return db_.read([&](soci::session& sql) -> Result<Offer> {
    auto offer = detail::loadOffer(sql, offer_id);
    if (!offer) return Error::notFound("no such offer", "offer_id");
    return *offer;
  });
}

Result<Voucher> MerchantService::redeemOffer(const Principal& caller, std::int64_t offer_id,
                                             const std::string& idempotency_key) {
  TPH_TRY(detail::checkRequestKey(idempotency_key));
  if (!caller.hasRole(Role::kResident)) return Error::forbidden("residents redeem offers");
  auto resident = accounts_.personAccount(caller);
  if (!resident) return resident.error();
  auto attempt = [&](soci::session& sql) -> Result<Voucher> {
    if (auto done = detail::findVoucherByRequest(sql, caller.user_id, idempotency_key)) {
      if (done->voucher.offer_id != offer_id)
        return Error::conflict("this idempotency key bought another offer", "idempotency_key");
      return done->voucher;
    }
    auto offer = detail::loadOffer(sql, offer_id);
    if (!offer) return Error::notFound("no such offer", "offer_id");
    auto merchant = detail::loadMerchant(sql, offer->merchant_id);
    if (merchant->merchant.status != "approved" || !merchant->ledger_account_id)
      return Error::conflict("the merchant is not in the alliance", "offer_id");
    Instant now = clock_.now();
    if (offer->status != "active")
      return Error::conflict("the offer is " + offer->status, "offer_id");
    if (now < offer->fields.valid_from || now >= offer->fields.valid_until)
      return Error::conflict("the offer is valid from " + formatIso8601(offer->fields.valid_from) +
                                 " until " + formatIso8601(offer->fields.valid_until),
                             "valid_until");
    const auto& regions = offer->fields.regions;
    if (std::none_of(regions.begin(), regions.end(), [&](const std::string& r) {
          return regionCovers(r, resident->region_code);
        })) {
      return Error::forbidden("the offer is not offered in your region " + resident->region_code,
                              "region");
    }
    if (!detail::takeStock(sql, offer_id)) return Error::conflict("out of stock", "stock");
    auto held = detail::countUserVouchers(sql, offer_id, caller.user_id);
    if (held >= offer->fields.per_user_limit) {
      return Error::conflict("you have reached this offer's limit of " +
                                 std::to_string(offer->fields.per_user_limit) + " per person",
                             "per_user_limit");
    }
    Points cost = offer->fields.points_cost;
    auto posted = account::postEntry(
        sql,
        detail::transferEntry("voucher:" + std::to_string(caller.user_id) + ":" + idempotency_key,
                              "redeem", "offer " + std::to_string(offer_id),
                              resident->ledger_account, *merchant->ledger_account_id, cost),
        clock_);
    if (!posted) return posted.error();
    Voucher v;
    v.code = randomHex(kVoucherCodeBytes);
    v.offer_id = offer_id;
    v.merchant_id = offer->merchant_id;
    v.merchant_name = offer->merchant_name;
    v.user_id = caller.user_id;
    v.title_zh = offer->fields.title_zh;
    v.title_en = offer->fields.title_en;
    v.points = cost;
    v.status = "issued";
    v.issued_at = now;
    // A voucher never outlives the offer's window by more than its validity.
    v.expires_at = now + std::chrono::days(offer->fields.voucher_valid_days);
    v.id =
        detail::insertVoucher(sql, v, resident->ledger_account, idempotency_key, posted->entry_id);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "voucher.issue",
                             "voucher:" + std::to_string(v.id),
                             {{"offer", offer_id},
                              {"merchant", offer->merchant_id},
                              {"points", cost.value()},
                              {"entry", posted->entry_id}}});
    return v;
  };
  try {
    return db_.transaction(attempt);
  } catch (const std::exception& e) {
    // The same key sent twice at once: the loser collides on the unique key and, once the winner
    // has committed, answers the winner's voucher.
    if (!store::isUniqueViolation(e)) throw;
    return db_.transaction(attempt);
  }
}

Result<std::vector<Voucher>> MerchantService::myVouchers(const Principal& caller, int limit,
                                                         int offset) {
  TPH_TRY(detail::checkLimit(limit, offset));
  return db_.read([&](soci::session& sql) -> Result<std::vector<Voucher>> {
    return detail::vouchersOfUser(sql, caller.user_id, limit, offset);
  });
}

Result<Voucher> MerchantService::voucher(const Principal& caller, std::int64_t voucher_id) {
  return db_.read([&](soci::session& sql) -> Result<Voucher> {
    auto v = detail::loadVoucher(sql, voucher_id);
    if (!v) return Error::notFound("no such voucher", "voucher_id");
    if (v->voucher.user_id != caller.user_id) {
      auto m = detail::loadMerchant(sql, v->voucher.merchant_id);
      if (m->merchant.applicant_user_id != caller.user_id)
        return Error::notFound("no such voucher", "voucher_id");
    }
    return v->voucher;
  });
}

Result<Voucher> MerchantService::useVoucher(const Principal& caller, std::int64_t merchant_id,
                                            const std::string& code) {
  std::string normalised = normaliseCode(code);
  if (normalised.size() != 2 * kVoucherCodeBytes || !fromHex(normalised))
    return Error::invalid("code", "a voucher code is 32 hexadecimal characters");
  return db_.transaction([&](soci::session& sql) -> Result<Voucher> {
    auto m = ownMerchant(sql, caller, merchant_id);
    if (!m) return m.error();
    auto v = detail::findVoucherByCode(sql, normalised);
    if (!v) return Error::notFound("no voucher has this code", "code");
    if (v->voucher.merchant_id != merchant_id)
      return Error::forbidden(
          "the voucher is another merchant's (" + v->voucher.merchant_name + ")", "code");
    Instant now = clock_.now();
    if (v->voucher.status == "used")
      return Error::conflict(
          "the voucher was already used at " + formatIso8601(*v->voucher.used_at), "code");
    if (v->voucher.status == "cancelled")
      return Error::conflict("the voucher was cancelled", "code");
    if (v->voucher.status == "expired" || now >= v->voucher.expires_at)
      return Error::conflict("the voucher expired at " + formatIso8601(v->voucher.expires_at),
                             "code");
    if (!detail::markVoucherUsed(sql, v->voucher.id, toEpochMs(now)))
      return Error::conflict("the voucher was used meanwhile", "code");
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "voucher.use",
                             "voucher:" + std::to_string(v->voucher.id),
                             {{"merchant", merchant_id}}});
    return detail::loadVoucher(sql, v->voucher.id)->voucher;
  });
}

Result<Voucher> detail::refundVoucher(soci::session& sql, const Clock& clock,
                                      const detail::VoucherRow& v, const std::string& status,
                                      const std::string& actor) {
  auto merchant = detail::loadMerchant(sql, v.voucher.merchant_id);
  auto posted = account::postEntry(
      sql,
      detail::transferEntry("voucher-" + status + ":" + std::to_string(v.voucher.id),
                            status == "expired" ? "expire_refund" : "cancel_refund",
                            "voucher " + std::to_string(v.voucher.id), *merchant->ledger_account_id,
                            v.ledger_account_id, v.voucher.points),
      clock);
  if (!posted) return posted.error();
  if (!detail::endVoucher(sql, v.voucher.id, status, posted->entry_id, toEpochMs(clock.now())))
    return Error::conflict("the voucher changed meanwhile", "voucher_id");
  if (status == "cancelled") detail::returnStock(sql, v.voucher.offer_id);
  audit::appendAuditEvent(
      sql, clock,
      {actor,
       "voucher." + std::string(status == "expired" ? "expire" : "cancel"),
       "voucher:" + std::to_string(v.voucher.id),
       {{"points_returned", v.voucher.points.value()}, {"entry", posted->entry_id}}});
  return detail::loadVoucher(sql, v.voucher.id)->voucher;
}

Result<Voucher> MerchantService::cancelVoucher(const Principal& caller, std::int64_t voucher_id) {
  return db_.transaction([&](soci::session& sql) -> Result<Voucher> {
    auto v = detail::loadVoucher(sql, voucher_id);
    if (!v || v->voucher.user_id != caller.user_id)
      return Error::notFound("no such voucher", "voucher_id");
    if (v->voucher.status != "issued" || clock_.now() >= v->voucher.expires_at)
      return Error::conflict("only an unused, unexpired voucher can be cancelled", "voucher_id");
    return detail::refundVoucher(sql, clock_, *v, "cancelled", caller.auditActor());
  });
}

Result<ExpiryReport> MerchantService::expireVouchers(const std::string& actor) {
  ExpiryReport report;
  for (;;) {
    auto ids = db_.read([&](soci::session& sql) {
      return detail::expiredVoucherIds(sql, toEpochMs(clock_.now()), kExpireBatchSize);
    });
    std::int64_t done_before = report.expired;
    // One transaction per voucher: a refund locks one merchant and one resident, never many.
    for (auto id : ids) {
      auto ended = db_.transaction([&](soci::session& sql) -> Result<Voucher> {
        auto v = detail::loadVoucher(sql, id);
        if (!v || v->voucher.status != "issued")
          return Error::conflict("already ended", "voucher_id");
        return detail::refundVoucher(sql, clock_, *v, "expired", actor);
      });
      if (ended) {
        ++report.expired;
        report.points_returned += ended->points;
      }
    }
    if (ids.size() < static_cast<std::size_t>(kExpireBatchSize) || report.expired == done_before)
      break;
  }
  return report;
}

Result<SettlementStatement> MerchantService::settlement(const Principal& caller,
                                                        std::int64_t merchant_id,
                                                        const std::string& month) {
  auto range = detail::shanghaiMonthRange(month);
  if (!range) return range.error();
  return db_.read([&](soci::session& sql) -> Result<SettlementStatement> {
    auto m = detail::loadMerchant(sql, merchant_id);
    if (!m || !canSeeMerchant(caller, m->merchant))
      return Error::notFound("no such merchant", "merchant_id");
    SettlementStatement s;
    s.merchant = opened(m->merchant);
    s.month = month;
    s.generated_at = clock_.now();
    std::int64_t from = toEpochMs(range->first), to = toEpochMs(range->second);
    std::vector<std::optional<std::int64_t>> ended;
    auto vouchers = detail::vouchersTouching(sql, merchant_id, from, to, &ended);
    std::map<std::int64_t, SettlementLine> lines;
    auto in = [&](std::int64_t t) { return t >= from && t < to; };
    for (std::size_t i = 0; i < vouchers.size(); ++i) {
      const Voucher& v = vouchers[i];
      SettlementLine& line = lines[v.offer_id];
      line.offer_id = v.offer_id;
      if (line.title_zh.empty()) line.title_zh = v.title_zh;
      if (in(toEpochMs(v.issued_at))) {
        ++line.issued;
        line.points_received += v.points;
      }
      if (v.used_at && in(toEpochMs(*v.used_at))) ++line.used;
      if (ended[i] && in(*ended[i])) {
        if (v.status == "expired") ++line.expired;
        if (v.status == "cancelled") ++line.cancelled;
        line.points_refunded += v.points;
      }
    }
    s.total.title_zh = "合计 Total";
    for (auto& [id, line] : lines) {
      s.total.issued += line.issued;
      s.total.used += line.used;
      s.total.expired += line.expired;
      s.total.cancelled += line.cancelled;
      s.total.points_received += line.points_received;
      s.total.points_refunded += line.points_refunded;
      s.lines.push_back(line);
    }
    return s;
  });
}

}  // namespace tph::incentive
