#include "incentive/card_service.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "core/crypto.h"
#include "incentive/card_store.h"
#include "incentive/incentive_common.h"
#include "incentive/merchant_service.h"
#include "store/database.h"

namespace tph::incentive {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr std::size_t kBankReferenceMaxBytes = 200;

std::string partnerLedgerCode(const std::string& partner_code) {
  return "card-partner:" + partner_code;
}

Status checkRate(std::int64_t rate_points, std::int64_t rate_reward) {
  if (rate_points < 1 || rate_points > kCardRateMax)
    return Error::invalid("rate_points", "rate_points must be 1-1000000");
  if (rate_reward < 1 || rate_reward > kCardRateMax)
    return Error::invalid("rate_reward", "rate_reward must be 1-1000000");
  return {};
}

Status checkPartner(const CardPartnerFields& f) {
  bool code_ok = !f.code.empty() && f.code.size() <= 40 &&
                 std::all_of(f.code.begin(), f.code.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                 });
  if (!code_ok) return Error::invalid("code", "code is 1-40 lower-case letters, digits and dashes");
  TPH_TRY(detail::checkText("name", f.name, kTextMaxBytes, true));
  return checkRate(f.rate_points, f.rate_reward);
}

Status checkToken(const std::string& token) {
  bool ok = token.size() >= kCardTokenMinBytes && token.size() <= kCardTokenMaxBytes &&
            std::all_of(token.begin(), token.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.';
            });
  if (!ok)
    return Error::invalid("card_token",
                          "card_token is the bank's token: 8-128 letters, digits, '-', '_', '.'");
  return {};
}

//! A Shanghai day "YYYY-MM-DD" and the instant it ends, or invalid on field "day".
Result<Instant> dayEnd(const std::string& day) {
  auto start = shanghaiDayStart(day);
  if (!start) return Error::invalid("day", "day is YYYY-MM-DD");
  return *start + std::chrono::hours(24);
}

Status requireProvinceAdmin(const Principal& caller, const std::string& what) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only a province admin " + what);
  return {};
}

//! Counts what an export's conversions have become.
ReconciliationReport reportOf(std::int64_t partner_id, const std::string& day,
                              const std::vector<detail::ConversionRow>& rows) {
  ReconciliationReport r;
  r.partner_id = partner_id;
  r.day = day;
  for (const auto& row : rows) {
    const auto& c = row.conversion;
    if (c.status == "pending") continue;  // requested after the export was made: none, by rule
    ++r.exported;
    if (c.status == "confirmed") {
      ++r.confirmed;
      r.points_confirmed += c.points;
      r.reward_points_confirmed += c.reward_points;
    } else if (c.status == "rejected") {
      ++r.rejected;
      r.points_refunded += c.points;
    } else {
      ++r.unconfirmed;
    }
  }
  return r;
}

}  // namespace

std::string cardFileSignature(const std::string& secret, const std::string& body) {
  return hmacSha256Hex(secret, body);
}

Result<RegisteredPartner> CardService::registerPartner(const Principal& caller,
                                                       const CardPartnerFields& fields) {
  TPH_TRY(checkPartner(fields));
  TPH_TRY(requireProvinceAdmin(caller, "registers card partners"));
  return db_.transaction([&](soci::session& sql) -> Result<RegisteredPartner> {
    if (detail::partnerCodeTaken(sql, fields.code))
      return Error::conflict("a partner with code " + fields.code + " exists", "code");
    std::string secret = randomHex(32);
    // Named by the partner's code, unique and never changed, so it opens before the partner row.
    auto ledger = account::openLedgerAccount(sql, partnerLedgerCode(fields.code), "card_partner",
                                             false, clock_);
    auto id = detail::insertPartner(sql, fields, secret, ledger, caller.auditActor(),
                                    toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "card.partner_register",
                             "card_partner:" + std::to_string(id),
                             {{"code", fields.code},
                              {"name", fields.name},
                              {"rate_points", fields.rate_points},
                              {"rate_reward", fields.rate_reward}}});
    return RegisteredPartner{detail::loadPartner(sql, id)->partner, secret};
  });
}

Result<CardPartner> CardService::setRate(const Principal& caller, std::int64_t partner_id,
                                         std::int64_t rate_points, std::int64_t rate_reward) {
  TPH_TRY(checkRate(rate_points, rate_reward));
  TPH_TRY(requireProvinceAdmin(caller, "publishes card rates"));
  return db_.transaction([&](soci::session& sql) -> Result<CardPartner> {
    auto p = detail::loadPartner(sql, partner_id);
    if (!p) return Error::notFound("no such card partner", "partner_id");
    detail::updatePartnerRate(sql, partner_id, rate_points, rate_reward, toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "card.partner_rate",
         "card_partner:" + std::to_string(partner_id),
         {{"from", {p->partner.fields.rate_points, p->partner.fields.rate_reward}},
          {"to", {rate_points, rate_reward}}}});
    return detail::loadPartner(sql, partner_id)->partner;
  });
}

