#include "assessment/assessment_report.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include <memory>
#include <mutex>

#include "analytics/table_export.h"

namespace tph::assessment::detail {

namespace {

constexpr double kPageWidthPt = 595.0;  // A4
constexpr double kPageHeightPt = 842.0;
constexpr double kMarginPt = 48.0;
constexpr const char* kFont = "Noto Sans CJK SC";

cairo_status_t appendBytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string ruleText(const ScoringRule& rule) {
  if (rule.kind == "linear") {
    return "线性 linear: " + fixedMilli(rule.floor_milli) + " → 0, " + fixedMilli(rule.full_milli) +
           " → 满分 full";
  }
  std::string out = "分档 bands:";
  for (const auto& b : rule.bands) {
    out += " ≥" + fixedMilli(b.min_milli) + " → " + std::to_string(b.percent) + "%";
  }
  return out;
}

std::string indicatorName(const std::string& key) {
  auto info = findIndicator(key);
  return info ? info->name_zh + " / " + info->name_en : key;
}

//! Pango text at a position, a given width; answers the height used.
class Pen {
 public:
  explicit Pen(cairo_t* cr) : cr_(cr) {}
  double text(double x, double y, double width, const std::string& s, double size_pt,
              bool bold = false) {
    std::unique_ptr<PangoLayout, decltype(&g_object_unref)> layout(pango_cairo_create_layout(cr_),
                                                                   g_object_unref);
    std::string font =
        std::string(kFont) + (bold ? " Bold " : " ") + std::to_string(static_cast<int>(size_pt));
    std::unique_ptr<PangoFontDescription, decltype(&pango_font_description_free)> desc(
        pango_font_description_from_string(font.c_str()), pango_font_description_free);
    pango_layout_set_font_description(layout.get(), desc.get());
    pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout.get(), s.c_str(), -1);
    int w = 0, h = 0;
    pango_layout_get_size(layout.get(), &w, &h);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout.get());
    return static_cast<double>(h) / PANGO_SCALE;
  }
  //! A full-width line down the page, a new page when this one is full.
  void line(const std::string& s, double size_pt, bool bold = false, double gap_pt = 4) {
    ensure(size_pt * 1.6 + gap_pt);
    y_ += text(kMarginPt, y_, kPageWidthPt - 2 * kMarginPt, s, size_pt, bold) + gap_pt;
  }
  //! Starts a new page unless `height_pt` fits on this one.
  void ensure(double height_pt) {
    if (y_ + height_pt > kPageHeightPt - kMarginPt) {
      cairo_show_page(cr_);
      y_ = kMarginPt;
    }
  }
  double y() const { return y_; }
  void advance(double pt) { y_ += pt; }

 private:
  cairo_t* cr_;
  double y_ = kMarginPt;
};

//! Horizontal bars of each city's total out of 100, in rank order.
void drawTotalsChart(cairo_t* cr, Pen& pen, const Run& run) {
  const double row_pt = 15, label_pt = 90, value_pt = 40;
  const double chart_pt = kPageWidthPt - 2 * kMarginPt - label_pt - value_pt;
  pen.ensure(row_pt * static_cast<double>(run.cities.size()) + 30);
  pen.line("图 1 各市考核总分 / Total score by city (out of 100)", 11, true, 6);
  double y = pen.y();
  // Grid lines at every 20 points.
  cairo_set_line_width(cr, 0.5);
  cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
  for (int g = 0; g <= 100; g += 20) {
    double x = kMarginPt + label_pt + chart_pt * g / 100.0;
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x, y + row_pt * static_cast<double>(run.cities.size()));
    cairo_stroke(cr);
  }
  for (const auto& c : run.cities) {
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    pen.text(kMarginPt, y + 1, label_pt - 4, std::to_string(c.rank) + ". " + c.name_zh, 8);
    double width = chart_pt * static_cast<double>(c.total_milli) / 100'000.0;
    cairo_set_source_rgb(cr, 0.18, 0.55, 0.34);
    cairo_rectangle(cr, kMarginPt + label_pt, y + 3, width, row_pt - 6);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    pen.text(kMarginPt + label_pt + width + 4, y + 1, value_pt + chart_pt - width,
             fixedMilli(c.total_milli), 8);
    y += row_pt;
  }
  for (int g = 0; g <= 100; g += 20) {
    pen.text(kMarginPt + label_pt + chart_pt * g / 100.0 - 6, y + 2, 30, std::to_string(g), 7);
  }
  pen.advance(y - pen.y() + 20);
}

void drawRankingTable(cairo_t* cr, Pen& pen, const Run& run) {
  pen.line("表 1 排名与各指标得分 / Ranking and score per indicator", 11, true, 6);
  const double width = kPageWidthPt - 2 * kMarginPt;
  const double rank_pt = 30, city_pt = 80, total_pt = 50;
  double per = run.scheme.empty() ? 0
                                  : (width - rank_pt - city_pt - total_pt) /
                                        static_cast<double>(run.scheme.size());
  auto row = [&](const std::vector<std::string>& cells, bool bold) {
    pen.ensure(16);
    double y = pen.y(), x = kMarginPt;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      double w = i == 0 ? rank_pt : i == 1 ? city_pt : i == 2 ? total_pt : per;
      pen.text(x, y, w - 2, cells[i], 7.5, bold);
      x += w;
    }
    cairo_set_line_width(cr, 0.3);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_move_to(cr, kMarginPt, y + 14);
    cairo_line_to(cr, kMarginPt + width, y + 14);
    cairo_stroke(cr);
    pen.advance(16);
  };
  std::vector<std::string> head = {"排名", "城市", "总分"};
  for (std::size_t i = 0; i < run.scheme.size(); ++i)
    head.push_back("指标" + std::to_string(i + 1));
  row(head, true);
  for (const auto& c : run.cities) {
    std::vector<std::string> cells = {std::to_string(c.rank), c.name_zh, fixedMilli(c.total_milli)};
    for (const auto& r : c.results) cells.push_back(fixedMilli(r.score_milli));
    row(cells, false);
  }
  pen.advance(10);
}

}  // namespace

