#include "incentive/benefit_service.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "incentive/incentive_common.h"
#include "incentive/incentive_store.h"
#include "store/database.h"

namespace tph::incentive {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr const char* kKinds[] = {"parking", "transit", "plate_lottery", "other"};
constexpr std::size_t kPartnerReferenceMaxBytes = 200;

Status checkPolicy(const BenefitPolicyFields& f) {
  if (!isRegionCode(f.region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  if (std::none_of(std::begin(kKinds), std::end(kKinds),
                   [&](const char* k) { return f.kind == k; }))
    return Error::invalid("kind", "kind is parking, transit, plate_lottery or other");
  TPH_TRY(detail::checkText("name_zh", f.name_zh, kTextMaxBytes, true));
  TPH_TRY(detail::checkText("name_en", f.name_en, kTextMaxBytes, true));
  TPH_TRY(detail::checkText("description", f.description, kDescriptionMaxBytes, false));
  if (f.points_price.value() < 1 || f.points_price.value() > kOfferMaxPoints)
    return Error::invalid("points_price", "points_price must be 1-100000000");
  if (f.monthly_budget_units < 1 || f.monthly_budget_units > kBenefitMaxBudget)
    return Error::invalid("monthly_budget_units", "monthly_budget_units must be 1-100000000");
  if (f.per_user_monthly_limit < 1 || f.per_user_monthly_limit > 1000)
    return Error::invalid("per_user_monthly_limit", "per_user_monthly_limit must be 1-1000");
  if (f.fulfilment == "code") {
    if (!f.webhook_url.empty())
      return Error::invalid("webhook_url", "code fulfilment takes no webhook_url");
  } else if (f.fulfilment == "webhook") {
    if (f.webhook_url.rfind("http://", 0) != 0 || f.webhook_url.size() > kTextMaxBytes)
      return Error::invalid("webhook_url", "webhook_url is an http://host:port/path URL");
  } else {
    return Error::invalid("fulfilment", "fulfilment is code or webhook");
  }
  return {};
}

std::string keptCode(std::int64_t policy_id) {
  return "benefit:" + std::to_string(policy_id);
}

std::string holdCode(std::int64_t policy_id) {
  return "benefit-hold:" + std::to_string(policy_id);
}

}  // namespace

std::string webhookSignature(const std::string& secret, const std::string& timestamp,
                             const std::string& body) {
  return hmacSha256Hex(secret, timestamp + "\n" + body);
}

Result<CreatedPolicy> BenefitService::createPolicy(const Principal& caller,
                                                   const BenefitPolicyFields& fields) {
  TPH_TRY(checkPolicy(fields));
  if (!caller.administersRegion(fields.region_code))
    return Error::forbidden("only an admin of region " + fields.region_code +
                            " defines its benefits");
  return db_.transaction([&](soci::session& sql) -> Result<CreatedPolicy> {
    if (!detail::regionExists(sql, fields.region_code))
      return Error::invalid("region", "unknown region " + fields.region_code);
    std::string secret = fields.fulfilment == "webhook" ? randomHex(32) : "";
    auto id =
        detail::insertPolicy(sql, fields, secret, caller.auditActor(), toEpochMs(clock_.now()));
    // Kept points end in the policy's account; points awaiting the partner wait in its hold.
    account::openLedgerAccount(sql, keptCode(id), "benefit", false, clock_);
    account::openLedgerAccount(sql, holdCode(id), "benefit_hold", false, clock_);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "benefit.policy_create",
                             "benefit_policy:" + std::to_string(id),
                             {{"region", fields.region_code},
                              {"kind", fields.kind},
                              {"points_price", fields.points_price.value()},
                              {"monthly_budget_units", fields.monthly_budget_units},
                              {"fulfilment", fields.fulfilment},
                              {"webhook_url", fields.webhook_url}}});
    auto row = detail::loadPolicy(sql, id, detail::shanghaiMonth(clock_.now()));
    return CreatedPolicy{row->policy, secret};
  });
}

