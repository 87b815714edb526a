#include "content/idea_service.h"

#include <algorithm>

#include "audit/audit_log.h"
#include "content/idea_store.h"
#include "content/markdown.h"
#include "content/text_fields.h"
#include "core/crypto.h"
#include "methodology/methodology_service.h"
#include "store/data_key.h"
#include "store/database.h"

namespace tph::content {

namespace {

using auth::Role;
using detail::validUtf8;
using nlohmann::json;

constexpr std::int64_t kHourMs = 3'600'000;

bool isModerator(const auth::Principal& caller) {
  return caller.hasRole(Role::kProvinceAdmin) || caller.actsInRegion(Role::kEditor, "440000");
}

Status checkText(const std::string& value, const std::string& field, std::size_t max_bytes) {
  if (value.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Error::invalid(field, "is required");
  }
  if (value.size() > max_bytes) {
    return Error::invalid(field, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!validUtf8(value)) return Error::invalid(field, "is not valid UTF-8");
  return {};
}

Error noIdea(std::int64_t id) {
  return Error::notFound("no idea " + std::to_string(id), "id");
}

constexpr const char* kIdeaContact = "content_ideas.contact";
constexpr const char* kIdeaAddress = "content_ideas.client_address";

//! What the public sees of an idea: never the contact.
Idea withoutContact(Idea idea) {
  idea.contact.clear();
  return idea;
}

}  // namespace

Idea IdeaService::opened(Idea idea) const {
  idea.contact = store::dataCipher().reveal(idea.contact, kIdeaContact);
  return idea;
}

Result<IdeaTopic> IdeaService::openTopic(const auth::Principal& caller, const std::string& title_zh,
                                         const std::string& description_zh,
                                         std::optional<Instant> closes_at) {
  if (!caller.hasRole(Role::kProvinceAdmin)) {
    return Error::forbidden("only the province opens a topic for ideas");
  }
  TPH_TRY(checkText(title_zh, "title_zh", kMaxIdeaTitleBytes));
  TPH_TRY(checkText(description_zh, "description_zh", kMaxIdeaBodyBytes));
  if (closes_at && *closes_at <= clock_.now()) {
    return Error::invalid("closes_at", "must be in the future");
  }
  return db_.transaction([&](soci::session& sql) -> Result<IdeaTopic> {
    std::optional<std::int64_t> closes_ms;
    if (closes_at) closes_ms = toEpochMs(*closes_at);
    auto id = detail::insertTopic(sql, title_zh, description_zh, closes_ms, caller.auditActor(),
                                  toEpochMs(clock_.now()));
    json payload = {{"title_zh", title_zh}};
    if (closes_at) payload["closes_at"] = formatIso8601(*closes_at);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "content.idea_topic.open",
                             "idea_topic:" + std::to_string(id), payload});
    return *detail::findTopic(sql, id);
  });
}

Result<IdeaTopic> IdeaService::closeTopic(const auth::Principal& caller, std::int64_t id) {
  if (!caller.hasRole(Role::kProvinceAdmin)) return Error::forbidden("only the province closes");
  return db_.transaction([&](soci::session& sql) -> Result<IdeaTopic> {
    auto topic = detail::findTopic(sql, id);
    if (!topic) return Error::notFound("no topic " + std::to_string(id), "id");
    if (topic->state != "open") return Error::conflict("the topic is closed already", "state");
    detail::closeTopic(sql, id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "content.idea_topic.close", "idea_topic:" + std::to_string(id)});
    return *detail::findTopic(sql, id);
  });
}

std::vector<IdeaTopic> IdeaService::topics() {
  return db_.read([](soci::session& sql) { return detail::listTopics(sql); });
}

Result<Idea> IdeaService::post(const auth::Principal* author, std::int64_t topic_id,
                               const NewIdea& idea) {
  TPH_TRY(checkText(idea.title, "title", kMaxIdeaTitleBytes));
  TPH_TRY(checkText(idea.body, "body", kMaxIdeaBodyBytes));
  TPH_TRY(checkText(idea.display_name, "display_name", 60));
  TPH_TRY(checkText(idea.contact, "contact", kMaxContactBytes));
  return db_.transaction([&](soci::session& sql) -> Result<Idea> {
    auto topic = detail::findTopic(sql, topic_id);
    if (!topic) return Error::notFound("no topic " + std::to_string(topic_id), "topic_id");
    auto now = clock_.now();
    if (topic->state != "open" || (topic->closes_at && *topic->closes_at <= now)) {
      return Error::conflict("the topic no longer takes ideas", "topic_id");
    }
    auto now_ms = toEpochMs(now);
    // Stored as it is compared: the address is counted, never kept in clear, and the contact is
    // sealed for the moderators.
    NewIdea stored = idea;
    stored.client_address = store::dataCipher().fingerprint(idea.client_address, kIdeaAddress);
    stored.contact = store::dataCipher().seal(idea.contact, kIdeaContact);
    if (detail::ideasFromAddressSince(sql, stored.client_address, now_ms - kHourMs) >=
        kMaxIdeasPerAddressPerHour) {
      return Error::rateLimited("at most " + std::to_string(kMaxIdeasPerAddressPerHour) +
                                " ideas an hour from one address");
    }
    std::optional<std::int64_t> author_id;
    if (author) author_id = author->user_id;
    auto id = detail::insertIdea(sql, topic_id, stored, author_id, now_ms);
    // The contact is personal data: the chain keeps its hash only.
    audit::appendAuditEvent(sql, clock_,
                            {author ? author->auditActor() : "public",
                             "content.idea.post",
                             "idea:" + std::to_string(id),
                             {{"topic_id", topic_id},
                              {"title", idea.title},
                              {"body_sha256", sha256Hex(idea.body)},
                              {"contact_sha256", sha256Hex(idea.contact)}}});
    return withoutContact(*detail::findIdea(sql, id));
  });
}

