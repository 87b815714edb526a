#include "methodology/personal_data.h"

#include "store/json_export.h"

namespace tph::methodology {

nlohmann::json exportProposals(soci::session& sql, std::int64_t user_id) {
  return store::queryAsJson(
      sql,
      "SELECT id, title, domain, description, contact, region_code AS region, status, "
      "created_at_ms FROM methodology_proposals WHERE proposer_user_id = :id ORDER BY id",
      user_id);
}

void eraseProposalContacts(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  sql << "UPDATE methodology_proposals SET contact = '' WHERE proposer_user_id = :u",
      soci::use(uid);
}

}  // namespace tph::methodology