Result<CardPartner> CardService::setPartnerStatus(const Principal& caller, std::int64_t partner_id,
                                                  const std::string& action) {
  if (action != "suspend" && action != "resume")
    return Error::invalid("action", "action is suspend or resume");
  TPH_TRY(requireProvinceAdmin(caller, "suspends card partners"));
  return db_.transaction([&](soci::session& sql) -> Result<CardPartner> {
    auto p = detail::loadPartner(sql, partner_id);
    if (!p) return Error::notFound("no such card partner", "partner_id");
    std::string status = action == "suspend" ? "suspended" : "active";
    detail::updatePartnerStatus(sql, partner_id, status, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "card.partner_" + action,
                             "card_partner:" + std::to_string(partner_id), json::object()});
    return detail::loadPartner(sql, partner_id)->partner;
  });
}

Result<std::vector<CardPartner>> CardService::partners() {
  return db_.read([&](soci::session& sql) -> Result<std::vector<CardPartner>> {
    return detail::listPartners(sql);
  });
}

Result<CardLink> CardService::linkCard(const Principal& caller, std::int64_t partner_id,
                                       const std::string& card_token) {
  TPH_TRY(checkToken(card_token));
  if (!caller.hasRole(Role::kResident)) return Error::forbidden("residents link cards");
  return db_.transaction([&](soci::session& sql) -> Result<CardLink> {
    auto p = detail::loadPartner(sql, partner_id);
    if (!p) return Error::notFound("no such card partner", "partner_id");
    if (p->partner.status != "active")
      return Error::conflict("the partner is suspended", "partner_id");
    if (auto existing = detail::findActiveLink(sql, partner_id, card_token)) {
      if (existing->user_id == caller.user_id) return *existing;
      return Error::conflict("this card is linked to another account", "card_token");
    }
    auto id =
        detail::insertLink(sql, partner_id, caller.user_id, card_token, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "card.link",
                             "card_link:" + std::to_string(id),
                             {{"partner", partner_id}}});
    return *detail::loadLink(sql, id);
  });
}

Result<std::vector<CardLink>> CardService::links(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<CardLink>> {
    return detail::linksOfUser(sql, caller.user_id);
  });
}

Result<CardLink> CardService::unlinkCard(const Principal& caller, std::int64_t link_id) {
  return db_.transaction([&](soci::session& sql) -> Result<CardLink> {
    auto link = detail::loadLink(sql, link_id);
    if (!link || link->user_id != caller.user_id)
      return Error::notFound("no such card link", "link_id");
    if (link->status != "active") return Error::conflict("the card is unlinked", "link_id");
    detail::unlink(sql, link_id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "card.unlink",
                             "card_link:" + std::to_string(link_id), json::object()});
    return *detail::loadLink(sql, link_id);
  });
}

Result<CardConversion> CardService::convert(const Principal& caller, std::int64_t link_id,
                                            Points points, const std::string& idempotency_key) {
  TPH_TRY(detail::checkRequestKey(idempotency_key));
  if (points.value() < 1 || points.value() > kCardConversionMaxPoints)
    return Error::invalid("points", "points must be 1-10000000");
  if (!caller.hasRole(Role::kResident)) return Error::forbidden("residents convert points");
  auto resident = accounts_.personAccount(caller);
  if (!resident) return resident.error();
  return db_.transaction([&](soci::session& sql) -> Result<CardConversion> {
    if (auto done = detail::findConversionByRequest(sql, caller.user_id, idempotency_key)) {
      if (done->conversion.link_id != link_id || done->conversion.points != points)
        return Error::conflict("this idempotency key made another conversion", "idempotency_key");
      return done->conversion;
    }
    auto link = detail::loadLink(sql, link_id);
    if (!link || link->user_id != caller.user_id)
      return Error::notFound("no such card link", "link_id");
    if (link->status != "active") return Error::conflict("the card is unlinked", "link_id");
    auto p = detail::loadPartner(sql, link->partner_id);
    if (p->partner.status != "active")
      return Error::conflict("the partner is suspended", "partner_id");
    const auto& f = p->partner.fields;
    if (points.value() % f.rate_points != 0)
      return Error::invalid("points", "points must be a multiple of the partner's rate of " +
                                          std::to_string(f.rate_points));
    Instant now = clock_.now();
    CardConversion c;
    c.link_id = link_id;
    c.partner_id = link->partner_id;
    c.user_id = caller.user_id;
    c.card_token = link->card_token;
    c.points = points;
    c.reward_points = points.value() / f.rate_points * f.rate_reward;
    c.rate_points = f.rate_points;
    c.rate_reward = f.rate_reward;
    c.day = shanghaiDay(now);
    c.status = "pending";
    c.created_at = now;
    auto posted = account::postEntry(
        sql,
        detail::transferEntry("card:" + std::to_string(caller.user_id) + ":" + idempotency_key,
                              "card_conversion", "card link " + std::to_string(link_id),
                              resident->ledger_account, p->ledger_account_id, points),
        clock_);
    if (!posted) return posted.error();
    c.id = detail::insertConversion(sql, c, resident->ledger_account, idempotency_key,
                                    posted->entry_id);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "card.convert",
                             "card_conversion:" + std::to_string(c.id),
                             {{"partner", c.partner_id},
                              {"points", points.value()},
                              {"reward_points", c.reward_points}}});
    return c;
  });
}

