#include "programme/personal_data.h"

#include "store/data_key.h"
#include "store/json_export.h"

namespace tph::programme {

nlohmann::json exportApplications(soci::session& sql, const FieldCipher& cipher,
                                  std::int64_t user_id) {
  auto rows = store::queryAsJson(
      sql,
      "SELECT id, programme_type, state, entity_name, entity_type, region_code AS region, address, "
      "lon_micro, lat_micro, contact, submitted_at_ms, decision_reason, created_at_ms "
      "FROM programme_applications WHERE applicant_user_id = :id ORDER BY id",
      user_id);
  store::revealSealed(rows, cipher, "contact", "programme_applications.contact");
  return rows;
}

void eraseApplicationContacts(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  sql << "UPDATE programme_applications SET contact = '' WHERE applicant_user_id = :u",
      soci::use(uid);
}

std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher) {
  return store::sealPlainColumn(sql, cipher, "programme_applications", "id", "contact");
}

}  // namespace tph::programme
