#include "content/content_service.h"

#include <algorithm>
#include <set>

#include "audit/audit_log.h"
#include "content/content_store.h"
#include "content/cover_image.h"
#include "content/markdown.h"
#include "content/search_snippet.h"
#include "content/text_fields.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::content {

namespace {

using auth::Role;
using detail::textField;
using detail::validUtf8;
using nlohmann::json;

Error notFound(std::int64_t id) {
  return Error::notFound("no article " + std::to_string(id), "id");
}

bool validSlug(const std::string& slug) {
  if (slug.size() < 3 || slug.size() > 80 || slug.front() == '-' || slug.back() == '-') {
    return false;
  }
  // At least one letter, so a slug never reads as an article id.
  return std::any_of(slug.begin(), slug.end(), [](char c) { return c >= 'a' && c <= 'z'; }) &&
         std::all_of(slug.begin(), slug.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

//! Regions an editor works in, as the prefixes their grants cover.
std::vector<std::string> editorRegions(const auth::Principal& caller) {
  std::vector<std::string> out;
  for (const auto& g : caller.grants) {
    if (g.role == Role::kEditor && !g.region_code.empty()) out.push_back(g.region_code);
  }
  return out;
}

bool editsIn(const auth::Principal& caller, const std::string& region) {
  return caller.actsInRegion(Role::kEditor, region);
}

Error notEditor(const std::string& region) {
  return Error::forbidden("only an editor of region " + region + " may do this", "region");
}

Error wrongState(const Article& a, const std::string& wanted) {
  return Error::conflict("the article is " + a.state + ", not " + wanted, "state");
}

//! The text search reads: titles, summaries and bodies in both languages, as a reader sees them.
std::string searchText(const Article& a) {
  std::string text =
      a.title_zh + "\n" + a.summary_zh + "\n" + renderMarkdown(a.body_md_zh).plain_text;
  if (!a.title_en.empty()) {
    text +=
        "\n" + a.title_en + "\n" + a.summary_en + "\n" + renderMarkdown(a.body_md_en).plain_text;
  }
  return text;
}

json contentDigest(const Article& a) {
  return {{"slug", a.slug},
          {"kind", a.kind},
          {"region", a.region_code},
          {"title_zh", a.title_zh},
          {"body_sha256", sha256Hex(a.body_md_zh + "\x1f" + a.body_md_en)},
          {"tags", a.tags}};
}

void applyInput(Article& a, const ArticleInput& input) {
  a.kind = input.kind;
  a.region_code = input.region_code;
  if (!input.slug.empty()) a.slug = input.slug;
  a.title_zh = input.title_zh;
  a.summary_zh = input.summary_zh;
  a.body_md_zh = input.body_md_zh;
  a.body_html_zh = renderMarkdown(input.body_md_zh).html;
  a.title_en = input.title_en;
  a.summary_en = input.summary_en;
  a.body_md_en = input.body_md_en;
  a.body_html_en = input.body_md_en.empty() ? "" : renderMarkdown(input.body_md_en).html;
  a.tags = input.tags;
}

Status checkPlacement(soci::session& sql, const ArticleInput& input, std::int64_t id) {
  if (!detail::regionExists(sql, input.region_code)) {
    return Error::invalid("region", "no region " + input.region_code);
  }
  if (!input.slug.empty() && detail::slugTaken(sql, input.slug, id)) {
    return Error::conflict("the slug " + input.slug + " is taken", "slug");
  }
  return {};
}

}  // namespace

const std::vector<std::string>& articleKinds() {
  static const std::vector<std::string> kinds = {"knowledge", "news", "product", "technology"};
  return kinds;
}

std::string coverPath(const std::string& sha256, int width_px) {
  return "/media/covers/" + sha256 + "-" + std::to_string(width_px) + ".jpg";
}

Result<ArticleInput> articleInputFromJson(const json& body) {
  if (!body.is_object()) return Error::invalid("body", "must be an object");
  ArticleInput in;
  auto kind = textField(body, "kind", true, 20);
  if (!kind) return kind.error();
  const auto& kinds = articleKinds();
  if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) {
    return Error::invalid("kind", "must be knowledge, news, product or technology");
  }
  in.kind = *kind;
  auto region = textField(body, "region", true, 6);
  if (!region) return region.error();
  if (!isRegionCode(*region)) return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  in.region_code = *region;
  auto slug = textField(body, "slug", false, 80);
  if (!slug) return slug.error();
  if (!slug->empty() && !validSlug(*slug)) {
    return Error::invalid(
        "slug", "must be 3-80 characters a-z, 0-9 and '-' with a letter, no '-' at either end");
  }
  in.slug = *slug;
  struct Field {
    const char* key;
    bool required;
    std::size_t max;
    std::string* out;
  };
  for (const Field& f : {Field{"title_zh", true, kMaxTitleBytes, &in.title_zh},
                         Field{"summary_zh", false, kMaxSummaryBytes, &in.summary_zh},
                         Field{"body_zh", true, kMaxBodyBytes, &in.body_md_zh},
                         Field{"title_en", false, kMaxTitleBytes, &in.title_en},
                         Field{"summary_en", false, kMaxSummaryBytes, &in.summary_en},
                         Field{"body_en", false, kMaxBodyBytes, &in.body_md_en}}) {
    auto value = textField(body, f.key, f.required, f.max);
    if (!value) return value.error();
    *f.out = *value;
  }
  if (in.title_en.empty() != in.body_md_en.empty()) {
    return Error::invalid(in.title_en.empty() ? "title_en" : "body_en",
                          "an English version needs both a title and a body");
  }
  if (auto tags = body.find("tags"); tags != body.end() && !tags->is_null()) {
    if (!tags->is_array()) return Error::invalid("tags", "must be a list of strings");
    if (tags->size() > kMaxTags) {
      return Error::invalid("tags", "has more than " + std::to_string(kMaxTags) + " tags");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < tags->size(); ++i) {
      std::string where = "tags[" + std::to_string(i) + "]";
      const auto& t = (*tags)[i];
      if (!t.is_string()) return Error::invalid(where, "must be a string");
      auto tag = t.get<std::string>();
      if (tag.empty() || tag.size() > kMaxTagBytes || !validUtf8(tag) ||
          tag.find_first_of("<>\"'&,\r\n\t") != std::string::npos) {
        return Error::invalid(where, "must be 1-" + std::to_string(kMaxTagBytes) +
                                         " bytes of text without markup or commas");
      }
      if (!seen.insert(tag).second) return Error::invalid(where, "is listed twice");
      in.tags.push_back(tag);
    }
  }
  return in;
}

Result<Article> ContentService::createArticle(const auth::Principal& caller,
                                              const ArticleInput& input) {
  if (!editsIn(caller, input.region_code)) return notEditor(input.region_code);
  return db_.transaction([&](soci::session& sql) -> Result<Article> {
    TPH_TRY(checkPlacement(sql, input, 0));
    Article a;
    applyInput(a, input);
    a.author = caller.auditActor();
    a.created_at = a.updated_at = clock_.now();
    a.id = detail::insertArticle(sql, a);
    detail::replaceTags(sql, a.id, a.tags);
    auto stored = *detail::findArticle(sql, a.id);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "content.article.create",
                             "article:" + std::to_string(a.id), contentDigest(stored)});
    return stored;
  });
}