Result<std::vector<CardConversion>> CardService::conversions(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<CardConversion>> {
    return detail::conversionsOfUser(sql, caller.user_id);
  });
}

Result<CardExport> CardService::exportDay(const Principal& caller, std::int64_t partner_id,
                                          const std::string& day) {
  auto end = dayEnd(day);
  if (!end) return end.error();
  TPH_TRY(requireProvinceAdmin(caller, "exports card conversions"));
  return db_.transaction([&](soci::session& sql) -> Result<CardExport> {
    detail::lockPartner(sql, partner_id);  // a concurrent first export waits, then reads this one
    auto p = detail::loadPartner(sql, partner_id);
    if (!p) return Error::notFound("no such card partner", "partner_id");
    if (auto done = detail::loadExport(sql, partner_id, day)) return done->file;
    if (clock_.now() < *end)
      return Error::conflict("the day " + day + " has not ended (Asia/Shanghai)", "day");
    auto rows = detail::conversionsOfDay(sql, partner_id, day);
    CardExport e;
    e.partner_id = partner_id;
    e.day = day;
    std::string lines;
    for (const auto& row : rows) {
      const auto& c = row.conversion;
      ++e.conversions;
      e.points += c.points;
      e.reward_points += c.reward_points;
      lines += std::to_string(c.id) + "," + c.card_token + "," + std::to_string(c.points.value()) +
               "," + std::to_string(c.reward_points) + "," + std::to_string(c.rate_points) + ":" +
               std::to_string(c.rate_reward) + "," + formatIso8601(c.created_at) + "\n";
    }
    e.body = "# tanpuhui card export; partner=" + p->partner.fields.code + "; day=" + day +
             "; conversions=" + std::to_string(e.conversions) +
             "; points=" + std::to_string(e.points.value()) +
             "; reward_points=" + std::to_string(e.reward_points) +
             "\nconversion_id,card_token,points,reward_points,rate,requested_at\n" + lines;
    e.signature = cardFileSignature(p->export_secret, e.body);
    detail::markDayExported(sql, partner_id, day);
    detail::insertExport(sql, e, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "card.export",
                             "card_partner:" + std::to_string(partner_id),
                             {{"day", day},
                              {"conversions", e.conversions},
                              {"points", e.points.value()},
                              {"signature", e.signature}}});
    return e;
  });
}

