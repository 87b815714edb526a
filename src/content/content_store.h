#pragma once
// SQL of the content module. Internal to src/content.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "content/content_service.h"

namespace tph::content::detail {

bool regionExists(soci::session& sql, const std::string& code);
bool slugTaken(soci::session& sql, const std::string& slug, std::int64_t except_id);

//! Inserts a draft with a temporary unique slug when `article.slug` is empty; returns its id.
std::int64_t insertArticle(soci::session& sql, const Article& article);
void updateContent(soci::session& sql, const Article& article);
void replaceTags(soci::session& sql, std::int64_t id, const std::vector<std::string>& tags);
//! Locks the row on PostgreSQL, so two editors cannot both move one state.
std::optional<Article> findArticleForUpdate(soci::session& sql, std::int64_t id);
std::optional<Article> findArticle(soci::session& sql, std::int64_t id);
std::optional<Article> findArticleBySlug(soci::session& sql, const std::string& slug);

void setSubmitted(soci::session& sql, std::int64_t id, std::int64_t now_ms);
void setPublished(soci::session& sql, std::int64_t id, const std::string& reviewer,
                  const std::string& comment, const std::string& search_text, std::int64_t now_ms);
void setReturned(soci::session& sql, std::int64_t id, const std::string& reviewer,
                 const std::string& comment, std::int64_t now_ms);
void setArchived(soci::session& sql, std::int64_t id, std::int64_t now_ms);
void setCover(soci::session& sql, std::int64_t id, const std::string& sha256, std::int64_t now_ms);

std::vector<std::int64_t> publishedIds(soci::session& sql, const ArticleFilter& filter);
std::vector<std::int64_t> editorialIds(soci::session& sql, const std::string& state,
                                       const std::vector<std::string>& region_prefixes, int limit,
                                       int offset);

struct SearchRow {
  std::int64_t id = 0;
  std::string text;
};
//! Published articles containing every term: terms of kTrigramChars or more through the index
//! (FTS5 MATCH on SQLite, ILIKE served by pg_trgm on PostgreSQL), shorter ones by LIKE. Best
//! match first on SQLite (bm25), by trigram word similarity on PostgreSQL; newer first on ties.
std::vector<SearchRow> searchPublished(soci::session& sql, const std::vector<std::string>& terms,
                                       const std::string& kind, const std::string& region,
                                       int limit);

//! Stores one web size of a cover unless that (sha256, width) is stored already.
void insertMedia(soci::session& sql, const std::string& sha256, int requested_width_px,
                 int height_px, const std::string& jpeg, const std::string& actor,
                 std::int64_t now_ms);
std::optional<MediaFile> findMedia(soci::session& sql, const std::string& sha256, int width_px);

}  // namespace tph::content::detail
