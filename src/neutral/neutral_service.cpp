#include "neutral/neutral_service.h"

#include <algorithm>
#include <stdexcept>

#include "account/carbon_accounts.h"
#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "core/crypto.h"
#include "neutral/neutral_certificate.h"
#include "neutral/neutral_store.h"
#include "registry/registry_ledger.h"
#include "store/database.h"

namespace tph::neutral {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

Status checkText(const std::string& field, const std::string& value, std::size_t max_bytes,
                 bool required) {
  if (required && value.empty()) return Error::invalid(field, field + " is required");
  if (value.size() > max_bytes)
    return Error::invalid(field, field + " is at most " + std::to_string(max_bytes) + " bytes");
  return {};
}

Status checkKey(const std::string& key) {
  if (key.empty() || key.size() > kKeyMaxBytes)
    return Error::invalid("idempotency_key", "an idempotency key is 1-200 bytes");
  return {};
}

Status checkPage(int limit, int offset) {
  if (limit < 1 || limit > kListMaxLimit)
    return Error::invalid("limit", "limit is 1-" + std::to_string(kListMaxLimit));
  if (offset < 0) return Error::invalid("offset", "offset is 0 or more");
  return {};
}

//! A beneficiary the registry accepts: the event's name, cut at a UTF-8 boundary.
std::string beneficiaryOf(const Event& e) {
  std::string name = e.name;
  std::size_t max = registry::kBeneficiaryMaxBytes;
  if (name.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  return name;
}

std::string noteOf(const Event& e) {
  return std::string(e.kind == "personal" ? "个人碳中和 Personal carbon neutrality"
                                          : "碳中和活动 Carbon-neutral event") +
         " #" + std::to_string(e.id) + ", /neutral/events/" + std::to_string(e.id);
}

//! The event with its retirements and their serial blocks.
Event loadFull(soci::session& sql, Event e) {
  for (auto op_id : detail::retirementOperations(sql, e.id)) {
    auto op = registry::operation(sql, op_id);
    EventRetirement r;
    r.operation_id = op.id;
    r.units = op.units.value();
    r.from_account_no = op.from_account_no;
    r.beneficiary = op.beneficiary;
    r.at = op.at;
    for (const auto& range : op.ranges) r.serials.push_back(registry::formatSerial(range));
    e.retirements.push_back(std::move(r));
  }
  return e;
}

//! Loads the event for its organiser and claims it for one neutralisation. A retry with the
//! claiming key answers the neutralisation already made.
Result<std::optional<Event>> claimForOrganiser(soci::session& sql, const Principal& caller,
                                               std::int64_t event_id, const std::string& key,
                                               bool& duplicate) {
  auto e = detail::findEvent(sql, event_id);
  if (!e) return Error::notFound("no event " + std::to_string(event_id), "event");
  if (e->organiser_user_id != caller.user_id)
    return Error::forbidden("only the event's organiser neutralises it", "event");
  if (e->units_required < 1)
    return Error::conflict("the footprint is zero: nothing to neutralise", "footprint");
  std::string claim = "neutral:" + std::to_string(caller.user_id) + ":" + key;
  if (!detail::claimEvent(sql, event_id, claim)) {
    if (detail::neutraliseKey(sql, event_id) == claim) {
      duplicate = true;
      return std::optional<Event>(loadFull(sql, *detail::findEvent(sql, event_id)));
    }
    return Error::conflict("the event is neutralised already", "event");
  }
  return std::optional<Event>(*e);
}

}  // namespace

NeutralService::NeutralService(store::Database& db, const Clock& clock,
                               account::CarbonAccountService& accounts,
                               std::shared_ptr<const FootprintCalculator> calculator)
    : db_(db), clock_(clock), accounts_(accounts), calculator_(std::move(calculator)) {}

Result<Footprint> NeutralService::estimate(const FootprintInputs& inputs) const {
  return calculator_->compute(inputs);
}

// ------------------------------------------------------------------------------- events

Result<Event> NeutralService::registerEvent(const Principal& caller, const NewEvent& in) {
  if (caller.user_id == 0) return Error::forbidden("sign in to register an event");
  if (in.kind != "event" && in.kind != "personal")
    return Error::invalid("kind", "kind is event or personal");
  TPH_TRY(checkText("name", in.name, kNameMaxBytes, true));
  TPH_TRY(checkText("organiser_name", in.organiser_name, kNameMaxBytes, false));
  TPH_TRY(checkText("venue", in.venue, kVenueMaxBytes, false));
  auto starts = shanghaiDayStart(in.starts_on);
  if (!starts) return Error::invalid("starts_on", "starts_on is a day YYYY-MM-DD");
  auto ends = shanghaiDayStart(in.ends_on);
  if (!ends) return Error::invalid("ends_on", "ends_on is a day YYYY-MM-DD");
  if (*ends < *starts) return Error::invalid("ends_on", "the event ends on or after its start");
  if (*ends - *starts >= std::chrono::days(kEventMaxDays))
    return Error::invalid("ends_on",
                          "an event lasts at most " + std::to_string(kEventMaxDays) + " days");
  if (in.city.size() != 6 || !std::all_of(in.city.begin(), in.city.end(), ::isdigit))
    return Error::invalid("city", "city is a six-digit GB/T 2260 region code");
  TPH_TRY_ASSIGN(footprint, calculator_->compute(in.footprint));

  return db_.transaction([&](soci::session& sql) -> Result<Event> {
    if (!detail::regionExists(sql, in.city)) return Error::invalid("city", "no region " + in.city);
    Event e;
    e.slug = randomHex(8);
    e.kind = in.kind;
    e.name = in.name;
    e.organiser_user_id = caller.user_id;
    e.organiser_name = in.organiser_name.empty() ? caller.display_name : in.organiser_name;
    e.starts_on = in.starts_on;
    e.ends_on = in.ends_on;
    e.city = in.city;
    e.venue = in.venue;
    e.inputs = in.footprint.toJson();
    e.footprint = footprint.grams;
    e.calculator = footprint.calculator;
    e.explanation = footprint.explanation;
    e.units_required = footprint.units_required;
    e.created_at = clock_.now();
    e.id = detail::insertEvent(sql, e, toEpochMs(e.created_at));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "neutral.event.register", "neutral_event:" + std::to_string(e.id),
         json{{"kind", e.kind},
              {"name", e.name},
              {"city", e.city},
              {"days", {e.starts_on, e.ends_on}},
              {"calculator", e.calculator},
              {"footprint_grams", e.footprint.value()},
              {"units_required", e.units_required}}});
    return e;
  });
}