Result<Article> ContentService::updateArticle(const auth::Principal& caller, std::int64_t id,
                                              const ArticleInput& input) {
  return db_.transaction([&](soci::session& sql) -> Result<Article> {
    auto a = detail::findArticleForUpdate(sql, id);
    if (!a) return notFound(id);
    if (!editsIn(caller, a->region_code)) return notEditor(a->region_code);
    if (!editsIn(caller, input.region_code)) return notEditor(input.region_code);
    if (a->state != "draft") return wrongState(*a, "draft");
    TPH_TRY(checkPlacement(sql, input, id));
    applyInput(*a, input);
    a->updated_at = clock_.now();
    detail::updateContent(sql, *a);
    detail::replaceTags(sql, id, a->tags);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "content.article.update",
                             "article:" + std::to_string(id), contentDigest(*a)});
    return *detail::findArticle(sql, id);
  });
}

Result<Article> ContentService::submitArticle(const auth::Principal& caller, std::int64_t id) {
  return db_.transaction([&](soci::session& sql) -> Result<Article> {
    auto a = detail::findArticleForUpdate(sql, id);
    if (!a) return notFound(id);
    if (!editsIn(caller, a->region_code)) return notEditor(a->region_code);
    if (a->state != "draft") return wrongState(*a, "draft");
    detail::setSubmitted(sql, id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "content.article.submit",
                             "article:" + std::to_string(id),
                             {{"slug", a->slug}}});
    return *detail::findArticle(sql, id);
  });
}

