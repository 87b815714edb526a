#pragma once
// Low-carbon creation programmes (低碳社区、园区、交通、校园、酒店、景区): the province drafts and
// publishes a versioned criteria set per programme type; an entity (through any signed-in user)
// applies under the published set with evidence per indicator; an admin of the entity's region or
// an ancestor scores each indicator, the platform computes the weighted total and applies the
// thresholds, and the admin awards a title valid for the set's period or rejects with reasons.
// Titles are public and may be revoked with a reason. Every step is audited.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::programme {

inline constexpr std::size_t kMaxIndicators = 30;
inline constexpr std::size_t kMaxNameBytes = 200;
inline constexpr std::size_t kMaxTextBytes = 20'000;
inline constexpr int kMaxIndicatorScore = 1000;
inline constexpr int kMaxValidityMonths = 120;
inline constexpr std::int64_t kMaxAttachmentBytes = 5 * 1024 * 1024;
inline constexpr std::size_t kMaxAttachments = 20;
inline constexpr int kMaxPageSize = 500;
//! Guangdong's extent (mainland and islands), in millionths of a degree (WGS 84 / GCJ-02 alike).
inline constexpr std::int64_t kMinLonMicro = 109'600'000, kMaxLonMicro = 117'400'000;
inline constexpr std::int64_t kMinLatMicro = 20'100'000, kMaxLatMicro = 25'600'000;

//! community, park, transport, campus, hotel, scenic_area.
const std::vector<std::string>& programmeTypes();
bool isProgrammeType(std::string_view type);

struct Indicator {
  std::string key;  //!< "energy", "greening", ... unique in the set
  std::string name;
  std::string description;
  int weight_percent = 0;  //!< weights of a set sum to 100
  int max_score = 0;
  int min_score = 0;  //!< a score below it fails the application, whatever the total
  bool operator==(const Indicator&) const = default;
};

//! What the province writes: a draft's content.
struct CriteriaContent {
  std::string programme_type;
  std::string name;
  std::vector<Indicator> indicators;
  int pass_mark = 0;        //!< the weighted total out of 100 an award needs at least
  int validity_months = 0;  //!< how long a title is valid from its award day
};

//! Validates the content given as JSON; errors name the field ("indicators[1].min_score").
Result<CriteriaContent> criteriaFromJson(const nlohmann::json& json);

struct Criteria {
  std::int64_t id = 0;
  int version = 0;
  std::string state;  //!< draft, published, superseded
  CriteriaContent content;
  Instant drafted_at;
  std::optional<Instant> published_at;
  std::optional<Instant> superseded_at;
};

struct Coordinates {
  std::int64_t lon_micro = 0;
  std::int64_t lat_micro = 0;
  bool operator==(const Coordinates&) const = default;
};

//! The entity that applies and its evidence, as the applicant writes them.
struct EntityDetails {
  std::string entity_name;
  std::string entity_type;  //!< what kind of body it is: "社区居委会", "高校", "酒店"
  std::string region_code;  //!< a county-level division, or a city without counties
  std::string address;
  std::optional<Coordinates> coordinates;
  std::string contact;                          //!< a person and how to reach them; not public
  std::map<std::string, std::string> evidence;  //!< indicator key -> text
};

//! Validates the details given as JSON (lon and lat in degrees); errors name the field.
Result<EntityDetails> entityFromJson(const nlohmann::json& json);

struct Attachment {
  std::int64_t id = 0;
  std::string indicator_key;
  std::string name;
  std::string sha256;
  std::int64_t bytes = 0;
};

//! The outcome of scores under a criteria set.
struct Evaluation {
  std::int64_t total_milli = 0;  //!< weighted total out of 100, in thousandths
  bool passed = false;           //!< every minimum met and the total at the pass mark or more
  std::vector<std::string> below_minimum;  //!< indicator keys scored below their minimum
};

//! Each indicator contributes score × weight / max (thousandths, rounded down); the set passes
//! when no score is below its minimum and the total reaches pass_mark × 1000. `scores` holds
//! every indicator (the service checks).
Evaluation evaluate(const CriteriaContent& criteria, const std::map<std::string, int>& scores);

struct Assessment {
  std::map<std::string, int> scores;
  Evaluation evaluation;
  std::string comment;
  std::string scored_by;
  Instant scored_at;
};

struct Application {
  std::int64_t id = 0;
  std::int64_t criteria_id = 0;
  int criteria_version = 0;
  std::string programme_type;
  std::string state;  //!< draft, submitted, scored, awarded, rejected
  EntityDetails details;
  std::int64_t applicant_user_id = 0;
  std::optional<Instant> submitted_at;
  std::optional<Assessment> assessment;
  std::string decision_reason;
  std::optional<std::int64_t> title_id;
  std::vector<Attachment> attachments;
};

