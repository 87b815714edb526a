#include "content/content_store.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "content/search_snippet.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::content::detail {

namespace {

bool isPostgres(soci::session& sql) {
  return store::backendOf(sql) == store::Backend::kPostgresql;
}

const char* kArticleColumns =
    "SELECT id, slug, kind, region_code, state, title_zh, summary_zh, body_md_zh, body_html_zh, "
    "title_en, summary_en, body_md_en, body_html_en, tags_json, cover_sha256, author, reviewer, "
    "review_comment, created_at_ms, updated_at_ms, submitted_at_ms, published_at_ms, "
    "archived_at_ms FROM content_articles ";

std::optional<Instant> optionalInstant(const soci::row& row, std::size_t column) {
  auto ms = store::rowOptionalInt64(row, column);
  if (!ms) return std::nullopt;
  return fromEpochMs(*ms);
}

Article articleFromRow(const soci::row& row) {
  Article a;
  a.id = store::rowInt64(row, 0);
  a.slug = store::rowText(row, 1);
  a.kind = store::rowText(row, 2);
  a.region_code = store::rowText(row, 3);
  a.state = store::rowText(row, 4);
  a.title_zh = store::rowText(row, 5);
  a.summary_zh = store::rowText(row, 6);
  a.body_md_zh = store::rowText(row, 7);
  a.body_html_zh = store::rowText(row, 8);
  a.title_en = store::rowText(row, 9);
  a.summary_en = store::rowText(row, 10);
  a.body_md_en = store::rowText(row, 11);
  a.body_html_en = store::rowText(row, 12);
  a.tags = nlohmann::json::parse(store::rowText(row, 13)).get<std::vector<std::string>>();
  a.cover_sha256 = store::rowText(row, 14);
  a.author = store::rowText(row, 15);
  a.reviewer = store::rowText(row, 16);
  a.review_comment = store::rowText(row, 17);
  a.created_at = fromEpochMs(store::rowInt64(row, 18));
  a.updated_at = fromEpochMs(store::rowInt64(row, 19));
  a.submitted_at = optionalInstant(row, 20);
  a.published_at = optionalInstant(row, 21);
  a.archived_at = optionalInstant(row, 22);
  return a;
}

template <class Key>
std::optional<Article> findOne(soci::session& sql, const std::string& where, const Key& key) {
  Key value = key;
  soci::rowset<soci::row> rows = (sql.prepare << kArticleColumns + where, soci::use(value));
  for (const auto& row : rows) return articleFromRow(row);
  return std::nullopt;
}

std::string toBase64(const std::string& bytes) {
  ensureSodium();
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string fromBase64(const std::string& text) {
  ensureSodium();
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    throw std::runtime_error("content_media holds invalid base64");
  }
  out.resize(length);
  return out;
}

std::string escapeLike(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

bool regionExists(soci::session& sql, const std::string& code) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

bool slugTaken(soci::session& sql, const std::string& slug, std::int64_t except_id) {
  long long id = except_id;
  int n = 0;
  sql << "SELECT COUNT(*) FROM content_articles WHERE slug = :s AND id <> :i", soci::use(slug),
      soci::use(id), soci::into(n);
  return n > 0;
}

std::int64_t insertArticle(soci::session& sql, const Article& a) {
  long long id = 0, now = toEpochMs(a.created_at);
  // A provisional slug keeps the column unique until the id is known.
  std::string slug = a.slug.empty() ? "new-" + randomHex(8) : a.slug;
  std::string tags = nlohmann::json(a.tags).dump();
  sql << "INSERT INTO content_articles (slug, kind, region_code, state, title_zh, summary_zh, "
         "body_md_zh, body_html_zh, title_en, summary_en, body_md_en, body_html_en, tags_json, "
         "author, created_at_ms, updated_at_ms) VALUES (:slug, :kind, :region, 'draft', :tz, :sz, "
         ":bz, :hz, :te, :se, :be, :he, :tags, :author, :c, :u) RETURNING id",
      soci::use(slug), soci::use(a.kind), soci::use(a.region_code), soci::use(a.title_zh),
      soci::use(a.summary_zh), soci::use(a.body_md_zh), soci::use(a.body_html_zh),
      soci::use(a.title_en), soci::use(a.summary_en), soci::use(a.body_md_en),
      soci::use(a.body_html_en), soci::use(tags), soci::use(a.author), soci::use(now),
      soci::use(now), soci::into(id);
  if (a.slug.empty()) {
    std::string chosen = a.kind + "-" + std::to_string(id);
    sql << "UPDATE content_articles SET slug = :s WHERE id = :i", soci::use(chosen), soci::use(id);
  }
  return id;
}

void updateContent(soci::session& sql, const Article& a) {
  long long id = a.id, now = toEpochMs(a.updated_at);
  std::string tags = nlohmann::json(a.tags).dump();
  sql << "UPDATE content_articles SET slug = :slug, kind = :kind, region_code = :region, "
         "title_zh = :tz, summary_zh = :sz, body_md_zh = :bz, body_html_zh = :hz, title_en = :te, "
         "summary_en = :se, body_md_en = :be, body_html_en = :he, tags_json = :tags, "
         "updated_at_ms = :u WHERE id = :id",
      soci::use(a.slug), soci::use(a.kind), soci::use(a.region_code), soci::use(a.title_zh),
      soci::use(a.summary_zh), soci::use(a.body_md_zh), soci::use(a.body_html_zh),
      soci::use(a.title_en), soci::use(a.summary_en), soci::use(a.body_md_en),
      soci::use(a.body_html_en), soci::use(tags), soci::use(now), soci::use(id);
}

void replaceTags(soci::session& sql, std::int64_t id, const std::vector<std::string>& tags) {
  long long key = id;
  sql << "DELETE FROM content_article_tags WHERE article_id = :i", soci::use(key);
  for (const auto& tag : tags) {
    sql << "INSERT INTO content_article_tags (article_id, tag) VALUES (:i, :t)", soci::use(key),
        soci::use(tag);
  }
}

std::optional<Article> findArticleForUpdate(soci::session& sql, std::int64_t id) {
  long long key = id;
  return findOne(sql, isPostgres(sql) ? "WHERE id = :id FOR UPDATE" : "WHERE id = :id", key);
}

std::optional<Article> findArticle(soci::session& sql, std::int64_t id) {
  long long key = id;
  return findOne(sql, "WHERE id = :id", key);
}

std::optional<Article> findArticleBySlug(soci::session& sql, const std::string& slug) {
  return findOne(sql, "WHERE slug = :s", slug);
}

void setSubmitted(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_articles SET state = 'in_review', submitted_at_ms = :t, "
         "updated_at_ms = :u WHERE id = :i",
      soci::use(now), soci::use(now), soci::use(key);
}

void setPublished(soci::session& sql, std::int64_t id, const std::string& reviewer,
                  const std::string& comment, const std::string& search_text, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_articles SET state = 'published', reviewer = :r, review_comment = :c, "
         "search_text = :s, published_at_ms = :t, updated_at_ms = :u WHERE id = :i",
      soci::use(reviewer), soci::use(comment), soci::use(search_text), soci::use(now),
      soci::use(now), soci::use(key);
  if (!isPostgres(sql)) {
    sql << "DELETE FROM content_search WHERE rowid = :i", soci::use(key);
    sql << "INSERT INTO content_search (rowid, text) VALUES (:i, :s)", soci::use(key),
        soci::use(search_text);
  }
}

void setReturned(soci::session& sql, std::int64_t id, const std::string& reviewer,
                 const std::string& comment, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_articles SET state = 'draft', reviewer = :r, review_comment = :c, "
         "updated_at_ms = :u WHERE id = :i",
      soci::use(reviewer), soci::use(comment), soci::use(now), soci::use(key);
}

void setArchived(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_articles SET state = 'archived', search_text = '', archived_at_ms = :t, "
         "updated_at_ms = :u WHERE id = :i",
      soci::use(now), soci::use(now), soci::use(key);
  if (!isPostgres(sql)) sql << "DELETE FROM content_search WHERE rowid = :i", soci::use(key);
}

void setCover(soci::session& sql, std::int64_t id, const std::string& sha256, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_articles SET cover_sha256 = :s, updated_at_ms = :u WHERE id = :i",
      soci::use(sha256), soci::use(now), soci::use(key);
}

std::vector<std::int64_t> publishedIds(soci::session& sql, const ArticleFilter& f) {
  std::string query = "SELECT a.id FROM content_articles a WHERE a.state = 'published'";
  std::string kind = f.kind, region = escapeLike(regionPrefix(f.region)) + "%", tag = f.tag;
  if (!f.kind.empty()) query += " AND a.kind = :kind";
  if (!f.region.empty()) query += " AND a.region_code LIKE :region ESCAPE '\\'";
  if (!f.tag.empty()) {
    query +=
        " AND EXISTS (SELECT 1 FROM content_article_tags t WHERE t.article_id = a.id AND "
        "t.tag = :tag)";
  }
  query += " ORDER BY a.published_at_ms DESC, a.id DESC LIMIT " + std::to_string(f.limit) +
           " OFFSET " + std::to_string(f.offset);
  long long id = 0;
  soci::statement st(sql);
  st.exchange(soci::into(id));
  if (!f.kind.empty()) st.exchange(soci::use(kind));
  if (!f.region.empty()) st.exchange(soci::use(region));
  if (!f.tag.empty()) st.exchange(soci::use(tag));
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
  st.execute(false);
  std::vector<std::int64_t> ids;
  while (st.fetch()) ids.push_back(id);
  return ids;
}

std::vector<std::int64_t> editorialIds(soci::session& sql, const std::string& state,
                                       const std::vector<std::string>& region_prefixes, int limit,
                                       int offset) {
  std::vector<std::int64_t> ids;
  if (region_prefixes.empty()) return ids;
  std::string query = "SELECT id FROM content_articles WHERE state = :state AND (";
  std::vector<std::string> patterns;
  for (std::size_t i = 0; i < region_prefixes.size(); ++i) {
    if (i) query += " OR ";
    query += "region_code LIKE :r" + std::to_string(i) + " ESCAPE '\\'";
    patterns.push_back(escapeLike(region_prefixes[i]) + "%");
  }
  query += ") ORDER BY updated_at_ms DESC, id DESC LIMIT " + std::to_string(limit) + " OFFSET " +
           std::to_string(offset);
  std::string state_value = state;
  long long id = 0;
  soci::statement st(sql);
  st.exchange(soci::into(id));
  st.exchange(soci::use(state_value));
  for (auto& pattern : patterns) st.exchange(soci::use(pattern));
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
  st.execute(false);
  while (st.fetch()) ids.push_back(id);
  return ids;
}

std::vector<SearchRow> searchPublished(soci::session& sql, const std::vector<std::string>& terms,
                                       const std::string& kind, const std::string& region,
                                       int limit) {
  bool postgres = isPostgres(sql);
  std::vector<std::string> binds;
  std::string match;  // FTS5 query: each long term a quoted phrase, all required
  std::string where;
  for (const auto& term : terms) {
    if (!postgres && utf8Length(term) >= kTrigramChars) {
      std::string quoted;
      for (char c : term) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      match += (match.empty() ? "\"" : " \"") + quoted + "\"";
    } else {
      where += postgres ? " AND a.search_text ILIKE ? ESCAPE '\\'"
                        : " AND a.search_text LIKE ? ESCAPE '\\'";
      binds.push_back("%" + escapeLike(term) + "%");
    }
  }
  if (!kind.empty()) {
    where += " AND a.kind = ?";
    binds.push_back(kind);
  }
  if (!region.empty()) {
    where += " AND a.region_code LIKE ? ESCAPE '\\'";
    binds.push_back(escapeLike(regionPrefix(region)) + "%");
  }
  std::string query;
  std::string joined;
  for (const auto& t : terms) joined += (joined.empty() ? "" : " ") + t;
  if (!match.empty()) {
    query =
        "SELECT a.id, a.search_text FROM content_search s JOIN content_articles a ON a.id = "
        "s.rowid WHERE content_search MATCH ? AND a.state = 'published'" +
        where + " ORDER BY s.rank, a.published_at_ms DESC";
    binds.insert(binds.begin(), match);
  } else if (postgres) {
    query = "SELECT a.id, a.search_text FROM content_articles a WHERE a.state = 'published'" +
            where +
            " ORDER BY public.word_similarity(?, a.search_text) DESC, a.published_at_ms DESC";
    binds.push_back(joined);
  } else {
    query = "SELECT a.id, a.search_text FROM content_articles a WHERE a.state = 'published'" +
            where + " ORDER BY a.published_at_ms DESC";
  }
  query += " LIMIT " + std::to_string(limit);
  // SOCI names placeholders; number them in order.
  std::string numbered;
  int n = 0;
  for (char c : query) {
    if (c == '?') {
      numbered += ":p" + std::to_string(n++);
    } else {
      numbered += c;
    }
  }
  long long id = 0;
  std::string text;
  soci::statement st(sql);
  st.exchange(soci::into(id));
  st.exchange(soci::into(text));
  for (auto& value : binds) st.exchange(soci::use(value));
  st.alloc();
  st.prepare(numbered);
  st.define_and_bind();
  st.execute(false);
  std::vector<SearchRow> rows;
  while (st.fetch()) rows.push_back({id, text});
  return rows;
}

void insertMedia(soci::session& sql, const std::string& sha256, int requested_width_px,
                 int height_px, const std::string& jpeg, const std::string& actor,
                 std::int64_t now_ms) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM content_media WHERE sha256 = :s AND width_px = :w",
      soci::use(sha256), soci::use(requested_width_px), soci::into(n);
  if (n > 0) return;
  long long now = now_ms, bytes = static_cast<long long>(jpeg.size());
  std::string data = toBase64(jpeg), type = "image/jpeg";
  sql << "INSERT INTO content_media (sha256, width_px, height_px, content_type, data_base64, "
         "bytes, uploaded_by, created_at_ms) VALUES (:s, :w, :h, :c, :d, :b, :a, :t)",
      soci::use(sha256), soci::use(requested_width_px), soci::use(height_px), soci::use(type),
      soci::use(data), soci::use(bytes), soci::use(actor), soci::use(now);
}

std::optional<MediaFile> findMedia(soci::session& sql, const std::string& sha256, int width_px) {
  MediaFile f;
  std::string data;
  sql << "SELECT content_type, data_base64 FROM content_media WHERE sha256 = :s AND width_px = :w",
      soci::use(sha256), soci::use(width_px), soci::into(f.content_type), soci::into(data);
  if (!sql.got_data()) return std::nullopt;
  f.bytes = fromBase64(data);
  f.sha256 = sha256;
  return f;
}

}  // namespace tph::content::detail
