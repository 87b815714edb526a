#include "incentive/card_service.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
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

//! Confirms or rejects one exported conversion in the caller's transaction; a rejection refunds
//! the points under the key card-rejected:ID, which a file and the API share.
void applyDecision(soci::session& sql, const Clock& clock, const detail::PartnerRow& partner,
                   const detail::ConversionRow& row, bool credited, const std::string& reference,
                   const std::string& reason, const std::string& via) {
  const auto& c = row.conversion;
  std::string id = std::to_string(c.id);
  std::optional<std::int64_t> refund;
  if (!credited) {
    auto posted = account::postEntry(
        sql,
        detail::transferEntry("card-rejected:" + id, "card_refund", "card conversion " + id,
                              partner.ledger_account_id, row.ledger_account_id, c.points),
        clock);
    if (!posted) throw std::logic_error("a card partner account does not cover a refund");
    refund = posted->entry_id;
  }
  if (!detail::decideConversion(sql, c.id, credited ? "confirmed" : "rejected", reference, reason,
                                refund, via, toEpochMs(clock.now())))
    throw std::logic_error("an exported conversion could not be decided");
}

Result<std::string> lineText(const json& line, const char* key, const std::string& where) {
  if (!line.contains(key) || line[key].is_null()) return std::string();
  if (!line[key].is_string())
    return Error::invalid(where + "." + key, std::string(key) + " is a string");
  std::string text = line[key];
  if (text.size() > kBankReferenceMaxBytes)
    return Error::invalid(where + "." + key, std::string(key) + " is at most 200 bytes");
  return text;
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
      applyDecision(sql, clock_, *p, *it->second, l.credited, l.reference, l.reason, "file");
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

Result<std::vector<ConfirmationOutcome>> CardService::confirmSigned(
    const SignedPartnerRequest& request) {
  long long timestamp = 0;
  try {
    std::size_t used = 0;
    timestamp = std::stoll(request.timestamp, &used);
    if (used != request.timestamp.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return Error::unauthenticated("X-Tph-Timestamp must be Unix seconds");
  }
  Instant now = clock_.now();
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (std::llabs(timestamp - now_s) > kCardSignatureMaxSkewSeconds)
    return Error::unauthenticated(
        "X-Tph-Timestamp is more than 300 seconds from the server's "
        "clock");
  bool nonce_ok = request.nonce.size() >= auth::kNonceMinLength &&
                  request.nonce.size() <= auth::kNonceMaxLength &&
                  std::all_of(request.nonce.begin(), request.nonce.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '-' || c == '_';
                  });
  if (!nonce_ok)
    return Error::unauthenticated(
        "X-Tph-Nonce must be 16-64 characters of A-Z, a-z, 0-9, '-', '_'");
  if (request.signature.empty()) return Error::unauthenticated("X-Tph-Signature is missing");

  return db_.transaction([&](soci::session& sql) -> Result<std::vector<ConfirmationOutcome>> {
    // The partner's requests run one at a time, so two deciding one conversion cannot race.
    detail::lockPartner(sql, request.partner_id);
    auto p = detail::loadPartner(sql, request.partner_id);
    if (!p) return Error::unauthenticated("unknown card partner");
    auto expected = hmacSha256Hex(
        p->export_secret, auth::signingString(request.method, request.target, request.timestamp,
                                              request.nonce, request.body));
    if (!constantTimeEquals(expected, request.signature))
      return Error::unauthenticated("signature does not match the request");
    auto prune = toEpochMs(now - std::chrono::seconds(2 * kCardSignatureMaxSkewSeconds));
    if (!detail::recordPartnerNonce(sql, p->partner.id, request.nonce, toEpochMs(now), prune))
      return Error::unauthenticated("nonce was already used; sign each request afresh");

    auto parsed = json::parse(request.body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("confirmations") ||
        !parsed["confirmations"].is_array())
      return Error::invalid("confirmations",
                            "the body is a JSON object with a confirmations array");
    const auto& lines = parsed["confirmations"];
    if (lines.empty() || lines.size() > kCardConfirmationMaxLines)
      return Error::invalid("confirmations", "1-1000 confirmations per request");
    std::vector<ConfirmationOutcome> out;
    std::set<std::int64_t> seen;
    std::int64_t applied = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto& l = lines[i];
      std::string where = "confirmations[" + std::to_string(i) + "]";
      if (!l.is_object() || !l.contains("conversion_id") || !l["conversion_id"].is_number_integer())
        return Error::invalid(where + ".conversion_id", "conversion_id is an integer");
      std::string status = l.contains("status") && l["status"].is_string() ? l["status"] : "";
      if (status != "credited" && status != "rejected")
        return Error::invalid(where + ".status", "status is credited or rejected");
      auto reference = lineText(l, "reference", where);
      if (!reference) return reference.error();
      auto reason = lineText(l, "reason", where);
      if (!reason) return reason.error();
      auto id = l["conversion_id"].get<std::int64_t>();
      if (!seen.insert(id).second)
        return Error::invalid(where + ".conversion_id",
                              "conversion " + std::to_string(id) + " appears twice");
      bool credited = status == "credited";
      std::string wanted = credited ? "confirmed" : "rejected";
      ConfirmationOutcome o{id, "", "", ""};
      auto row = detail::loadConversion(sql, id);
      if (!row || row->conversion.partner_id != p->partner.id) {
        o.outcome = "not_found";
        o.message = "no conversion " + std::to_string(id) + " of this partner";
      } else if (row->conversion.status == wanted) {
        o.outcome = "unchanged";
        o.status = wanted;
        o.message = "already " + wanted;
      } else if (row->conversion.status == "pending") {
        o.outcome = "not_exported";
        o.status = "pending";
        o.message = "the conversion is in the export of " + row->conversion.day +
                    ", which has not been made";
      } else if (row->conversion.status != "exported") {
        o.outcome = "conflict";
        o.status = row->conversion.status;
        o.message = "the conversion was already " + row->conversion.status;
      } else {
        applyDecision(sql, clock_, *p, *row, credited, *reference, *reason, "api");
        o.outcome = "applied";
        o.status = wanted;
        ++applied;
      }
      out.push_back(std::move(o));
    }
    json decided = json::array();
    for (const auto& o : out)
      if (o.outcome == "applied")
        decided.push_back({{"id", o.conversion_id}, {"status", o.status}});
    if (applied > 0)
      audit::appendAuditEvent(sql, clock_,
                              {"card-partner:" + p->partner.fields.code,
                               "card.confirm",
                               "card_partner:" + std::to_string(p->partner.id),
                               {{"conversions", decided}, {"lines", out.size()}}});
    return out;
  });
}

}  // namespace tph::incentive