struct ApplicationFilter {
  std::string state;  //!< "" for any
  std::string programme_type;
};

struct Title {
  std::int64_t id = 0;
  std::int64_t application_id = 0;
  std::int64_t criteria_id = 0;
  int criteria_version = 0;
  std::string programme_type;
  std::string entity_name;
  std::string region_code;
  std::string address;
  std::optional<Coordinates> coordinates;
  std::int64_t total_milli = 0;
  std::string awarded_on;   //!< YYYY-MM-DD, Asia/Shanghai
  std::string valid_until;  //!< the last day it is valid
  std::string status;       //!< valid, expired, revoked (as of today in Asia/Shanghai)
  std::string revoked_reason;
  std::optional<Instant> revoked_at;
};

struct TitleFilter {
  std::string programme_type;  //!< "" for any
  std::string region_code;     //!< the region and its descendants; "" for all
  std::string status;          //!< valid, expired, revoked; "" for any
  int limit = 100;
  int offset = 0;
};

struct TitlePage {
  std::vector<Title> titles;
  std::int64_t total = 0;
};

//! The last day of a title awarded on `awarded_on` (YYYY-MM-DD) for `months`: the day before the
//! same day `months` later, or the month's last day when that day does not exist (29 February).
std::string validUntil(const std::string& awarded_on, int months);

//! Shared between threads: holds no state of its own beyond references.
class ProgrammeService {
 public:
  ProgrammeService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! Province admin: a new draft version of a type's criteria.
  Result<Criteria> draftCriteria(const auth::Principal& caller, const CriteriaContent& content);
  //! Province admin: rewrites a draft (the type stays).
  Result<Criteria> reviseCriteria(const auth::Principal& caller, std::int64_t id,
                                  const CriteriaContent& content);
  //! Province admin: the draft becomes the type's published set; the previous one is superseded.
  Result<Criteria> publishCriteria(const auth::Principal& caller, std::int64_t id);
  //! Published and superseded sets to anyone; drafts only to province admins (caller may be null).
  Result<Criteria> criteria(const auth::Principal* caller, std::int64_t id);
  Result<std::vector<Criteria>> criteriaList(const auth::Principal* caller,
                                             const std::string& programme_type);

  //! Any signed-in user, for an entity, under the type's published criteria.
  Result<Application> draftApplication(const auth::Principal& caller,
                                       const std::string& programme_type,
                                       const EntityDetails& details);
  //! The applicant rewrites a draft.
  Result<Application> reviseApplication(const auth::Principal& caller, std::int64_t id,
                                        const EntityDetails& details);
  //! The applicant attaches a PDF as evidence of an indicator of a draft.
  Result<Attachment> attach(const auth::Principal& caller, std::int64_t id,
                            const std::string& indicator_key, const std::string& name,
                            const std::string& content_base64);
  struct AttachmentFile {
    std::string name;
    std::string bytes;
  };
  Result<AttachmentFile> attachmentFile(const auth::Principal& caller, std::int64_t id,
                                        std::int64_t attachment_id);
  //! The applicant submits a draft with evidence (text or a file) for every indicator.
  Result<Application> submit(const auth::Principal& caller, std::int64_t id);
  //! The applicant, and admins of the entity's region or an ancestor, read an application.
  Result<Application> application(const auth::Principal& caller, std::int64_t id);
  std::vector<Application> applications(const auth::Principal& caller,
                                        const ApplicationFilter& filter);

  //! An admin of the entity's region or an ancestor (not the applicant) scores every indicator;
  //! a submitted or scored application may be scored again until it is decided.
  Result<Application> score(const auth::Principal& caller, std::int64_t id,
                            const std::map<std::string, int>& scores, const std::string& comment);
  //! Awards the title from today for the criteria's validity, if the scores pass.
  Result<Application> award(const auth::Principal& caller, std::int64_t id);
  Result<Application> reject(const auth::Principal& caller, std::int64_t id,
                             const std::string& reason);

  //! Public.
  Result<TitlePage> titles(const TitleFilter& filter);
  Result<Title> title(std::int64_t id);
  //! An admin of the title's region or an ancestor revokes a valid title with a reason.
  Result<Title> revoke(const auth::Principal& caller, std::int64_t id, const std::string& reason);

 private:
  Result<Criteria> draftCriteriaOnce(const auth::Principal& caller, const CriteriaContent& content);
  Result<Criteria> publishCriteriaOnce(const auth::Principal& caller, std::int64_t id);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::programme