Result<Article> ContentService::reviewArticle(const auth::Principal& caller, std::int64_t id,
                                              bool approve, const std::string& comment) {
  if (comment.size() > kMaxCommentBytes || !validUtf8(comment)) {
    return Error::invalid(
        "comment", "must be UTF-8 text of at most " + std::to_string(kMaxCommentBytes) + " bytes");
  }
  if (!approve && comment.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Error::invalid("comment", "returning an article to its author needs a comment");
  }
  return db_.transaction([&](soci::session& sql) -> Result<Article> {
    auto a = detail::findArticleForUpdate(sql, id);
    if (!a) return notFound(id);
    if (!editsIn(caller, a->region_code)) return notEditor(a->region_code);
    if (a->state != "in_review") return wrongState(*a, "in_review");
    if (a->author == caller.auditActor()) {
      return Error::forbidden("an article is reviewed by an editor other than its author");
    }
    auto now_ms = toEpochMs(clock_.now());
    if (approve) {
      detail::setPublished(sql, id, caller.auditActor(), comment, searchText(*a), now_ms);
    } else {
      detail::setReturned(sql, id, caller.auditActor(), comment, now_ms);
    }
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             approve ? "content.article.publish" : "content.article.return",
                             "article:" + std::to_string(id),
                             {{"slug", a->slug}, {"comment", comment}}});
    return *detail::findArticle(sql, id);
  });
}

Result<Article> ContentService::archiveArticle(const auth::Principal& caller, std::int64_t id) {
  return db_.transaction([&](soci::session& sql) -> Result<Article> {
    auto a = detail::findArticleForUpdate(sql, id);
    if (!a) return notFound(id);
    if (!editsIn(caller, a->region_code)) return notEditor(a->region_code);
    if (a->state != "published") return wrongState(*a, "published");
    detail::setArchived(sql, id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "content.article.archive",
                             "article:" + std::to_string(id),
                             {{"slug", a->slug}}});
    return *detail::findArticle(sql, id);
  });
}

Result<Article> ContentService::setCover(const auth::Principal& caller, std::int64_t id,
                                         const std::string& content_type,
                                         const std::string& bytes) {
  // Permission first, so a stranger cannot make the server decode images.
  auto current = db_.read([&](soci::session& sql) { return detail::findArticle(sql, id); });
  if (!current) return notFound(id);
  if (!editsIn(caller, current->region_code)) return notEditor(current->region_code);
  auto sizes = resizeCover(bytes, content_type);
  if (!sizes) return sizes.error();
  auto sha = sha256Hex(bytes);
  return db_.transaction([&](soci::session& sql) -> Result<Article> {
    auto a = detail::findArticleForUpdate(sql, id);
    if (!a) return notFound(id);
    if (!editsIn(caller, a->region_code)) return notEditor(a->region_code);
    if (a->state != "draft") return wrongState(*a, "draft");
    auto now_ms = toEpochMs(clock_.now());
    json sizes_json = json::array();
    for (const auto& s : *sizes) {
      detail::insertMedia(sql, sha, s.requested_width_px, s.height_px, s.jpeg, caller.auditActor(),
                          now_ms);
      sizes_json.push_back(
          {{"width", s.width_px}, {"height", s.height_px}, {"bytes", s.jpeg.size()}});
    }
    detail::setCover(sql, id, sha, now_ms);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "content.article.cover",
                             "article:" + std::to_string(id),
                             {{"sha256", sha}, {"bytes", bytes.size()}, {"sizes", sizes_json}}});
    return *detail::findArticle(sql, id);
  });
}

Result<Article> ContentService::article(const auth::Principal* caller, const std::string& ref) {
  bool numeric = !ref.empty() && ref.size() <= 18 &&
                 std::all_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; });
  auto a = db_.read([&](soci::session& sql) {
    return numeric ? detail::findArticle(sql, std::stoll(ref))
                   : detail::findArticleBySlug(sql, ref);
  });
  if (!a || (a->state != "published" && !(caller && editsIn(*caller, a->region_code)))) {
    return Error::notFound("no published article " + ref, "id");
  }
  return *a;
}