Result<Event> NeutralService::event(std::int64_t id) {
  return db_.read([&](soci::session& sql) -> Result<Event> {
    auto e = detail::findEvent(sql, id);
    if (!e) return Error::notFound("no event " + std::to_string(id), "event");
    return loadFull(sql, *e);
  });
}

Result<std::vector<Event>> NeutralService::eventsOf(const Principal& caller, int limit,
                                                    int offset) {
  TPH_TRY(checkPage(limit, offset));
  return db_.read([&](soci::session& sql) -> Result<std::vector<Event>> {
    std::vector<Event> out;
    for (auto id : detail::eventIdsOfUser(sql, caller.user_id, limit, offset))
      out.push_back(loadFull(sql, *detail::findEvent(sql, id)));
    return out;
  });
}

Result<std::vector<Event>> NeutralService::neutralisedEvents(int limit, int offset) {
  TPH_TRY(checkPage(limit, offset));
  return db_.read([&](soci::session& sql) -> Result<std::vector<Event>> {
    std::vector<Event> out;
    for (auto id : detail::neutralisedEventIds(sql, limit, offset))
      out.push_back(loadFull(sql, *detail::findEvent(sql, id)));
    return out;
  });
}

// ------------------------------------------------------------------------ neutralisation

Result<Neutralisation> NeutralService::neutraliseWithUnits(const Principal& caller,
                                                           std::int64_t event_id,
                                                           const UnitsNeutralisation& req) {
  TPH_TRY(checkKey(req.idempotency_key));
  if (req.account_no.empty()) return Error::invalid("account_no", "account_no is required");
  return db_.transaction([&](soci::session& sql) -> Result<Neutralisation> {
    bool duplicate = false;
    TPH_TRY_ASSIGN(claimed,
                   claimForOrganiser(sql, caller, event_id, req.idempotency_key, duplicate));
    if (duplicate) return Neutralisation{*claimed, true};
    Event e = *claimed;
    std::int64_t units = req.units.value_or(e.units_required);
    if (units < e.units_required)
      return Error::invalid("units", "the footprint needs at least " +
                                         std::to_string(e.units_required) + " whole units (" +
                                         std::to_string(e.footprint.value()) +
                                         " g rounded up to tonnes)");
    auto account_id = registry::findAccountId(sql, req.account_no);
    if (!account_id) return Error::notFound("no registry account " + req.account_no, "account_no");
    if (!registry::isAccountMember(sql, *account_id, caller.user_id))
      return Error::forbidden("you do not act for " + req.account_no, "account_no");

    registry::MoveUnitsRequest move;
    move.kind = "retire";
    move.idempotency_key = "neutral:event:" + std::to_string(e.id);
    move.from_account_id = *account_id;
    move.units = Units(units);
    move.batch_no = req.batch_no;
    move.reason = "carbon_neutral_event";
    move.beneficiary = beneficiaryOf(e);
    move.note = noteOf(e);
    move.actor = caller.auditActor();
    TPH_TRY_ASSIGN(op, registry::moveUnits(sql, clock_, move));
    if (op.units.value() != units)
      throw std::logic_error("a neutralisation retired a wrong number of units");
    detail::insertRetirement(sql, e.id, op.id, units);
    Instant now = clock_.now();
    detail::markNeutralised(sql, e.id, {units, "units", 0, std::nullopt}, toEpochMs(now));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "neutral.event.neutralise", "neutral_event:" + std::to_string(e.id),
         json{{"with", "units"},
              {"account", req.account_no},
              {"units", units},
              {"footprint_grams", e.footprint.value()},
              {"operation", op.id}}});
    return Neutralisation{loadFull(sql, *detail::findEvent(sql, e.id)), false};
  });
}

