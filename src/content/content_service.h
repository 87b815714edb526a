#pragma once
// The promotion site's content: articles of four kinds (低碳知识 knowledge, 资讯 news, 低碳产品
// products, 低碳技术 technologies) in zh-CN with optional English, authored in Markdown and
// stored with their sanitised HTML; cover images in web sizes; and the editorial flow
// draft → in_review → published → archived, worked by editors of the article's region, where a
// reviewer who is not the author publishes. Every change is audited in its own transaction.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::content {

inline constexpr std::size_t kMaxTitleBytes = 300;
inline constexpr std::size_t kMaxSummaryBytes = 1000;
inline constexpr std::size_t kMaxBodyBytes = 200'000;
inline constexpr std::size_t kMaxTags = 10;
inline constexpr std::size_t kMaxTagBytes = 40;
inline constexpr std::size_t kMaxCommentBytes = 2000;
inline constexpr int kMaxPageSize = 100;

//! "knowledge", "news", "product", "technology".
const std::vector<std::string>& articleKinds();

//! What an editor writes; validated by articleInputFromJson.
struct ArticleInput {
  std::string kind;
  std::string region_code;
  std::string slug;  //!< "" lets the platform choose "<kind>-<id>"
  std::string title_zh, summary_zh, body_md_zh;
  std::string title_en, summary_en, body_md_en;
  std::vector<std::string> tags;
};

//! Validates an article body; errors name the field ("title_zh", "tags[2]").
Result<ArticleInput> articleInputFromJson(const nlohmann::json& json);

struct Article {
  std::int64_t id = 0;
  std::string slug;
  std::string kind;
  std::string region_code;
  std::string state;  //!< draft, in_review, published, archived
  std::string title_zh, summary_zh, body_md_zh, body_html_zh;
  std::string title_en, summary_en, body_md_en, body_html_en;
  std::vector<std::string> tags;
  std::string cover_sha256;  //!< "" without a cover
  std::string author;        //!< audit actor, "user:12"
  std::string reviewer;
  std::string review_comment;
  Instant created_at, updated_at;
  std::optional<Instant> submitted_at, published_at, archived_at;
};

//! The public path of a cover in one web size: "/media/covers/<sha256>-<width>.jpg".
std::string coverPath(const std::string& sha256, int width_px);

struct ArticleFilter {
  std::string kind;    //!< "" for all
  std::string region;  //!< "" for all; a city or the province includes what lies within it
  std::string tag;     //!< "" for all
  int limit = 20;
  int offset = 0;
};

inline constexpr std::size_t kMaxQueryChars = 100;
inline constexpr std::size_t kMaxQueryTerms = 5;
//! Terms this long are looked up in the trigram index; shorter ones by a LIKE scan.
inline constexpr std::size_t kTrigramChars = 3;

struct SearchQuery {
  std::string text;  //!< terms separated by spaces; every term must occur
  std::string kind;
  std::string region;
  int limit = 20;
};

struct SearchHit {
  Article article;
  std::string snippet_html;  //!< escaped text with the hits in <mark>
};

struct MediaFile {
  std::string content_type;
  std::string bytes;
  std::string sha256;
};

//! Shared between threads: holds no state of its own beyond references.
class ContentService {
 public:
  ContentService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<Article> createArticle(const auth::Principal& caller, const ArticleInput& input);
  //! Drafts only; an editor of the article's region (and of the new one, when it moves).
  Result<Article> updateArticle(const auth::Principal& caller, std::int64_t id,
                                const ArticleInput& input);
  Result<Article> submitArticle(const auth::Principal& caller, std::int64_t id);
  //! Publishes (approve) or returns to draft with a comment; the reviewer is not the author.
  Result<Article> reviewArticle(const auth::Principal& caller, std::int64_t id, bool approve,
                                const std::string& comment);
  Result<Article> archiveArticle(const auth::Principal& caller, std::int64_t id);
  //! Checks and resizes the image (cover_image.h) and makes it the draft's cover.
  Result<Article> setCover(const auth::Principal& caller, std::int64_t id,
                           const std::string& content_type, const std::string& bytes);

  //! A published article by id or slug; editors of its region also see it in other states.
  Result<Article> article(const auth::Principal* caller, const std::string& id_or_slug);
  Result<std::vector<Article>> published(const ArticleFilter& filter);
  //! Articles in `state` within the caller's editor regions, newest change first.
  Result<std::vector<Article>> editorial(const auth::Principal& caller, const std::string& state,
                                         int limit, int offset);

  //! Full-text search over published articles; works for Chinese down to one character.
  Result<std::vector<SearchHit>> search(const SearchQuery& query);

  //! The service's clock, for documents stamped with the time they were built (feeds).
  Instant now() const { return clock_.now(); }

  //! A stored cover file by its path name "<sha256>-<width>.jpg".
  Result<MediaFile> coverFile(const std::string& name);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::content
