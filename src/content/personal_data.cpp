#include "content/personal_data.h"

#include "store/json_export.h"

namespace tph::content {

nlohmann::json exportIdeas(soci::session& sql, std::int64_t user_id) {
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
  return out;
}

void eraseIdeaAuthorship(soci::session& sql, std::int64_t user_id) {
  long long uid = user_id;
  sql << "UPDATE content_ideas SET display_name = '', contact = '', client_address = '', "
         "author_user_id = NULL WHERE author_user_id = :u",
      soci::use(uid);
}

}  // namespace tph::content
