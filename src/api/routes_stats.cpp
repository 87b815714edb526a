#include "analytics/analytics_service.h"
#include "analytics/table_export.h"
#include "api/error_response.h"
#include "api/routes.h"

namespace tph::api {

namespace {

using analytics::StatsFigures;
using analytics::Table;
using analytics::TableCell;
using nlohmann::json;

const char* kLicence =
    "Licence: Creative Commons Attribution 4.0 International (CC BY 4.0), "
    "https://creativecommons.org/licenses/by/4.0/ - attribute to the Guangdong carbon-inclusive "
    "platform (广东省碳普惠平台).";

analytics::StatsFilter filterOf(const HttpRequest& r) {
  return {r.queryParam("from"),    r.queryParam("to"),          r.queryParam("region"),
          r.queryParam("domain"),  r.queryParam("methodology"), r.queryParam("subject_kind"),
          r.queryParam("industry")};
}

json figuresJson(const StatsFigures& f) {
  // Suppressed figures are null, never zero (docs/analytics.md).
  if (f.suppressed)
    return {{"records", nullptr},
            {"grams", nullptr},
            {"points", nullptr},
            {"subject_days", nullptr},
            {"suppressed", true}};
  return {{"records", f.records},
          {"grams", f.grams},
          {"points", f.points},
          {"subject_days", f.subject_days},
          {"suppressed", false}};
}

void addFigures(std::vector<TableCell>& row, const StatsFigures& f) {
  if (f.suppressed)
    row.insert(row.end(), {std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}});
  else
    row.insert(row.end(), {f.records, f.grams, f.points, f.subject_days});
}

//! Renders a table as JSON (the given body), CSV or XLSX as ?format= asks.
HttpResponse render(const HttpRequest& request, const json& body, const Table& table) {
  auto format = request.queryParam("format");
  if (format.empty() || format == "json") return jsonResponse(body);
  HttpResponse response;
  std::string filename = table.title;
  if (format == "csv") {
    response.body = analytics::toCsv(table);
    response.setHeader("content-type", "text/csv; charset=utf-8");
    filename += ".csv";
  } else if (format == "xlsx") {
    auto bytes = analytics::toXlsx(table);
    if (!bytes) return errorResponse(bytes.error());
    response.body = std::move(*bytes);
    response.setHeader("content-type",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    filename += ".xlsx";
  } else {
    return errorResponse(Error::invalid("format", "format is json, csv or xlsx"));
  }
  response.setHeader("content-disposition", "attachment; filename=\"" + filename + "\"");
  return response;
}

const std::vector<std::string> kFigureColumns = {"records", "grams", "points", "subject_days"};

std::vector<std::string> columns(std::vector<std::string> first) {
  first.insert(first.end(), kFigureColumns.begin(), kFigureColumns.end());
  return first;
}

const json kFilterDoc = {{"type", "object"}};

}  // namespace

void addStatsRoutes(Router& router, analytics::AnalyticsService& analytics) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/stats/totals",
      .access = Access::kPublic,
      .summary = "Reductions, records, points, subject-days, participants, points redeemed and "
                 "PHCER issued for a slice (from, to, region, "
                 "domain, methodology, subject_kind, industry); counties and industries need a "
                 "console role",
      .tag = "stats",
      .response_schema = kFilterDoc,
      .handler =
          [&analytics](RouteContext& ctx) {
            auto filter = filterOf(ctx.request);
            auto totals = analytics.totals(ctx.principal, filter);
            if (!totals) return errorResponse(totals.error());
            auto issued = analytics.issuance(filter);
            if (!issued) return errorResponse(issued.error());
            auto participants = analytics.participants(ctx.principal, filter);
            if (!participants) return errorResponse(participants.error());
            auto redeemed = analytics.pointsRedeemed(ctx.principal, filter);
            if (!redeemed) return errorResponse(redeemed.error());
            json body = figuresJson(*totals);
            body["participants"] = *participants;
            body["points_redeemed"] = *redeemed;
            body["phcer"] = {{"units_issued", issued->units_issued},
                             {"units_retired", issued->units_retired},
                             {"batches_issued", issued->batches_issued}};
            Table table{"totals", columns({"from", "to", "region"}), {}, {}};
            std::vector<TableCell> row = {filter.from_day, filter.to_day,
                                          filter.region.empty() ? "440000" : filter.region};
            addFigures(row, *totals);
            table.rows.push_back(std::move(row));
            return render(ctx.request, body, table);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/stats/series",
      .access = Access::kPublic,
      .summary = "A time series of a slice by interval=day|week|month|year (Asia/Shanghai days, "
                 "ISO weeks); format=csv|xlsx downloads it",
      .tag = "stats",
      .response_schema = kFilterDoc,
      .handler =
          [&analytics](RouteContext& ctx) {
            auto interval_text = ctx.request.queryParam("interval");
            auto interval = analytics::parseInterval(interval_text.empty() ? "day" : interval_text);
            if (!interval)
              return errorResponse(
                  Error::invalid("interval", "interval is day, week, month or year"));
            auto series = analytics.series(ctx.principal, filterOf(ctx.request), *interval);
            if (!series) return errorResponse(series.error());
            json points = json::array();
            Table table{"series", columns({"bucket"}), {}, {}};
            for (const auto& p : *series) {
              json item = figuresJson(p.figures);
              item["bucket"] = p.bucket;
              points.push_back(std::move(item));
              std::vector<TableCell> row = {p.bucket};
              addFigures(row, p.figures);
              table.rows.push_back(std::move(row));
            }
            return render(ctx.request, {{"series", points}}, table);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/stats/top",
      .access = Access::kPublic,
      .summary = "The top n (1-100) regions, methodologies, domains or industries of a slice by "
                 "grams (by=region|methodology|domain|industry)",
      .tag = "stats",
      .response_schema = kFilterDoc,
      .handler =
          [&analytics](RouteContext& ctx) {
            auto n_text = ctx.request.queryParam("n");
            int n = 10;
            if (!n_text.empty()) {
              try {
                std::size_t used = 0;
                n = std::stoi(n_text, &used);
                if (used != n_text.size()) n = 0;
              } catch (const std::exception&) {
                n = 0;
              }
            }
            auto by = ctx.request.queryParam("by");
            auto rows = analytics.top(ctx.principal, filterOf(ctx.request), by, n);
            if (!rows) return errorResponse(rows.error());
            json items = json::array();
            Table table{"top-" + by, columns({"key", "name"}), {}, {}};
            for (const auto& r : *rows) {
              json item = figuresJson(r.figures);
              item["key"] = r.key;
              item["name"] = r.name;
              items.push_back(std::move(item));
              std::vector<TableCell> row = {r.key, r.name};
              addFigures(row, r.figures);
              table.rows.push_back(std::move(row));
            }
            return render(ctx.request, {{"by", by}, {"rows", items}}, table);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/stats/participation",
      .access = Access::kPublic,
      .summary = "Province-wide subjects credited per day or month (interval=day|month), new and "
                 "returning",
      .tag = "stats",
      .response_schema = kFilterDoc,
      .handler =
          [&analytics](RouteContext& ctx) {
            auto interval_text = ctx.request.queryParam("interval");
            auto interval = analytics::parseInterval(interval_text.empty() ? "day" : interval_text);
            if (!interval)
              return errorResponse(Error::invalid("interval", "interval is day or month"));
            auto rows = analytics.participation(filterOf(ctx.request), *interval);
            if (!rows) return errorResponse(rows.error());
            json items = json::array();
            Table table{"participation", {"period", "subjects", "new", "returning"}, {}, {}};
            for (const auto& p : *rows) {
              items.push_back({{"period", p.period},
                               {"subjects", p.subjects},
                               {"new", p.new_subjects},
                               {"returning", p.returning_subjects}});
              table.rows.push_back({p.period, p.subjects, p.new_subjects, p.returning_subjects});
            }
            return render(ctx.request, {{"participation", items}}, table);
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/v1/stats/open-data",
      .access = Access::kPublic,
      .summary = "Open data: daily reductions by city, domain and methodology (at most 92 days a "
                 "request), cells of fewer than 10 distinct subjects suppressed; CC BY 4.0",
      .tag = "stats",
      .response_schema = kFilterDoc,
      .handler =
          [&analytics](RouteContext& ctx) {
            auto cells = analytics.openData(filterOf(ctx.request));
            if (!cells) return errorResponse(cells.error());
            json items = json::array();
            Table table{"open-data",
                        {"day", "city", "domain", "methodology", "suppressed", "records",
                         "subjects", "grams"},
                        {},
                        {kLicence, "Cells covering fewer than " +
                                       std::to_string(analytics::kOpenDataMinSubjects) +
                                       " distinct subjects are suppressed: their figures are "
                                       "empty, not zero."}};
            for (const auto& c : *cells) {
              json item = {{"day", c.day},
                           {"city", c.city},
                           {"domain", c.domain},
                           {"methodology", c.methodology},
                           {"suppressed", c.suppressed}};
              std::vector<TableCell> row = {c.day, c.city, c.domain, c.methodology,
                                            std::string(c.suppressed ? "yes" : "no")};
              if (c.suppressed) {
                item["records"] = item["subjects"] = item["grams"] = nullptr;
                row.insert(row.end(), {std::monostate{}, std::monostate{}, std::monostate{}});
              } else {
                item["records"] = c.records;
                item["subjects"] = c.subjects;
                item["grams"] = c.grams;
                row.insert(row.end(), {c.records, c.subjects, c.grams});
              }
              items.push_back(std::move(item));
              table.rows.push_back(std::move(row));
            }
            json body = {
                {"licence",
                 {{"name", "CC BY 4.0"}, {"url", "https://creativecommons.org/licenses/by/4.0/"}}},
                {"suppression",
                 {{"min_subjects", analytics::kOpenDataMinSubjects},
                  {"rule",
                   "cells covering fewer distinct subjects carry suppressed: "
                   "true and null figures"}}},
                {"cells", items}};
            return render(ctx.request, body, table);
          },
  });
}

}  // namespace tph::api