Result<std::vector<Article>> ContentService::published(const ArticleFilter& filter) {
  const auto& kinds = articleKinds();
  if (!filter.kind.empty() && std::find(kinds.begin(), kinds.end(), filter.kind) == kinds.end()) {
    return Error::invalid("kind", "must be knowledge, news, product or technology");
  }
  if (!filter.region.empty() && !isRegionCode(filter.region)) {
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  }
  if (filter.tag.size() > kMaxTagBytes) return Error::invalid("tag", "is too long");
  if (filter.limit < 1 || filter.limit > kMaxPageSize) {
    return Error::invalid("limit", "must be 1 to " + std::to_string(kMaxPageSize));
  }
  if (filter.offset < 0) return Error::invalid("offset", "must be 0 or more");
  return db_.read([&](soci::session& sql) {
    std::vector<Article> out;
    for (auto id : detail::publishedIds(sql, filter)) out.push_back(*detail::findArticle(sql, id));
    return out;
  });
}

Result<std::vector<Article>> ContentService::editorial(const auth::Principal& caller,
                                                       const std::string& state, int limit,
                                                       int offset) {
  if (state != "draft" && state != "in_review" && state != "published" && state != "archived") {
    return Error::invalid("state", "must be draft, in_review, published or archived");
  }
  if (limit < 1 || limit > kMaxPageSize) {
    return Error::invalid("limit", "must be 1 to " + std::to_string(kMaxPageSize));
  }
  if (offset < 0) return Error::invalid("offset", "must be 0 or more");
  auto regions = editorRegions(caller);
  if (regions.empty()) return Error::forbidden("only editors see the editorial queue");
  std::vector<std::string> prefixes;
  for (const auto& r : regions) prefixes.push_back(regionPrefix(r));
  return db_.read([&](soci::session& sql) {
    std::vector<Article> out;
    for (auto id : detail::editorialIds(sql, state, prefixes, limit, offset)) {
      out.push_back(*detail::findArticle(sql, id));
    }
    return out;
  });
}

Result<std::vector<SearchHit>> ContentService::search(const SearchQuery& query) {
  std::vector<std::string> terms;
  std::string term;
  for (char c : query.text + " ") {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!term.empty() && std::find(terms.begin(), terms.end(), term) == terms.end()) {
        terms.push_back(term);
      }
      term.clear();
    } else {
      term += c;
    }
  }
  // The ideographic space separates terms too.
  std::vector<std::string> split;
  for (const auto& t : terms) {
    std::size_t from = 0;
    for (auto at = t.find("\u3000"); at != std::string::npos; at = t.find("\u3000", from)) {
      if (at > from) split.push_back(t.substr(from, at - from));
      from = at + 3;
    }
    if (from < t.size()) split.push_back(t.substr(from));
  }
  terms = split;
  if (terms.empty()) return Error::invalid("q", "is required");
  if (!validUtf8(query.text) || utf8Length(query.text) > kMaxQueryChars) {
    return Error::invalid(
        "q", "must be UTF-8 text of at most " + std::to_string(kMaxQueryChars) + " characters");
  }
  if (terms.size() > kMaxQueryTerms) {
    return Error::invalid("q", "has more than " + std::to_string(kMaxQueryTerms) + " terms");
  }
  const auto& kinds = articleKinds();
  if (!query.kind.empty() && std::find(kinds.begin(), kinds.end(), query.kind) == kinds.end()) {
    return Error::invalid("kind", "must be knowledge, news, product or technology");
  }
  if (!query.region.empty() && !isRegionCode(query.region)) {
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  }
  if (query.limit < 1 || query.limit > kMaxPageSize) {
    return Error::invalid("limit", "must be 1 to " + std::to_string(kMaxPageSize));
  }
  return db_.read([&](soci::session& sql) {
    std::vector<SearchHit> hits;
    for (const auto& row :
         detail::searchPublished(sql, terms, query.kind, query.region, query.limit)) {
      hits.push_back({*detail::findArticle(sql, row.id), highlightSnippet(row.text, terms)});
    }
    return hits;
  });
}

Result<MediaFile> ContentService::coverFile(const std::string& name) {
  // "<64 hex>-<width>.jpg"
  auto dash = name.find('-');
  bool shaped = dash == 64 && name.size() > 69 && name.substr(name.size() - 4) == ".jpg" &&
                std::all_of(name.begin(), name.begin() + 64, [](char c) {
                  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                });
  int width = 0;
  if (shaped) {
    auto digits = name.substr(65, name.size() - 69);
    for (int w : kCoverWidthsPx) {
      if (digits == std::to_string(w)) width = w;
    }
  }
  if (width == 0) return Error::notFound("no such file", "name");
  auto file = db_.read(
      [&](soci::session& sql) { return detail::findMedia(sql, name.substr(0, 64), width); });
  if (!file) return Error::notFound("no such file", "name");
  return *file;
}

}  // namespace tph::content
