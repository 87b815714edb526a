#pragma once
// SQL of public ideas. Internal to src/content.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "content/idea_service.h"

namespace tph::content::detail {

std::int64_t insertTopic(soci::session& sql, const std::string& title, const std::string& text,
                         std::optional<std::int64_t> closes_at_ms, const std::string& actor,
                         std::int64_t now_ms);
std::optional<IdeaTopic> findTopic(soci::session& sql, std::int64_t id);
std::vector<IdeaTopic> listTopics(soci::session& sql);
void closeTopic(soci::session& sql, std::int64_t id, std::int64_t now_ms);

int ideasFromAddressSince(soci::session& sql, const std::string& address, std::int64_t since_ms);
std::int64_t insertIdea(soci::session& sql, std::int64_t topic_id, const NewIdea& idea,
                        std::optional<std::int64_t> author_user_id, std::int64_t now_ms);
//! With the contact; FOR UPDATE on PostgreSQL when `lock`.
std::optional<Idea> findIdea(soci::session& sql, std::int64_t id, bool lock = false);
//! Ids of a topic's ideas in these states, most supported first.
std::vector<std::int64_t> ideaIds(soci::session& sql, std::optional<std::int64_t> topic_id,
                                  const std::vector<std::string>& states, bool by_support);
void setModerated(soci::session& sql, std::int64_t id, const std::string& state,
                  const std::string& reason, const std::string& actor, std::int64_t now_ms);
//! False when the user supports the idea already.
bool insertSupport(soci::session& sql, std::int64_t idea_id, std::int64_t user_id,
                   std::int64_t now_ms);
void setAdopted(soci::session& sql, std::int64_t id, const std::string& note,
                const std::vector<IdeaLink>& links, const std::string& actor, std::int64_t now_ms);

}  // namespace tph::content::detail
