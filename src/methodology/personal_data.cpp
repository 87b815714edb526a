#include "methodology/personal_data.h"

#include "store/data_key.h"
#include "store/json_export.h"

namespace tph::methodology {

nlohmann::json exportProposals(soci::session& sql, const FieldCipher& cipher,
                               std::int64_t user_id) {
  auto rows = store::queryAsJson(
      sql,
      "SELECT id, title, domain, description, contact, region_code AS region, status, "
      "created_at_ms FROM methodology_proposals WHERE proposer_user_id = :id ORDER BY id",
      user_id);
  store::revealSealed(rows, cipher, "contact", "methodology_proposals.contact");
  return rows;
}

void eraseProposalContacts(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  sql << "UPDATE methodology_proposals SET contact = '' WHERE proposer_user_id = :u",
      soci::use(uid);
}

std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher) {
  return store::sealPlainColumn(sql, cipher, "methodology_proposals", "id", "contact");
}

}  // namespace tph::methodology
