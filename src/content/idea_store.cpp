#include "content/idea_store.h"

#include "store/database.h"

namespace tph::content::detail {

namespace {

std::optional<Instant> optionalInstant(const soci::row& row, std::size_t column) {
  auto ms = store::rowOptionalInt64(row, column);
  if (!ms) return std::nullopt;
  return fromEpochMs(*ms);
}

std::vector<IdeaLink> linksOf(soci::session& sql, std::int64_t idea_id) {
  long long key = idea_id;
  std::vector<IdeaLink> links;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT kind, proposal_id, title, url FROM content_idea_links WHERE "
                      "idea_id = :i ORDER BY id",
       soci::use(key));
  for (const auto& row : rows) {
    links.push_back({store::rowText(row, 0), store::rowOptionalInt64(row, 1),
                     store::rowText(row, 2), store::rowText(row, 3)});
  }
  return links;
}

}  // namespace

std::int64_t insertTopic(soci::session& sql, const std::string& title, const std::string& text,
                         std::optional<std::int64_t> closes_at_ms, const std::string& actor,
                         std::int64_t now_ms) {
  long long id = 0, now = now_ms, closes = closes_at_ms.value_or(0);
  soci::indicator closes_ind = closes_at_ms ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO content_idea_topics (title_zh, description_zh, state, closes_at_ms, "
         "opened_by, created_at_ms) VALUES (:t, :d, 'open', :c, :a, :n) RETURNING id",
      soci::use(title), soci::use(text), soci::use(closes, closes_ind), soci::use(actor),
      soci::use(now), soci::into(id);
  return id;
}

std::optional<IdeaTopic> findTopic(soci::session& sql, std::int64_t id) {
  long long key = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT t.id, t.title_zh, t.description_zh, t.state, t.closes_at_ms, "
                      "t.created_at_ms, (SELECT COUNT(*) FROM content_ideas i WHERE i.topic_id = "
                      "t.id AND i.state IN ('visible', 'adopted')) FROM content_idea_topics t "
                      "WHERE t.id = :id",
       soci::use(key));
  for (const auto& row : rows) {
    IdeaTopic t;
    t.id = store::rowInt64(row, 0);
    t.title_zh = store::rowText(row, 1);
    t.description_zh = store::rowText(row, 2);
    t.state = store::rowText(row, 3);
    t.closes_at = optionalInstant(row, 4);
    t.created_at = fromEpochMs(store::rowInt64(row, 5));
    t.visible_ideas = store::rowInt64(row, 6);
    return t;
  }
  return std::nullopt;
}

std::vector<IdeaTopic> listTopics(soci::session& sql) {
  std::vector<std::int64_t> ids;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM content_idea_topics ORDER BY id DESC");
  for (const auto& row : rows) ids.push_back(store::rowInt64(row, 0));
  std::vector<IdeaTopic> out;
  for (auto id : ids) out.push_back(*findTopic(sql, id));
  return out;
}

void closeTopic(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_idea_topics SET state = 'closed', closed_at_ms = :n WHERE id = :i",
      soci::use(now), soci::use(key);
}

int ideasFromAddressSince(soci::session& sql, const std::string& address, std::int64_t since_ms) {
  long long since = since_ms;
  int n = 0;
  sql << "SELECT COUNT(*) FROM content_ideas WHERE client_address = :a AND created_at_ms >= :s",
      soci::use(address), soci::use(since), soci::into(n);
  return n;
}

