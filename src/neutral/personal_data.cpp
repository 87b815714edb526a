#include "neutral/personal_data.h"

#include "store/json_export.h"

namespace tph::neutral {

nlohmann::json exportNeutralEvents(soci::session& sql, std::int64_t user_id) {
  return store::queryAsJson(
      sql,
      "SELECT id, slug, kind, name, organiser_name, starts_on, ends_on, city, venue, inputs_json, "
      "footprint_grams, units_required, units_retired, neutralised_with, points_paid, "
      "created_at_ms, neutralised_at_ms FROM neutral_events WHERE organiser_user_id = :id "
      "ORDER BY id",
      user_id);
}

void erasePersonalFootprintNames(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  sql << "UPDATE neutral_events SET organiser_name = '' WHERE organiser_user_id = :u "
         "AND kind = 'personal'",
      soci::use(uid);
}

}  // namespace tph::neutral
