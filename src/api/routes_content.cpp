#include "analytics/table_export.h"
#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "content/catalogue_service.h"
#include "content/content_service.h"
#include "content/cover_image.h"
#include "content/idea_service.h"
#include "content/publishing.h"

namespace tph::api {

namespace {

using auth::Role;
using nlohmann::json;

json optionalTime(const std::optional<Instant>& t) {
  return t ? json(formatIso8601(*t)) : json(nullptr);
}

json coverJson(const std::string& sha256) {
  if (sha256.empty()) return nullptr;
  json sizes = json::object();
  for (int w : content::kCoverWidthsPx) sizes[std::to_string(w)] = content::coverPath(sha256, w);
  return sizes;
}

//! The public view leaves out the Markdown source and who worked on the article.
json articleJson(const content::Article& a, bool editorial) {
  json j = {{"id", a.id},
            {"slug", a.slug},
            {"kind", a.kind},
            {"region", a.region_code},
            {"state", a.state},
            {"title_zh", a.title_zh},
            {"summary_zh", a.summary_zh},
            {"body_html_zh", a.body_html_zh},
            {"title_en", a.title_en.empty() ? json(nullptr) : json(a.title_en)},
            {"summary_en", a.summary_en},
            {"body_html_en", a.body_html_en.empty() ? json(nullptr) : json(a.body_html_en)},
            {"tags", a.tags},
            {"cover", coverJson(a.cover_sha256)},
            {"published_at", optionalTime(a.published_at)},
            {"updated_at", formatIso8601(a.updated_at)}};
  if (editorial) {
    j["body_zh"] = a.body_md_zh;
    j["body_en"] = a.body_md_en;
    j["author"] = a.author;
    j["reviewer"] = a.reviewer;
    j["review_comment"] = a.review_comment;
    j["created_at"] = formatIso8601(a.created_at);
    j["submitted_at"] = optionalTime(a.submitted_at);
    j["archived_at"] = optionalTime(a.archived_at);
  }
  return j;
}

HttpResponse articleResponse(const Result<content::Article>& a, int status = 200) {
  if (!a) return errorResponse(a.error());
  return jsonResponse(articleJson(*a, true), status);
}

HttpResponse listResponse(const Result<std::vector<content::Article>>& list, bool editorial) {
  if (!list) return errorResponse(list.error());
  json items = json::array();
  for (const auto& a : *list) items.push_back(articleJson(a, editorial));
  return jsonResponse({{"articles", items}});
}

Result<std::pair<int, int>> page(const HttpRequest& request) {
  auto limit = queryInt(request, "limit", 20);
  if (!limit) return limit.error();
  auto offset = queryInt(request, "offset", 0);
  if (!offset) return offset.error();
  return std::pair{*limit, *offset};
}

template <class Fn>
HttpResponse withId(RouteContext& ctx, Fn&& fn) {
  auto id = parseId(ctx.param("id"), "id");
  if (!id) return errorResponse(id.error());
  return fn(*id);
}

const json kArticleBody = {{"type", "object"},
                           {"required", {"kind", "region", "title_zh", "body_zh"}},
                           {"properties",
                            {{"kind", {{"enum", {"knowledge", "news", "product", "technology"}}}},
                             {"region", {{"type", "string"}, {"pattern", "^[0-9]{6}$"}}},
                             {"slug", {{"type", "string"}}},
                             {"title_zh", {{"type", "string"}}},
                             {"summary_zh", {{"type", "string"}}},
                             {"body_zh", {{"type", "string"}, {"description", "Markdown"}}},
                             {"title_en", {{"type", "string"}}},
                             {"summary_en", {{"type", "string"}}},
                             {"body_en", {{"type", "string"}, {"description", "Markdown"}}},
                             {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
const json kObject = {{"type", "object"}};

json catalogueJson(const content::CatalogueEntry& e) {
  const auto& f = e.fields;
  json j = {{"id", e.id},
            {"kind", f.kind},
            {"name_zh", f.name_zh},
            {"name_en", f.name_en.empty() ? json(nullptr) : json(f.name_en)},
            {"maker", f.maker},
            {"category", f.category},
            {"region", f.region_code},
            {"description_zh", f.description_zh},
            {"certification", nullptr},
            {"certified", e.certified_today},
            {"footprint", nullptr},
            {"article_id", f.article_id ? json(*f.article_id) : json(nullptr)},
            {"state", e.state},
            {"listed_at", formatIso8601(e.listed_at)},
            {"updated_at", formatIso8601(e.updated_at)}};
  if (f.certification) {
    j["certification"] = {{"body", f.certification->body},
                          {"certificate", f.certification->certificate},
                          {"valid_until", f.certification->valid_until}};
  }
  if (f.footprint) {
    j["footprint"] = {{"grams_per_unit", f.footprint->grams_per_unit.value()},
                      {"unit", f.footprint->unit},
                      {"source", f.footprint->source}};
  }
  if (e.state == "withdrawn") j["withdraw_reason"] = e.withdraw_reason;
  return j;
}

HttpResponse catalogueResponse(const Result<content::CatalogueEntry>& e, int status = 200) {
  if (!e) return errorResponse(e.error());
  return jsonResponse(catalogueJson(*e), status);
}

//! The priority procurement list as a sheet: one row per entry, certified entries first.
analytics::Table catalogueTable(const std::vector<content::CatalogueEntry>& entries) {
  analytics::Table t;
  t.title = "low-carbon-catalogue";
  t.columns = {"编号 id",
               "类型 kind",
               "名称 name",
               "生产者 maker",
               "类别 category",
               "地区 region",
               "认证机构 cert body",
               "证书编号 certificate",
               "有效期至 valid until",
               "认证有效 certified",
               "碳足迹 gCO2e/unit",
               "单位 unit",
               "数据来源 source"};
  for (const auto& e : entries) {
    const auto& f = e.fields;
    std::vector<analytics::TableCell> row = {e.id,    f.kind,     f.name_zh,
                                             f.maker, f.category, f.region_code};
    if (f.certification) {
      row.insert(row.end(), {f.certification->body, f.certification->certificate,
                             f.certification->valid_until});
    } else {
      row.insert(row.end(), {std::monostate{}, std::monostate{}, std::monostate{}});
    }
    row.emplace_back(std::string(e.certified_today ? "是 yes" : "否 no"));
    if (f.footprint) {
      row.insert(row.end(),
                 {f.footprint->grams_per_unit.value(), f.footprint->unit, f.footprint->source});
    } else {
      row.insert(row.end(), {std::monostate{}, std::monostate{}, std::monostate{}});
    }
    t.rows.push_back(std::move(row));
  }
  t.notes = {
      "Certified: a low-carbon product certificate valid on the day of export "
      "(Asia/Shanghai)."};
  return t;
}

HttpResponse textResponse(std::string body, const std::string& content_type) {
  HttpResponse response;
  response.setHeader("content-type", content_type);
  response.setHeader("cache-control", "public, max-age=300");
  response.body = std::move(body);
  return response;
}

//! Feeds for one kind and region, as ?kind= and ?region= ask.
HttpResponse feedResponse(content::ContentService& content, const std::string& base,
                          RouteContext& ctx, bool atom) {
  content::ArticleFilter filter{ctx.request.queryParam("kind"), ctx.request.queryParam("region"),
                                "", content::kFeedItems, 0};
  auto articles = content.published(filter);
  if (!articles) return errorResponse(articles.error());
  std::string self = base + ctx.request.target;
  content::FeedScope scope{filter.kind, filter.region, base, self};
  auto now = content.now();
  if (atom) {
    return textResponse(content::atomFeed(*articles, scope, now),
                        "application/atom+xml; charset=utf-8");
  }
  return textResponse(content::rssFeed(*articles, scope, now),
                      "application/rss+xml; charset=utf-8");
}

void addPublishingRoutes(Router& router, content::ContentService& content,
                         const std::string& base) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/feeds/rss",
      .access = Access::kPublic,
      .summary = "RSS 2.0 feed of the latest published articles; kind= and region= narrow it",
      .tag = "content",
      .response_content_type = "application/rss+xml",
      .handler = [&content,
                  base](RouteContext& ctx) { return feedResponse(content, base, ctx, false); },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/feeds/atom",
      .access = Access::kPublic,
      .summary = "Atom 1.0 feed of the latest published articles; kind= and region= narrow it",
      .tag = "content",
      .response_content_type = "application/atom+xml",
      .handler = [&content,
                  base](RouteContext& ctx) { return feedResponse(content, base, ctx, true); },
  });
  router.add({
      .method = "GET",
      .pattern = "/sitemap.xml",
      .access = Access::kPublic,
      .summary = "Sitemap of every published article",
      .tag = "content",
      .response_content_type = "application/xml",
      .handler =
          [&content, base](RouteContext&) {
            std::vector<content::Article> all;
            for (int offset = 0; offset < content::kSitemapUrls; offset += content::kMaxPageSize) {
              auto page = content.published({"", "", "", content::kMaxPageSize, offset});
              if (!page) return errorResponse(page.error());
              all.insert(all.end(), page->begin(), page->end());
              if (page->size() < static_cast<std::size_t>(content::kMaxPageSize)) break;
            }
            return textResponse(content::sitemapXml(all, base), "application/xml; charset=utf-8");
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/articles/{id}/og",
      .access = Access::kPublic,
      .summary = "Open Graph tags of a published article, as fields and as <meta> HTML",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content, base](RouteContext& ctx) {
            auto a = content.article(nullptr, ctx.param("id"));
            if (!a) return errorResponse(a.error());
            auto og = content::openGraph(*a, base);
            return jsonResponse({{"og:type", og.type},
                                 {"og:title", og.title},
                                 {"og:description", og.description},
                                 {"og:url", og.url},
                                 {"og:image", og.image.empty() ? json(nullptr) : json(og.image)},
                                 {"og:locale", og.locale},
                                 {"og:site_name", og.site_name},
                                 {"article:published_time", og.published_time},
                                 {"article:section", og.section},
                                 {"article:tag", og.tags},
                                 {"meta_html", content::openGraphMeta(og)}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/share/articles/{id}",
      .access = Access::kPublic,
      .summary = "A published article as a server-rendered page with its Open Graph tags",
      .tag = "content",
      .response_content_type = "text/html",
      .handler =
          [&content, base](RouteContext& ctx) {
            auto a = content.article(nullptr, ctx.param("id"));
            if (!a) return errorResponse(a.error());
            return textResponse(content::sharePage(*a, base), "text/html; charset=utf-8");
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/articles/{id}/export",
      .access = Access::kPublic,
      .summary = "An article as one self-contained HTML file with inline styles, for pasting "
                 "into an official-account editor (editors: any state)",
      .tag = "content",
      .response_content_type = "text/html",
      .handler =
          [&content, base](RouteContext& ctx) {
            const auth::Principal* caller = ctx.principal ? &*ctx.principal : nullptr;
            auto a = content.article(caller, ctx.param("id"));
            if (!a) return errorResponse(a.error());
            auto response = textResponse(content::exportHtml(*a, base), "text/html; charset=utf-8");
            response.setHeader("cache-control", "no-store");
            response.setHeader("content-disposition",
                               "attachment; filename=\"" + a->slug + ".html\"");
            return response;
          },
  });
}

json topicJson(const content::IdeaTopic& t) {
  return {{"id", t.id},
          {"title_zh", t.title_zh},
          {"description_zh", t.description_zh},
          {"state", t.state},
          {"closes_at", optionalTime(t.closes_at)},
          {"created_at", formatIso8601(t.created_at)},
          {"ideas", t.visible_ideas}};
}

json ideaJson(const content::Idea& i) {
  json links = json::array();
  for (const auto& l : i.links) {
    links.push_back({{"kind", l.kind},
                     {"proposal_id", l.proposal_id ? json(*l.proposal_id) : json(nullptr)},
                     {"title", l.title},
                     {"url", l.url}});
  }
  json j = {{"id", i.id},
            {"topic_id", i.topic_id},
            {"title", i.title},
            {"body", i.body},
            {"display_name", i.display_name},
            {"state", i.state},
            {"supports", i.supports},
            {"adoption_note", i.adoption_note},
            {"links", links},
            {"created_at", formatIso8601(i.created_at)},
            {"adopted_at", optionalTime(i.adopted_at)}};
  if (!i.contact.empty()) j["contact"] = i.contact;  // moderators only
  if (i.state == "rejected") j["moderation_reason"] = i.moderation_reason;
  return j;
}

HttpResponse ideaResponse(const Result<content::Idea>& i, int status = 200) {
  if (!i) return errorResponse(i.error());
  return jsonResponse(ideaJson(*i), status);
}

HttpResponse ideasResponse(const Result<std::vector<content::Idea>>& list) {
  if (!list) return errorResponse(list.error());
  json items = json::array();
  for (const auto& i : *list) items.push_back(ideaJson(i));
  return jsonResponse({{"ideas", items}});
}

Result<std::vector<content::IdeaLink>> linksOf(const json& body) {
  std::vector<content::IdeaLink> links;
  auto it = body.find("links");
  if (it == body.end() || it->is_null()) return links;
  if (!it->is_array()) return Error::invalid("links", "must be a list");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& l = (*it)[i];
    std::string where = "links[" + std::to_string(i) + "]";
    if (!l.is_object()) return Error::invalid(where, "must be an object");
    content::IdeaLink link;
    auto kind = requireString(l, "kind");
    if (!kind) return Error::invalid(where + ".kind", kind.error().message);
    link.kind = *kind;
    if (auto p = l.find("proposal_id"); p != l.end() && !p->is_null()) {
      if (!p->is_number_integer()) return Error::invalid(where + ".proposal_id", "must be an id");
      link.proposal_id = p->get<std::int64_t>();
    }
    for (auto [key, out] : {std::pair{"title", &link.title}, std::pair{"url", &link.url}}) {
      auto value = optionalString(l, key);
      if (!value) return Error::invalid(where + "." + key, value.error().message);
      *out = *value;
    }
    links.push_back(std::move(link));
  }
  return links;
}

void addIdeaRoutes(Router& router, content::IdeaService& ideas) {
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/ideas/topics",
      .roles = {Role::kProvinceAdmin},
      .summary = "Open a topic for the public's ideas (集思广益)",
      .tag = "content",
      .request_schema = {{"type", "object"}, {"required", {"title_zh", "description_zh"}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&ideas](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto title = requireString(*body, "title_zh");
            if (!title) return errorResponse(title.error());
            auto text = requireString(*body, "description_zh");
            if (!text) return errorResponse(text.error());
            auto closes = optionalString(*body, "closes_at");
            if (!closes) return errorResponse(closes.error());
            std::optional<Instant> closes_at;
            if (!closes->empty()) {
              closes_at = parseIso8601(*closes);
              if (!closes_at) {
                return errorResponse(Error::invalid("closes_at", "must be an ISO 8601 instant"));
              }
            }
            auto topic = ideas.openTopic(ctx.caller(), *title, *text, closes_at);
            if (!topic) return errorResponse(topic.error());
            return jsonResponse(topicJson(*topic), 201);
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/ideas/topics/{id}/close",
      .roles = {Role::kProvinceAdmin},
      .summary = "Close a topic to new ideas",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&ideas](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto topic = ideas.closeTopic(ctx.caller(), id);
              if (!topic) return errorResponse(topic.error());
              return jsonResponse(topicJson(*topic));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/ideas/topics",
      .access = Access::kPublic,
      .summary = "Topics open and closed, newest first",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&ideas](RouteContext&) {
            json items = json::array();
            for (const auto& t : ideas.topics()) items.push_back(topicJson(t));
            return jsonResponse({{"topics", items}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/ideas/topics/{id}/ideas",
      .access = Access::kPublic,
      .summary = "A topic's shown and adopted ideas, most supported first (never a contact)",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&ideas](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) { return ideasResponse(ideas.shown(id)); });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/ideas/topics/{id}/ideas",
      .access = Access::kPublic,
      .summary = "Post an idea with a contact (kept private); it shows once moderated",
      .tag = "content",
      .request_schema = {{"type", "object"},
                         {"required", {"title", "body", "display_name", "contact"}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&ideas](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              content::NewIdea idea;
              idea.client_address = ctx.request.client_address;
              for (auto [key, out] :
                   {std::pair{"title", &idea.title}, std::pair{"body", &idea.body},
                    std::pair{"display_name", &idea.display_name},
                    std::pair{"contact", &idea.contact}}) {
                auto value = requireString(*body, key);
                if (!value) return errorResponse(value.error());
                *out = *value;
              }
              const auth::Principal* author = ctx.principal ? &*ctx.principal : nullptr;
              return ideaResponse(ideas.post(author, id, idea), 201);
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/ideas/pending",
      .roles = {Role::kProvinceAdmin, Role::kEditor},
      .summary = "Ideas waiting for moderation, with their contacts (province admins and "
                 "province-wide editors)",
      .tag = "content",
      .response_schema = kObject,
      .handler = [&ideas](RouteContext& ctx) { return ideasResponse(ideas.pending(ctx.caller())); },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/ideas/{id}/moderate",
      .roles = {Role::kProvinceAdmin, Role::kEditor},
      .summary = "Show an idea, or reject it with a reason",
      .tag = "content",
      .request_schema = {{"type", "object"}, {"required", {"approve"}}},
      .response_schema = kObject,
      .handler =
          [&ideas](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto approve = body->find("approve");
              if (approve == body->end() || !approve->is_boolean()) {
                return errorResponse(Error::invalid("approve", "must be true or false"));
              }
              auto reason = optionalString(*body, "reason");
              if (!reason) return errorResponse(reason.error());
              return ideaResponse(ideas.moderate(ctx.caller(), id, *approve, *reason));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/ideas/{id}/support",
      .summary = "Support a shown idea, once per user",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&ideas](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return ideaResponse(ideas.support(ctx.caller(), id));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/ideas/{id}/adopt",
      .roles = {Role::kProvinceAdmin},
      .summary = "Mark an idea adopted and link the methodology proposals or policies it led to",
      .tag = "content",
      .request_schema = {{"type", "object"}, {"required", {"note"}}},
      .response_schema = kObject,
      .handler =
          [&ideas](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto note = requireString(*body, "note");
              if (!note) return errorResponse(note.error());
              auto links = linksOf(*body);
              if (!links) return errorResponse(links.error());
              return ideaResponse(ideas.adopt(ctx.caller(), id, *note, *links));
            });
          },
  });
}

}  // namespace

void addContentRoutes(Router& router, content::ContentService& content,
                      content::CatalogueService& catalogue, content::IdeaService& ideas,
                      const std::string& public_url) {
  addPublishingRoutes(router, content, public_url);
  addIdeaRoutes(router, ideas);
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/catalogue",
      .roles = {Role::kEditor},
      .summary = "List a low-carbon product or technology in the catalogue",
      .tag = "content",
      .request_schema = {{"type", "object"},
                         {"required", {"kind", "name_zh", "maker", "category", "region"}}},
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&catalogue](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto input = content::catalogueInputFromJson(*body);
            if (!input) return errorResponse(input.error());
            return catalogueResponse(catalogue.list(ctx.caller(), *input), 201);
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/content/catalogue/{id}",
      .roles = {Role::kEditor},
      .summary = "Revise a catalogue entry",
      .tag = "content",
      .request_schema = {{"type", "object"}},
      .response_schema = kObject,
      .handler =
          [&catalogue](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto input = content::catalogueInputFromJson(*body);
              if (!input) return errorResponse(input.error());
              return catalogueResponse(catalogue.revise(ctx.caller(), id, *input));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/catalogue/{id}/withdraw",
      .roles = {Role::kEditor},
      .summary = "Withdraw a catalogue entry, with a reason",
      .tag = "content",
      .request_schema = {{"type", "object"}, {"required", {"reason"}}},
      .response_schema = kObject,
      .handler =
          [&catalogue](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto reason = requireString(*body, "reason");
              if (!reason) return errorResponse(reason.error());
              return catalogueResponse(catalogue.withdraw(ctx.caller(), id, *reason));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/catalogue/{id}",
      .access = Access::kPublic,
      .summary = "One catalogue entry",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&catalogue](RouteContext& ctx) {
            return withId(ctx,
                          [&](std::int64_t id) { return catalogueResponse(catalogue.entry(id)); });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/catalogue",
      .access = Access::kPublic,
      .summary = "The catalogue as a priority procurement list: kind, category, region, "
                 "certified=true|false; format=json|csv|xlsx",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&catalogue](RouteContext& ctx) {
            const auto& r = ctx.request;
            auto format = r.queryParam("format");
            bool file = format == "csv" || format == "xlsx";
            auto limit = queryInt(r, "limit", file ? content::kMaxCatalogueExport : 50);
            if (!limit) return errorResponse(limit.error());
            auto offset = queryInt(r, "offset", 0);
            if (!offset) return errorResponse(offset.error());
            content::CatalogueFilter filter{r.queryParam("kind"),
                                            r.queryParam("category"),
                                            r.queryParam("region"),
                                            std::nullopt,
                                            *limit,
                                            *offset};
            auto certified = r.queryParam("certified");
            if (certified == "true") {
              filter.certified = true;
            } else if (certified == "false") {
              filter.certified = false;
            } else if (!certified.empty()) {
              return errorResponse(Error::invalid("certified", "must be true or false"));
            }
            if (!format.empty() && format != "json" && !file) {
              return errorResponse(Error::invalid("format", "format is json, csv or xlsx"));
            }
            auto entries = catalogue.find(filter);
            if (!entries) return errorResponse(entries.error());
            if (!file) {
              json items = json::array();
              for (const auto& e : *entries) items.push_back(catalogueJson(e));
              return jsonResponse({{"entries", items}});
            }
            auto table = catalogueTable(*entries);
            HttpResponse response;
            if (format == "csv") {
              response.body = analytics::toCsv(table);
              response.setHeader("content-type", "text/csv; charset=utf-8");
            } else {
              auto bytes = analytics::toXlsx(table);
              if (!bytes) return errorResponse(bytes.error());
              response.body = std::move(*bytes);
              response.setHeader(
                  "content-type",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
            }
            response.setHeader("content-disposition",
                               "attachment; filename=\"" + table.title + "." + format + "\"");
            return response;
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/articles",
      .access = Access::kPublic,
      .summary =
          "Published articles, newest first, by kind, region (with what lies within) and tag",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            auto p = page(ctx.request);
            if (!p) return errorResponse(p.error());
            content::ArticleFilter filter{ctx.request.queryParam("kind"),
                                          ctx.request.queryParam("region"),
                                          ctx.request.queryParam("tag"), p->first, p->second};
            return listResponse(content.published(filter), false);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/articles/{id}",
      .access = Access::kPublic,
      .summary = "A published article by id or slug (its region's editors see every state)",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            const auth::Principal* caller = ctx.principal ? &*ctx.principal : nullptr;
            auto a = content.article(caller, ctx.param("id"));
            if (!a) return errorResponse(a.error());
            bool editorial = caller && caller->actsInRegion(Role::kEditor, a->region_code);
            return jsonResponse(articleJson(*a, editorial));
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/articles",
      .roles = {Role::kEditor},
      .summary = "Draft an article (Markdown, sanitised on save) in a region the editor works in",
      .tag = "content",
      .request_schema = kArticleBody,
      .response_schema = kObject,
      .success_status = 201,
      .handler =
          [&content](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto input = content::articleInputFromJson(*body);
            if (!input) return errorResponse(input.error());
            return articleResponse(content.createArticle(ctx.caller(), *input), 201);
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/content/articles/{id}",
      .roles = {Role::kEditor},
      .summary = "Revise a draft article",
      .tag = "content",
      .request_schema = kArticleBody,
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto input = content::articleInputFromJson(*body);
              if (!input) return errorResponse(input.error());
              return articleResponse(content.updateArticle(ctx.caller(), id, *input));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/articles/{id}/submit",
      .roles = {Role::kEditor},
      .summary = "Send a draft for review",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return articleResponse(content.submitArticle(ctx.caller(), id));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/articles/{id}/review",
      .roles = {Role::kEditor},
      .summary = "Publish an article in review, or return it to draft with a comment; the "
                 "reviewer is not the author",
      .tag = "content",
      .request_schema = {{"type", "object"},
                         {"required", {"approve"}},
                         {"properties",
                          {{"approve", {{"type", "boolean"}}}, {"comment", {{"type", "string"}}}}}},
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              auto body = parseJsonObject(ctx.request);
              if (!body) return errorResponse(body.error());
              auto approve = body->find("approve");
              if (approve == body->end() || !approve->is_boolean()) {
                return errorResponse(Error::invalid("approve", "must be true or false"));
              }
              auto comment = optionalString(*body, "comment");
              if (!comment) return errorResponse(comment.error());
              return articleResponse(content.reviewArticle(ctx.caller(), id, *approve, *comment));
            });
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/content/articles/{id}/archive",
      .roles = {Role::kEditor},
      .summary = "Archive a published article: it leaves the site, feeds and search",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return articleResponse(content.archiveArticle(ctx.caller(), id));
            });
          },
  });
  router.add({
      .method = "PUT",
      .pattern = "/api/v1/content/articles/{id}/cover",
      .roles = {Role::kEditor},
      .summary = "Upload a draft's cover image as the raw body (PNG, JPEG or WebP by content, at "
                 "most 5 MiB); stored resized to 1200 and 400 px wide",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            return withId(ctx, [&](std::int64_t id) {
              return articleResponse(content.setCover(
                  ctx.caller(), id, std::string(ctx.request.header("content-type")),
                  ctx.request.body));
            });
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/editorial",
      .roles = {Role::kEditor},
      .summary = "Articles in one state (draft, in_review, published, archived) in the editor's "
                 "regions",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            auto p = page(ctx.request);
            if (!p) return errorResponse(p.error());
            auto state = ctx.request.queryParam("state");
            return listResponse(content.editorial(ctx.caller(), state.empty() ? "in_review" : state,
                                                  p->first, p->second),
                                true);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/content/search",
      .access = Access::kPublic,
      .summary = "Full-text search over published articles (Chinese down to one character), with "
                 "highlighted snippets",
      .tag = "content",
      .response_schema = kObject,
      .handler =
          [&content](RouteContext& ctx) {
            auto limit = queryInt(ctx.request, "limit", 20);
            if (!limit) return errorResponse(limit.error());
            content::SearchQuery query{ctx.request.queryParam("q"), ctx.request.queryParam("kind"),
                                       ctx.request.queryParam("region"), *limit};
            auto hits = content.search(query);
            if (!hits) return errorResponse(hits.error());
            json items = json::array();
            for (const auto& h : *hits) {
              json item = articleJson(h.article, false);
              item.erase("body_html_zh");
              item.erase("body_html_en");
              item["snippet_html"] = h.snippet_html;
              items.push_back(std::move(item));
            }
            return jsonResponse({{"query", query.text}, {"results", items}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/media/covers/{name}",
      .access = Access::kPublic,
      .summary = "A cover image in one web size; the name carries the upload's SHA-256, so it is "
                 "cached for a year",
      .tag = "content",
      .response_content_type = "image/jpeg",
      .handler =
          [&content](RouteContext& ctx) {
            auto file = content.coverFile(ctx.param("name"));
            if (!file) return errorResponse(file.error());
            HttpResponse response;
            std::string etag = "\"" + ctx.param("name") + "\"";
            response.setHeader("etag", etag);
            response.setHeader("cache-control", "public, max-age=31536000, immutable");
            response.setHeader("x-content-type-options", "nosniff");
            if (ctx.request.header("if-none-match") == etag) {
              response.status = 304;
              return response;
            }
            response.setHeader("content-type", file->content_type);
            response.body = std::move(file->bytes);
            return response;
          },
  });
}

}  // namespace tph::api
