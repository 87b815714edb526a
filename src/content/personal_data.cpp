#include "content/personal_data.h"

#include <utility>
#include <vector>

#include "store/data_key.h"
#include "store/database.h"
#include "store/json_export.h"

namespace tph::content {

nlohmann::json exportIdeas(soci::session& sql, const FieldCipher& cipher, std::int64_t user_id) {
  nlohmann::json out = nlohmann::json::object();
  out["supported_ideas"] = store::queryAsJson(
      sql,
      "SELECT idea_id, created_at_ms FROM content_idea_supports WHERE user_id = :id "
      "ORDER BY created_at_ms",
      user_id);
  out["ideas"] = store::queryAsJson(
      sql,
      "SELECT i.id, t.title_zh AS topic, i.title, i.body, i.display_name, i.contact, i.state, "
      "i.moderation_reason, i.adoption_note, i.created_at_ms FROM content_ideas i "
      "JOIN content_idea_topics t ON t.id = i.topic_id WHERE i.author_user_id = :id ORDER BY i.id",
      user_id);
  store::revealSealed(out["ideas"], cipher, "contact", "content_ideas.contact");
  return out;
}

void eraseIdeaAuthorship(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  sql << "UPDATE content_ideas SET display_name = '', contact = '', client_address = '', "
         "author_user_id = NULL WHERE author_user_id = :u",
      soci::use(uid);
}

std::int64_t sealPlainContacts(soci::session& sql, const FieldCipher& cipher) {
  auto sealed = store::sealPlainColumn(sql, cipher, "content_ideas", "id", "contact");
  // A fingerprint is 64 hex digits; anything else is an address kept from before.
  std::vector<std::pair<long long, std::string>> plain;
  {
    soci::rowset<soci::row> rows = sql.prepare << "SELECT id, client_address FROM content_ideas "
                                                  "WHERE client_address <> ''";
    for (const auto& row : rows) {
      auto address = store::rowText(row, 1);
      bool fingerprinted = address.size() == 64 &&
                           address.find_first_not_of("0123456789abcdef") == std::string::npos;
      if (!fingerprinted) plain.emplace_back(store::rowInt64(row, 0), std::move(address));
    }
  }
  for (const auto& [id, address] : plain) {
    auto fingerprint = cipher.fingerprint(address, "content_ideas.client_address");
    sql << "UPDATE content_ideas SET client_address = :a WHERE id = :id", soci::use(fingerprint),
        soci::use(id);
  }
  return sealed + static_cast<std::int64_t>(plain.size());
}

}  // namespace tph::content