Result<Neutralisation> NeutralService::neutraliseWithPoints(const Principal& caller,
                                                            std::int64_t event_id,
                                                            const std::string& key) {
  TPH_TRY(checkKey(key));
  // The person account is opened (on first use) in its own transaction, before this one.
  TPH_TRY_ASSIGN(person, accounts_.personAccount(caller));
  return db_.transaction([&](soci::session& sql) -> Result<Neutralisation> {
    bool duplicate = false;
    TPH_TRY_ASSIGN(claimed, claimForOrganiser(sql, caller, event_id, key, duplicate));
    if (duplicate) return Neutralisation{*claimed, true};
    Event e = *claimed;
    auto rate = detail::currentRate(sql);
    if (!rate)
      return Error::conflict("the province has not published a points rate yet", "points_per_unit");
    std::int64_t units = e.units_required;
    Points points(checked::mul(units, rate->points_per_unit));

    auto platform =
        account::openLedgerAccount(sql, kPlatformPointsAccount, "platform", false, clock_);
    account::JournalEntry entry{
        "neutral:event:" + std::to_string(e.id) + ":points",
        "neutralise",
        "carbon neutrality #" + std::to_string(e.id),
        {{person.ledger_account, Points(-points.value())}, {platform, points}}};
    std::sort(entry.legs.begin(), entry.legs.end(),
              [](const account::Leg& a, const account::Leg& b) { return a.account < b.account; });
    auto posted = account::postEntry(sql, entry, clock_);
    if (!posted) {
      Error error = posted.error();
      if (error.field == "points")
        error.message = "neutralising " + std::to_string(units) + " t costs " +
                        std::to_string(points.value()) + " points at " +
                        std::to_string(rate->points_per_unit) + " points per unit";
      return error;
    }

    Units held = registry::heldUnits(sql, rate->inventory_account_id, {});
    if (held.value() < units)
      return Error::conflict("the platform's inventory holds " + std::to_string(held.value()) +
                                 " units, fewer than the " + std::to_string(units) + " needed",
                             "inventory");
    registry::MoveUnitsRequest move;
    move.kind = "retire";
    move.idempotency_key = "neutral:event:" + std::to_string(e.id);
    move.from_account_id = rate->inventory_account_id;
    move.units = Units(units);
    move.reason = "carbon_neutral_event";
    move.beneficiary = beneficiaryOf(e);
    move.note = noteOf(e);
    move.actor = caller.auditActor();
    TPH_TRY_ASSIGN(op, registry::moveUnits(sql, clock_, move));
    if (op.units.value() != units)
      throw std::logic_error("a neutralisation retired a wrong number of units");
    detail::insertRetirement(sql, e.id, op.id, units);
    detail::markNeutralised(sql, e.id, {units, "points", points.value(), posted->entry_id},
                            toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "neutral.event.neutralise", "neutral_event:" + std::to_string(e.id),
         json{{"with", "points"},
              {"points", points.value()},
              {"points_per_unit", rate->points_per_unit},
              {"entry", posted->entry_id},
              {"units", units},
              {"footprint_grams", e.footprint.value()},
              {"operation", op.id}}});
    return Neutralisation{loadFull(sql, *detail::findEvent(sql, e.id)), false};
  });
}

