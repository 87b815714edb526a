#pragma once
// Public ideas (集思广益): the province opens topics; anyone may post an idea with a contact, which
// is personal data and never shown publicly; a moderator (a province admin or a province-wide
// editor) lets it show or rejects it with a reason; signed-in users support a shown idea once
// each; the province marks ideas adopted and links them to the methodology proposals or policies
// they led to. Every change is audited in its own transaction.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}
namespace tph::methodology {
class MethodologyService;
}

namespace tph::content {

inline constexpr std::size_t kMaxIdeaTitleBytes = 200;
inline constexpr std::size_t kMaxIdeaBodyBytes = 5000;
inline constexpr std::size_t kMaxContactBytes = 200;
//! Ideas one client address may post per hour, so a script cannot flood the moderators.
inline constexpr int kMaxIdeasPerAddressPerHour = 5;
inline constexpr std::size_t kMaxIdeaLinks = 10;

struct IdeaTopic {
  std::int64_t id = 0;
  std::string title_zh, description_zh;
  std::string state;  //!< open, closed
  std::optional<Instant> closes_at;
  Instant created_at;
  std::int64_t visible_ideas = 0;
};

struct NewIdea {
  std::string title, body, display_name, contact;
  std::string client_address;
};

struct IdeaLink {
  std::string kind;  //!< methodology_proposal, policy
  std::optional<std::int64_t> proposal_id;
  std::string title, url;
};

struct Idea {
  std::int64_t id = 0;
  std::int64_t topic_id = 0;
  std::string title, body, display_name;
  std::string contact;  //!< "" unless read by a moderator
  std::string state;    //!< pending, visible, rejected, adopted
  std::string moderation_reason;
  std::string adoption_note;
  std::vector<IdeaLink> links;
  std::int64_t supports = 0;
  Instant created_at;
  std::optional<Instant> adopted_at;
};

//! Shared between threads: holds no state of its own beyond references.
class IdeaService {
 public:
  IdeaService(store::Database& db, const Clock& clock,
              methodology::MethodologyService& methodologies)
      : db_(db), clock_(clock), methodologies_(methodologies) {}

  Result<IdeaTopic> openTopic(const auth::Principal& caller, const std::string& title_zh,
                              const std::string& description_zh, std::optional<Instant> closes_at);
  Result<IdeaTopic> closeTopic(const auth::Principal& caller, std::int64_t id);
  std::vector<IdeaTopic> topics();

  //! Anyone; `author` is the signed-in poster, if any. The idea waits for moderation.
  Result<Idea> post(const auth::Principal* author, std::int64_t topic_id, const NewIdea& idea);
  //! Shown and adopted ideas of a topic, most supported first; no contacts.
  Result<std::vector<Idea>> shown(std::int64_t topic_id);
  //! Pending ideas with their contacts, oldest first, for moderators.
  Result<std::vector<Idea>> pending(const auth::Principal& caller);
  Result<Idea> moderate(const auth::Principal& caller, std::int64_t id, bool approve,
                        const std::string& reason);
  //! Once per user and idea; a second support is a conflict.
  Result<Idea> support(const auth::Principal& caller, std::int64_t id);
  Result<Idea> adopt(const auth::Principal& caller, std::int64_t id, const std::string& note,
                     const std::vector<IdeaLink>& links);

 private:
  //! `idea` with its contact opened, for moderators.
  Idea opened(Idea idea) const;

  store::Database& db_;
  const Clock& clock_;
  methodology::MethodologyService& methodologies_;
};

}  // namespace tph::content