Result<BenefitPolicy> BenefitService::endPolicy(const Principal& caller, std::int64_t policy_id) {
  return db_.transaction([&](soci::session& sql) -> Result<BenefitPolicy> {
    auto row = detail::loadPolicy(sql, policy_id, detail::shanghaiMonth(clock_.now()));
    if (!row) return Error::notFound("no such benefit policy", "policy_id");
    if (!caller.administersRegion(row->policy.fields.region_code))
      return Error::forbidden("only an admin of the policy's region ends it");
    if (row->policy.status == "ended") return Error::conflict("the policy has ended", "policy_id");
    detail::endPolicy(sql, policy_id);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "benefit.policy_end",
                             "benefit_policy:" + std::to_string(policy_id), json::object()});
    return detail::loadPolicy(sql, policy_id, detail::shanghaiMonth(clock_.now()))->policy;
  });
}

Result<std::vector<BenefitPolicy>> BenefitService::policies(const std::string& region_code) {
  if (!region_code.empty() && !isRegionCode(region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  return db_.read([&](soci::session& sql) -> Result<std::vector<BenefitPolicy>> {
    return detail::listPolicies(sql, regionAndAncestors(region_code),
                                detail::shanghaiMonth(clock_.now()));
  });
}

Result<BenefitClaim> BenefitService::claim(const Principal& caller, std::int64_t policy_id,
                                           std::int64_t units, const std::string& idempotency_key) {
  TPH_TRY(detail::checkRequestKey(idempotency_key));
  if (units < 1 || units > kBenefitMaxUnitsPerClaim)
    return Error::invalid("units", "units must be 1-100");
  if (!caller.hasRole(Role::kResident)) return Error::forbidden("residents claim benefits");
  auto resident = accounts_.personAccount(caller);
  if (!resident) return resident.error();
  std::string webhook_url, secret;
  bool fresh = false;
  auto opened = db_.transaction([&](soci::session& sql) -> Result<BenefitClaim> {
    if (auto done = detail::findClaimByRequest(sql, caller.user_id, idempotency_key)) {
      if (done->claim.policy_id != policy_id)
        return Error::conflict("this idempotency key claimed another benefit", "idempotency_key");
      return done->claim;
    }
    Instant now = clock_.now();
    std::string month = detail::shanghaiMonth(now);
    auto row = detail::loadPolicy(sql, policy_id, month);
    if (!row) return Error::notFound("no such benefit policy", "policy_id");
    const auto& f = row->policy.fields;
    if (row->policy.status != "active")
      return Error::conflict("the benefit has ended", "policy_id");
    if (!regionCovers(f.region_code, resident->region_code))
      return Error::forbidden("the benefit is for residents of " + f.region_code, "region");
    if (detail::userUnits(sql, policy_id, caller.user_id, month) + units > f.per_user_monthly_limit)
      return Error::conflict(
          "over your monthly limit of " + std::to_string(f.per_user_monthly_limit),
          "per_user_monthly_limit");
    if (!detail::takeBudget(sql, policy_id, month, units, f.monthly_budget_units))
      return Error::conflict("this month's budget is spent", "monthly_budget_units");
    BenefitClaim c;
    c.policy_id = policy_id;
    c.user_id = caller.user_id;
    c.month = month;
    c.units = units;
    c.points = f.points_price * units;
    c.created_at = now;
    bool webhook = f.fulfilment == "webhook";
    c.status = webhook ? "pending" : "fulfilled";
    if (!webhook) c.entitlement_code = randomHex(12);
    auto to = *account::findLedgerAccount(sql, webhook ? holdCode(policy_id) : keptCode(policy_id));
    auto posted = account::postEntry(
        sql,
        detail::transferEntry("benefit:" + std::to_string(caller.user_id) + ":" + idempotency_key,
                              webhook ? "benefit_hold" : "benefit",
                              "benefit " + std::to_string(policy_id), resident->ledger_account, to,
                              c.points),
        clock_);
    if (!posted) return posted.error();
    c.id = detail::insertClaim(sql, c, resident->ledger_account, idempotency_key);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         webhook ? "benefit.claim_hold" : "benefit.claim",
         "benefit_claim:" + std::to_string(c.id),
         {{"policy", policy_id}, {"units", units}, {"points", c.points.value()}}});
    webhook_url = f.webhook_url;
    secret = row->webhook_secret;
    fresh = true;
    return c;
  });
  if (!opened || !fresh || opened->status != "pending") return opened;

  // Asked outside any transaction: a slow partner holds no database lock.
  const BenefitClaim& c = *opened;
  std::string timestamp = std::to_string(toEpochMs(clock_.now()) / 1000);
  json body = {{"claim_id", c.id},
               {"policy_id", c.policy_id},
               {"units", c.units},
               {"points", c.points.value()},
               {"month", c.month},
               // The partner knows the resident by a pseudonym derived with its own secret.
               {"resident_ref", hmacSha256Hex(secret, "resident:" + std::to_string(c.user_id))},
               {"requested_at", formatIso8601(c.created_at)}};
  std::string text = body.dump();
  WebhookRequest request{webhook_url,
                         text,
                         {{"content-type", "application/json"},
                          {"x-tph-timestamp", timestamp},
                          {"x-tph-claim", std::to_string(c.id)},
                          {"x-tph-signature", webhookSignature(secret, timestamp, text)}},
                         webhook_timeout_};
  WebhookReply reply;
  try {
    reply = webhook_.deliver(request);
  } catch (const std::exception& e) {
    reply = {false, 0, "", e.what()};
  }
  return settle(c.id, reply, "system");
}

