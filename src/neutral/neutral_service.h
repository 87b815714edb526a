#pragma once
// NeutralService: carbon-neutral events (大型活动碳中和). An organiser registers an event with its
// footprint inputs; the footprint calculator gives grams and the explanation; the organiser
// neutralises it by retiring PHCER it holds (at least the footprint in whole units) with the event
// as beneficiary. Residents neutralise their own footprint the same way, paying points at the
// published rate for PHCER the platform retires from its inventory account. Public pages and a
// certificate PDF show the retired serial blocks. Rules: docs/neutral.md.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"
#include "neutral/footprint_calculator.h"

namespace tph::store {
class Database;
}
namespace tph::account {
class CarbonAccountService;
}

namespace tph::neutral {

inline constexpr std::size_t kNameMaxBytes = 200;
inline constexpr std::size_t kVenueMaxBytes = 200;
inline constexpr std::size_t kKeyMaxBytes = 200;
inline constexpr int kListMaxLimit = 200;
inline constexpr int kEventMaxDays = 366;
inline constexpr std::int64_t kPointsPerUnitMax = 100'000'000;
//! The ledger account residents' points go to when they buy PHCER to neutralise.
inline constexpr const char* kPlatformPointsAccount = "neutral:platform";

struct NewEvent {
  std::string kind = "event";  //!< "event", or "personal" for a resident's own footprint
  std::string name;
  std::string organiser_name;      //!< shown publicly; defaults to the caller's display name
  std::string starts_on, ends_on;  //!< YYYY-MM-DD, Asia/Shanghai
  std::string city;                //!< GB/T 2260 code of the venue's city
  std::string venue;
  FootprintInputs footprint;
};

//! One retirement that neutralised (part of) an event.
struct EventRetirement {
  std::int64_t operation_id = 0;
  std::int64_t units = 0;
  std::string from_account_no;
  std::string beneficiary;
  std::vector<std::string> serials;
  Instant at;
};

struct Event {
  std::int64_t id = 0;
  std::string slug;
  std::string kind;
  std::string name;
  std::int64_t organiser_user_id = 0;
  std::string organiser_name;
  std::string starts_on, ends_on, city, venue;
  nlohmann::json inputs;
  Grams footprint{0};
  std::string calculator;
  nlohmann::json explanation;
  std::int64_t units_required = 0;
  std::int64_t units_retired = 0;
  Instant created_at;
  std::optional<Instant> neutralised_at;
  std::string neutralised_with;  //!< "units", "points" or ""
  std::int64_t points_paid = 0;
  std::vector<EventRetirement> retirements;
  bool neutralised() const { return neutralised_at.has_value(); }
};

//! The organiser retires PHCER from a registry account it belongs to.
struct UnitsNeutralisation {
  std::string idempotency_key;
  std::string account_no;
  std::optional<std::int64_t> units;  //!< at least the event's units_required (the default)
  std::optional<std::int64_t> batch_no;
};

struct Neutralisation {
  Event event;
  bool duplicate = false;
};

//! The published conversion: points per PHCER unit and the registry account units come from.
struct PointsRate {
  std::int64_t points_per_unit = 0;
  std::string inventory_account_no;
  Units inventory_held{0};
  Instant set_at;
  bool configured = false;
};

//! Shared between threads; each use case is one transaction.
class NeutralService {
 public:
  NeutralService(
      store::Database& db, const Clock& clock, account::CarbonAccountService& accounts,
      std::shared_ptr<const FootprintCalculator> calculator = FootprintCalculator::shipped());

  const FootprintCalculator& calculator() const { return *calculator_; }
  //! The footprint of inputs, without registering anything.
  Result<Footprint> estimate(const FootprintInputs& inputs) const;

  //! Any signed-in user registers an event (or, kind "personal", their own footprint).
  Result<Event> registerEvent(const auth::Principal& caller, const NewEvent& event);
  //! Public: the event, its footprint explanation and its retirements.
  Result<Event> event(std::int64_t id);
  //! The caller's events, newest first.
  Result<std::vector<Event>> eventsOf(const auth::Principal& caller, int limit, int offset);
  //! Public: neutralised events, newest first.
  Result<std::vector<Event>> neutralisedEvents(int limit, int offset);

  //! The organiser retires PHCER it holds, with the event as beneficiary.
  Result<Neutralisation> neutraliseWithUnits(const auth::Principal& caller, std::int64_t event_id,
                                             const UnitsNeutralisation& request);
  //! The organiser pays points from their person account at the published rate; the platform
  //! retires the units from its inventory. Points and units move in one transaction.
  Result<Neutralisation> neutraliseWithPoints(const auth::Principal& caller, std::int64_t event_id,
                                              const std::string& idempotency_key);

  //! The province publishes the rate and names the platform's inventory account.
  Result<PointsRate> setPointsRate(const auth::Principal& caller, std::int64_t points_per_unit,
                                   const std::string& inventory_account_no);
  //! Public: the rate in force, configured false when none is published.
  PointsRate pointsRate();

  //! The carbon-neutral certificate (PDF, Chinese and English, a QR code of `page_url`).
  Result<std::string> certificate(std::int64_t event_id, const std::string& page_url);

 private:
  store::Database& db_;
  const Clock& clock_;
  account::CarbonAccountService& accounts_;
  std::shared_ptr<const FootprintCalculator> calculator_;
};

}  // namespace tph::neutral