// ---------------------------------------------------------------------------- points rate

Result<PointsRate> NeutralService::setPointsRate(const Principal& caller,
                                                 std::int64_t points_per_unit,
                                                 const std::string& inventory_account_no) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only the province publishes the points rate");
  if (points_per_unit < 1 || points_per_unit > kPointsPerUnitMax)
    return Error::invalid("points_per_unit",
                          "points_per_unit is 1-" + std::to_string(kPointsPerUnitMax));
  if (inventory_account_no.empty())
    return Error::invalid("inventory_account_no", "inventory_account_no is required");
  auto stored = db_.transaction([&](soci::session& sql) -> Status {
    auto account = registry::findAccountId(sql, inventory_account_no);
    if (!account)
      return Error::invalid("inventory_account_no", "no registry account " + inventory_account_no);
    std::int64_t now = toEpochMs(clock_.now());
    detail::insertRate(sql, {points_per_unit, *account, now}, caller.auditActor());
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "neutral.rate.set", "neutral_rate",
         json{{"points_per_unit", points_per_unit}, {"inventory_account", inventory_account_no}}});
    return {};
  });
  if (!stored) return stored.error();
  return pointsRate();
}

PointsRate NeutralService::pointsRate() {
  return db_.read([&](soci::session& sql) {
    PointsRate out;
    auto rate = detail::currentRate(sql);
    if (!rate) return out;
    out.configured = true;
    out.points_per_unit = rate->points_per_unit;
    out.inventory_account_no = registry::accountNumber(sql, rate->inventory_account_id);
    out.inventory_held = registry::heldUnits(sql, rate->inventory_account_id, {});
    out.set_at = fromEpochMs(rate->set_at_ms);
    return out;
  });
}

// ---------------------------------------------------------------------------- certificate

Result<std::string> NeutralService::certificate(std::int64_t event_id,
                                                const std::string& page_url) {
  TPH_TRY_ASSIGN(e, event(event_id));
  if (!e.neutralised())
    return Error::conflict("the event is not neutralised yet: no certificate", "event");
  return renderNeutralCertificate(e, page_url);
}

}  // namespace tph::neutral