Result<ReconciliationReport> CardService::reconcile(const Principal& caller,
                                                    std::int64_t partner_id, const std::string& day,
                                                    const std::string& body,
                                                    const std::string& signature) {
  auto end = dayEnd(day);
  if (!end) return end.error();
  TPH_TRY(requireProvinceAdmin(caller, "reconciles card conversions"));
  auto parsed = json::parse(body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("lines") || !parsed["lines"].is_array())
    return Error::invalid("lines", "the confirmation is a JSON object with a lines array");
  if (parsed["lines"].size() > kCardReconciliationMaxLines)
    return Error::invalid("lines", "at most 100000 lines");
  if (parsed.value("day", "") != day)
    return Error::invalid("day", "the confirmation's day is not " + day);
  struct Line {
    std::int64_t id;
    bool credited;
    std::string reference, reason;
  };
  std::vector<Line> lines;
  for (std::size_t i = 0; i < parsed["lines"].size(); ++i) {
    const auto& l = parsed["lines"][i];
    std::string where = "lines[" + std::to_string(i) + "]";
    if (!l.is_object() || !l.contains("conversion_id") || !l["conversion_id"].is_number_integer())
      return Error::invalid(where + ".conversion_id", "conversion_id is an integer");
    std::string status = l.contains("status") && l["status"].is_string() ? l["status"] : "";
    if (status != "credited" && status != "rejected")
      return Error::invalid(where + ".status", "status is credited or rejected");
    std::string reference =
        l.contains("reference") && l["reference"].is_string() ? l["reference"] : "";
    std::string reason = l.contains("reason") && l["reason"].is_string() ? l["reason"] : "";
    if (reference.size() > kBankReferenceMaxBytes || reason.size() > kBankReferenceMaxBytes)
      return Error::invalid(where + ".reference", "reference and reason are at most 200 bytes");
    lines.push_back(
        {l["conversion_id"].get<std::int64_t>(), status == "credited", reference, reason});
  }
  return db_.transaction([&](soci::session& sql) -> Result<ReconciliationReport> {
    detail::lockPartner(sql, partner_id);
    auto p = detail::loadPartner(sql, partner_id);
    if (!p) return Error::notFound("no such card partner", "partner_id");
    if (signature != cardFileSignature(p->export_secret, body))
      return Error::invalid("signature", "the confirmation's signature does not match");
    auto exported = detail::loadExport(sql, partner_id, day);
    if (!exported) return Error::conflict("the day " + day + " has not been exported", "day");
    auto rows = detail::conversionsOfDay(sql, partner_id, day);
    std::map<std::int64_t, const detail::ConversionRow*> by_id;
    for (const auto& row : rows) by_id[row.conversion.id] = &row;
    std::vector<std::string> discrepancies;
    std::set<std::int64_t> seen;
    Instant now = clock_.now();
    std::int64_t confirmed = 0, rejected = 0;
    for (const auto& l : lines) {
      std::string id = std::to_string(l.id);
      auto it = by_id.find(l.id);
      if (!seen.insert(l.id).second) {
        discrepancies.push_back("conversion " + id + " appears twice");
        continue;
      }
      if (it == by_id.end()) {
        discrepancies.push_back("conversion " + id + " is not in the export of " + day);
        continue;
      }
      const auto& c = it->second->conversion;
      std::string wanted = l.credited ? "confirmed" : "rejected";
      if (c.status == wanted) continue;  // the same file again
      if (c.status != "exported") {
        discrepancies.push_back("conversion " + id + " was already " + c.status);
        continue;
      }
      std::optional<std::int64_t> refund;
      if (!l.credited) {
        auto posted = account::postEntry(
            sql,
            detail::transferEntry("card-rejected:" + id, "card_refund", "card conversion " + id,
                                  p->ledger_account_id, it->second->ledger_account_id, c.points),
            clock_);
        if (!posted) throw std::logic_error("a card partner account does not cover a refund");
        refund = posted->entry_id;
      }
      detail::decideConversion(sql, l.id, wanted, l.reference, l.reason, refund, toEpochMs(now));
      ++(l.credited ? confirmed : rejected);
    }
    detail::recordReconciliation(sql, partner_id, day, json(discrepancies).dump(), toEpochMs(now));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "card.reconcile",
                             "card_partner:" + std::to_string(partner_id),
                             {{"day", day},
                              {"confirmed", confirmed},
                              {"rejected", rejected},
                              {"discrepancies", discrepancies.size()}}});
    auto report = reportOf(partner_id, day, detail::conversionsOfDay(sql, partner_id, day));
    report.discrepancies = discrepancies;
    report.reconciled_at = now;
    return report;
  });
}

Result<ReconciliationReport> CardService::reconciliation(const Principal& caller,
                                                         std::int64_t partner_id,
                                                         const std::string& day) {
  auto end = dayEnd(day);
  if (!end) return end.error();
  TPH_TRY(requireProvinceAdmin(caller, "reads card reconciliations"));
  return db_.read([&](soci::session& sql) -> Result<ReconciliationReport> {
    auto exported = detail::loadExport(sql, partner_id, day);
    if (!exported) return Error::notFound("no export of " + day + " for this partner", "day");
    auto report = reportOf(partner_id, day, detail::conversionsOfDay(sql, partner_id, day));
    auto d = json::parse(exported->discrepancies_json, nullptr, false);
    if (d.is_array())
      for (const auto& s : d) report.discrepancies.push_back(s.get<std::string>());
    if (exported->reconciled_at_ms) report.reconciled_at = fromEpochMs(*exported->reconciled_at_ms);
    return report;
  });
}

}  // namespace tph::incentive