Result<std::vector<Idea>> IdeaService::shown(std::int64_t topic_id) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<Idea>> {
    if (!detail::findTopic(sql, topic_id)) {
      return Error::notFound("no topic " + std::to_string(topic_id), "topic_id");
    }
    std::vector<Idea> out;
    for (auto id : detail::ideaIds(sql, topic_id, {"visible", "adopted"}, true)) {
      out.push_back(withoutContact(*detail::findIdea(sql, id)));
    }
    return out;
  });
}

Result<std::vector<Idea>> IdeaService::pending(const auth::Principal& caller) {
  if (!isModerator(caller)) return Error::forbidden("only moderators see pending ideas");
  return db_.read([&](soci::session& sql) {
    std::vector<Idea> out;
    for (auto id : detail::ideaIds(sql, std::nullopt, {"pending"}, false)) {
      out.push_back(opened(*detail::findIdea(sql, id)));
    }
    return out;
  });
}

Result<Idea> IdeaService::moderate(const auth::Principal& caller, std::int64_t id, bool approve,
                                   const std::string& reason) {
  if (!isModerator(caller)) return Error::forbidden("only moderators decide on ideas");
  if (!approve) TPH_TRY(checkText(reason, "reason", 1000));
  if (reason.size() > 1000 || !validUtf8(reason)) {
    return Error::invalid("reason", "must be UTF-8 text of at most 1000 bytes");
  }
  return db_.transaction([&](soci::session& sql) -> Result<Idea> {
    auto idea = detail::findIdea(sql, id, true);
    if (!idea) return noIdea(id);
    if (idea->state != "pending") return Error::conflict("the idea is " + idea->state, "state");
    std::string state = approve ? "visible" : "rejected";
    detail::setModerated(sql, id, state, reason, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             approve ? "content.idea.approve" : "content.idea.reject",
                             "idea:" + std::to_string(id),
                             {{"reason", reason}}});
    return opened(*detail::findIdea(sql, id));
  });
}

Result<Idea> IdeaService::support(const auth::Principal& caller, std::int64_t id) {
  try {
    return db_.transaction([&](soci::session& sql) -> Result<Idea> {
      auto idea = detail::findIdea(sql, id, true);
      if (!idea || (idea->state != "visible" && idea->state != "adopted")) return noIdea(id);
      if (!detail::insertSupport(sql, id, caller.user_id, toEpochMs(clock_.now()))) {
        return Error::conflict("you support this idea already", "id");
      }
      audit::appendAuditEvent(
          sql, clock_, {caller.auditActor(), "content.idea.support", "idea:" + std::to_string(id)});
      return withoutContact(*detail::findIdea(sql, id));
    });
  } catch (const std::exception& e) {
    // Two supports by one user racing: the primary key lets one through.
    if (store::isUniqueViolation(e)) {
      return Error::conflict("you support this idea already", "id");
    }
    throw;
  }
}

Result<Idea> IdeaService::adopt(const auth::Principal& caller, std::int64_t id,
                                const std::string& note, const std::vector<IdeaLink>& links) {
  if (!caller.hasRole(Role::kProvinceAdmin)) {
    return Error::forbidden("only the province adopts ideas");
  }
  TPH_TRY(checkText(note, "note", 2000));
  if (links.size() > kMaxIdeaLinks) {
    return Error::invalid("links", "at most " + std::to_string(kMaxIdeaLinks) + " links");
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    const auto& link = links[i];
    std::string where = "links[" + std::to_string(i) + "]";
    if (link.kind == "methodology_proposal") {
      if (!link.proposal_id) return Error::invalid(where + ".proposal_id", "is required");
      auto all = methodologies_.proposals(caller);
      if (!all) return all.error();
      bool found = std::any_of(all->begin(), all->end(), [&](const methodology::Proposal& p) {
        return p.id == *link.proposal_id;
      });
      if (!found) return Error::invalid(where + ".proposal_id", "no such methodology proposal");
    } else if (link.kind == "policy") {
      TPH_TRY(checkText(link.title, where + ".title", 300));
      if (!link.url.empty() && (!isAllowedLinkUrl(link.url) || link.url.rfind("mailto:", 0) == 0 ||
                                link.url.size() > 1000)) {
        return Error::invalid(where + ".url", "must be an http or https URL");
      }
    } else {
      return Error::invalid(where + ".kind", "must be methodology_proposal or policy");
    }
  }
  return db_.transaction([&](soci::session& sql) -> Result<Idea> {
    auto idea = detail::findIdea(sql, id, true);
    if (!idea) return noIdea(id);
    if (idea->state != "visible") {
      return Error::conflict("only a shown idea is adopted; this one is " + idea->state, "state");
    }
    detail::setAdopted(sql, id, note, links, caller.auditActor(), toEpochMs(clock_.now()));
    json links_json = json::array();
    for (const auto& l : links) {
      links_json.push_back({{"kind", l.kind},
                            {"proposal_id", l.proposal_id ? json(*l.proposal_id) : json(nullptr)},
                            {"title", l.title},
                            {"url", l.url}});
    }
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "content.idea.adopt",
                             "idea:" + std::to_string(id),
                             {{"note", note}, {"links", links_json}}});
    return withoutContact(*detail::findIdea(sql, id));
  });
}

}  // namespace tph::content