Result<BenefitClaim> BenefitService::settle(std::int64_t claim_id, const WebhookReply& reply,
                                            const std::string& actor) {
  // The partner confirms with a 2xx and {"status": "confirmed", "reference": "..."}.
  bool confirmed = false;
  std::string reference, reason = reply.detail;
  if (reply.delivered && reply.status >= 200 && reply.status < 300) {
    auto parsed = json::parse(reply.body, nullptr, false);
    if (parsed.is_object() && parsed.value("status", "") == "confirmed" &&
        parsed.contains("reference") && parsed["reference"].is_string() &&
        parsed["reference"].get<std::string>().size() <= kPartnerReferenceMaxBytes) {
      confirmed = true;
      reference = parsed["reference"].get<std::string>();
    } else {
      reason = "the partner did not confirm: " + reply.body.substr(0, 200);
    }
  } else if (reply.delivered) {
    reason = "the partner answered HTTP " + std::to_string(reply.status);
  }
  return db_.transaction([&](soci::session& sql) -> Result<BenefitClaim> {
    auto row = detail::loadClaim(sql, claim_id);
    if (!row) return Error::notFound("no such claim", "claim_id");
    if (row->claim.status != "pending") return row->claim;
    const BenefitClaim& c = row->claim;
    auto hold = *account::findLedgerAccount(sql, holdCode(c.policy_id));
    auto to = confirmed ? *account::findLedgerAccount(sql, keptCode(c.policy_id))
                        : row->ledger_account_id;
    auto posted = account::postEntry(
        sql,
        detail::transferEntry("benefit-settle:" + std::to_string(claim_id),
                              confirmed ? "benefit" : "benefit_release",
                              "benefit claim " + std::to_string(claim_id), hold, to, c.points),
        clock_);
    if (!posted) throw std::logic_error("a benefit hold does not cover its claim");
    if (!confirmed) detail::returnBudget(sql, c.policy_id, c.month, c.units);
    detail::finishClaim(sql, claim_id, confirmed ? "fulfilled" : "failed", reference, reason,
                        toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {actor,
                             confirmed ? "benefit.claim_confirm" : "benefit.claim_fail",
                             "benefit_claim:" + std::to_string(claim_id),
                             {{"reference", reference}, {"reason", reason}}});
    return detail::loadClaim(sql, claim_id)->claim;
  });
}

Result<std::vector<BenefitClaim>> BenefitService::myClaims(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<BenefitClaim>> {
    return detail::claimsOfUser(sql, caller.user_id);
  });
}

}  // namespace tph::incentive