std::int64_t insertIdea(soci::session& sql, std::int64_t topic_id, const NewIdea& idea,
                        std::optional<std::int64_t> author_user_id, std::int64_t now_ms) {
  long long id = 0, topic = topic_id, now = now_ms, author = author_user_id.value_or(0);
  soci::indicator author_ind = author_user_id ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO content_ideas (topic_id, title, body, display_name, contact, "
         "author_user_id, client_address, state, created_at_ms) VALUES (:t, :ti, :b, :d, :c, :u, "
         ":a, 'pending', :n) RETURNING id",
      soci::use(topic), soci::use(idea.title), soci::use(idea.body), soci::use(idea.display_name),
      soci::use(idea.contact), soci::use(author, author_ind), soci::use(idea.client_address),
      soci::use(now), soci::into(id);
  return id;
}

std::optional<Idea> findIdea(soci::session& sql, std::int64_t id, bool lock) {
  long long key = id;
  std::string query =
      "SELECT i.id, i.topic_id, i.title, i.body, i.display_name, i.contact, i.state, "
      "i.moderation_reason, i.adoption_note, i.created_at_ms, i.adopted_at_ms, (SELECT COUNT(*) "
      "FROM content_idea_supports s WHERE s.idea_id = i.id) FROM content_ideas i WHERE i.id = :id";
  if (lock && store::backendOf(sql) == store::Backend::kPostgresql) {
    query += " FOR UPDATE OF i";
  }
  std::optional<Idea> out;
  {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
    for (const auto& row : rows) {
      Idea i;
      i.id = store::rowInt64(row, 0);
      i.topic_id = store::rowInt64(row, 1);
      i.title = store::rowText(row, 2);
      i.body = store::rowText(row, 3);
      i.display_name = store::rowText(row, 4);
      i.contact = store::rowText(row, 5);
      i.state = store::rowText(row, 6);
      i.moderation_reason = store::rowText(row, 7);
      i.adoption_note = store::rowText(row, 8);
      i.created_at = fromEpochMs(store::rowInt64(row, 9));
      i.adopted_at = optionalInstant(row, 10);
      i.supports = store::rowInt64(row, 11);
      out = std::move(i);
      break;
    }
  }
  if (out) out->links = linksOf(sql, out->id);
  return out;
}

std::vector<std::int64_t> ideaIds(soci::session& sql, std::optional<std::int64_t> topic_id,
                                  const std::vector<std::string>& states, bool by_support) {
  std::string query = "SELECT i.id FROM content_ideas i WHERE i.state IN (";
  for (std::size_t k = 0; k < states.size(); ++k) {
    query += (k ? ", '" : "'") + states[k] + "'";  // fixed words from the service, never input
  }
  query += ")";
  long long topic = topic_id.value_or(0);
  if (topic_id) query += " AND i.topic_id = :t";
  query += by_support ? " ORDER BY (SELECT COUNT(*) FROM content_idea_supports s WHERE "
                        "s.idea_id = i.id) DESC, i.id"
                      : " ORDER BY i.id";
  query += " LIMIT 500";
  std::vector<std::int64_t> ids;
  if (topic_id) {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(topic));
    for (const auto& row : rows) ids.push_back(store::rowInt64(row, 0));
  } else {
    soci::rowset<soci::row> rows = (sql.prepare << query);
    for (const auto& row : rows) ids.push_back(store::rowInt64(row, 0));
  }
  return ids;
}

void setModerated(soci::session& sql, std::int64_t id, const std::string& state,
                  const std::string& reason, const std::string& actor, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_ideas SET state = :s, moderation_reason = :r, moderated_by = :a, "
         "moderated_at_ms = :n WHERE id = :i",
      soci::use(state), soci::use(reason), soci::use(actor), soci::use(now), soci::use(key);
}

bool insertSupport(soci::session& sql, std::int64_t idea_id, std::int64_t user_id,
                   std::int64_t now_ms) {
  long long idea = idea_id, user = user_id, now = now_ms;
  int n = 0;
  sql << "SELECT COUNT(*) FROM content_idea_supports WHERE idea_id = :i AND user_id = :u",
      soci::use(idea), soci::use(user), soci::into(n);
  if (n > 0) return false;
  sql << "INSERT INTO content_idea_supports (idea_id, user_id, created_at_ms) VALUES (:i, :u, :n)",
      soci::use(idea), soci::use(user), soci::use(now);
  return true;
}

void setAdopted(soci::session& sql, std::int64_t id, const std::string& note,
                const std::vector<IdeaLink>& links, const std::string& actor, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_ideas SET state = 'adopted', adoption_note = :o, adopted_by = :a, "
         "adopted_at_ms = :n WHERE id = :i",
      soci::use(note), soci::use(actor), soci::use(now), soci::use(key);
  for (const auto& link : links) {
    long long proposal = link.proposal_id.value_or(0);
    soci::indicator ind = link.proposal_id ? soci::i_ok : soci::i_null;
    sql << "INSERT INTO content_idea_links (idea_id, kind, proposal_id, title, url) VALUES (:i, "
           ":k, :p, :t, :u)",
        soci::use(key), soci::use(link.kind), soci::use(proposal, ind), soci::use(link.title),
        soci::use(link.url);
  }
}

}  // namespace tph::content::detail