std::string fixedMilli(std::int64_t milli) {
  std::string sign = milli < 0 ? "-" : "";
  std::int64_t a = milli < 0 ? -milli : milli;
  std::string frac = std::to_string(a % 1000);
  while (frac.size() < 3) frac.insert(0, "0");
  return sign + std::to_string(a / 1000) + "." + frac;
}

Result<std::string> reportXlsx(const Run& run) {
  analytics::Table table;
  table.title = "assessment " + std::to_string(run.year);
  table.columns = {"排名 Rank",      "城市代码 City code",   "城市 City",       "总分 Total",
                   "指标 Indicator", "权重 Weight",          "原始数值 Figure", "得分 Score",
                   "说明 Note",      "来源查询 Source query"};
  for (const auto& c : run.cities) {
    for (std::size_t i = 0; i < c.results.size() && i < run.scheme.size(); ++i) {
      const auto& r = c.results[i];
      table.rows.push_back({std::int64_t{c.rank}, c.region_code, c.name_zh,
                            fixedMilli(c.total_milli), indicatorName(r.indicator_key),
                            std::int64_t{run.scheme[i].weight}, fixedMilli(r.figure_milli),
                            fixedMilli(r.score_milli), r.note, r.source.dump()});
    }
  }
  table.notes.push_back("广东省碳普惠目标责任考核 " + std::to_string(run.year) + " 年度，统计期 " +
                        run.period_from + " 至 " + run.period_until + "，状态 " + run.state);
  table.notes.push_back("Run " + std::to_string(run.id) + ", content SHA-256 " +
                        run.content_sha256);
  table.notes.push_back(
      "并列规则 Ties: equal totals share the better rank, the next rank is "
      "skipped (1, 2, 2, 4); tied cities are listed by region code.");
  for (const auto& i : run.scheme) {
    table.notes.push_back(indicatorName(i.key) + ": 权重 weight " + std::to_string(i.weight) +
                          ", " + ruleText(i.rule));
  }
  for (const auto& p : run.populations) {
    table.notes.push_back("常住人口 residents " + p.region_code + ": " +
                          std::to_string(p.residents) + " (" + p.source + ")");
  }
  return analytics::toXlsx(table);
}

Result<std::string> reportPdf(const Run& run) {
  // Fontconfig and Pango's default font map are not safe to drive from several threads at once.
  static std::mutex render_mu;
  std::lock_guard<std::mutex> lock(render_mu);

  std::string pdf;
  cairo_surface_t* surface =
      cairo_pdf_surface_create_for_stream(appendBytes, &pdf, kPageWidthPt, kPageHeightPt);
  std::string title = "Guangdong carbon-inclusion target-responsibility assessment " +
                      std::to_string(run.year) + ", run " + std::to_string(run.id);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Tanpuhui");
  // The computation time, so a run renders to the same bytes every time.
  std::string created = formatIso8601(run.computed_at).substr(0, 19);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, created.c_str());
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);

  Pen pen(cr);
  pen.line("广东省碳普惠目标责任考核报告（" + std::to_string(run.year) + " 年度）", 18, true);
  pen.line("Carbon-inclusion target-responsibility assessment of the cities, " +
               std::to_string(run.year),
           11, false, 10);
  pen.line("统计期 Period: " + run.period_from + " 至 " + run.period_until, 10);
  pen.line(std::string("状态 State: ") +
               (run.state == "published" ? "已发布 published" : "已计算（未发布）computed") +
               "，运行编号 run " + std::to_string(run.id),
           10);
  pen.line("内容摘要 Content SHA-256: " + run.content_sha256, 8, false, 12);

  drawTotalsChart(cr, pen, run);
  drawRankingTable(cr, pen, run);

  pen.line("考核指标、权重与评分规则 / Indicators, weights and scoring rules", 11, true, 6);
  for (std::size_t i = 0; i < run.scheme.size(); ++i) {
    const auto& s = run.scheme[i];
    pen.line("指标" + std::to_string(i + 1) + " " + indicatorName(s.key) + "，权重 " +
                 std::to_string(s.weight) + "，" + ruleText(s.rule),
             9);
  }
  pen.advance(6);
  pen.line("并列规则：总分相同者名次相同，其后名次顺延（1, 2, 2, 4），并列城市按行政区划代码排列。",
           9);
  pen.line(
      "数据来源：每项数值均由平台数据计算，所用查询（服务、参数与 SQL）列于 XLSX 报表及接口 "
      "/api/v1/assessment/runs/" +
          std::to_string(run.id) + "/cities/{code}。",
      9);
  for (const auto& p : run.populations) {
    pen.line(
        "常住人口 " + p.region_code + "：" + std::to_string(p.residents) + "（" + p.source + "）",
        8, false, 2);
  }

  cairo_destroy(cr);
  cairo_surface_finish(surface);
  auto status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    return Error{ErrorCode::kInternal, "",
                 std::string("the PDF report failed: ") + cairo_status_to_string(status)};
  }
  return pdf;
}

}  // namespace tph::assessment::detail
