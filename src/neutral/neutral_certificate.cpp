#include "neutral/neutral_certificate.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "incentive/qr_code.h"

namespace tph::neutral {

namespace {

constexpr double kPageWidthPt = 595.0;  // A4
constexpr double kPageHeightPt = 842.0;
constexpr double kMarginPt = 56.0;
constexpr double kQrSizePt = 120.0;
constexpr const char* kFont = "Noto Sans CJK SC";

cairo_status_t appendBytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct PngReader {
  const std::string& bytes;
  std::size_t offset = 0;
};

cairo_status_t readPng(void* closure, unsigned char* data, unsigned int length) {
  auto* r = static_cast<PngReader*>(closure);
  if (r->offset + length > r->bytes.size()) return CAIRO_STATUS_READ_ERROR;
  std::copy_n(r->bytes.data() + r->offset, length, data);
  r->offset += length;
  return CAIRO_STATUS_SUCCESS;
}

std::string tonnes(std::int64_t grams) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", static_cast<double>(grams) / kGramsPerUnit);
  return text;
}

//! Text lines down the page, a new page when one is full; `right_pt` keeps lines clear of the QR
//! code on the first page.
class PageWriter {
 public:
  explicit PageWriter(cairo_t* cr) : cr_(cr) {}
  void line(const std::string& text, double size_pt, bool bold = false, double gap_pt = 4) {
    std::unique_ptr<PangoLayout, decltype(&g_object_unref)> layout(pango_cairo_create_layout(cr_),
                                                                   g_object_unref);
    std::string font =
        std::string(kFont) + (bold ? " Bold " : " ") + std::to_string(static_cast<int>(size_pt));
    std::unique_ptr<PangoFontDescription, decltype(&pango_font_description_free)> desc(
        pango_font_description_from_string(font.c_str()), pango_font_description_free);
    pango_layout_set_font_description(layout.get(), desc.get());
    double width = kPageWidthPt - 2 * kMarginPt - (first_page_ ? right_pt_ : 0);
    pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout.get(), text.c_str(), -1);
    int w = 0, h = 0;
    pango_layout_get_size(layout.get(), &w, &h);
    double height_pt = static_cast<double>(h) / PANGO_SCALE;
    if (y_ + height_pt > kPageHeightPt - kMarginPt) {
      cairo_show_page(cr_);
      y_ = kMarginPt;
      first_page_ = false;
    }
    cairo_move_to(cr_, kMarginPt, y_);
    pango_cairo_show_layout(cr_, layout.get());
    y_ += height_pt + gap_pt;
    if (y_ > kMarginPt + kQrSizePt + 24) right_pt_ = 0;
  }
  void space(double pt) { y_ += pt; }
  void reserveRight(double pt) { right_pt_ = pt; }

 private:
  cairo_t* cr_;
  double y_ = kMarginPt;
  double right_pt_ = 0;
  bool first_page_ = true;
};

void drawQr(cairo_t* cr, const std::string& url) {
  auto png = incentive::qrPng(url, 4);
  if (!png) throw std::runtime_error("the certificate's QR code failed: " + png.error().message);
  PngReader reader{*png};
  cairo_surface_t* image = cairo_image_surface_create_from_png_stream(readPng, &reader);
  if (cairo_surface_status(image) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(image);
    throw std::runtime_error("the certificate's QR code image is unreadable");
  }
  double side = cairo_image_surface_get_width(image);
  cairo_save(cr);
  cairo_translate(cr, kPageWidthPt - kMarginPt - kQrSizePt, kMarginPt);
  cairo_scale(cr, kQrSizePt / side, kQrSizePt / side);
  cairo_set_source_surface(cr, image, 0, 0);
  // Modules stay sharp squares when scaled.
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(image);
}

}  // namespace

std::string renderNeutralCertificate(const Event& e, const std::string& page_url) {
  // Fontconfig and Pango's default font map are not safe to drive from several threads at once.
  static std::mutex render_mu;
  std::lock_guard<std::mutex> lock(render_mu);

  std::string pdf;
  cairo_surface_t* surface =
      cairo_pdf_surface_create_for_stream(appendBytes, &pdf, kPageWidthPt, kPageHeightPt);
  std::string title = "Carbon-neutral certificate, event " + std::to_string(e.id);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Tanpuhui");
  std::string keywords = "neutral_event:" + std::to_string(e.id) + " page:" + page_url;
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_KEYWORDS, keywords.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, e.slug.c_str());
  // The neutralisation time, so a certificate renders to the same bytes every time.
  std::string created = formatIso8601(e.neutralised_at.value_or(e.created_at)).substr(0, 19);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, created.c_str());
  cairo_t* cr = cairo_create(surface);
  drawQr(cr, page_url);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);

  bool personal = e.kind == "personal";
  PageWriter page(cr);
  page.reserveRight(kQrSizePt + 16);
  page.line(personal ? "个人碳中和证书" : "碳中和活动证书", 20, true);
  page.line(
      personal ? "Personal Carbon Neutrality Certificate" : "Carbon-Neutral Event Certificate", 12,
      false, 16);
  page.line((personal ? "名称 Name: " : "活动名称 Event: ") + e.name, 12, true);
  page.line("组织者 Organiser: " + e.organiser_name, 11);
  page.line("日期 Dates: " + e.starts_on + " 至 " + e.ends_on, 11);
  page.line(
      "地点 Venue: " + (e.venue.empty() ? std::string() : e.venue + "，") + "行政区划 " + e.city,
      11, false, 12);
  page.line("碳足迹 Footprint: " + tonnes(e.footprint.value()) + " 吨二氧化碳当量 (tCO2e)", 11);
  page.line("核算方法 Calculator: " + e.calculator, 11);
  page.line("注销碳普惠核证减排量 PHCER retired: " + std::to_string(e.units_retired) + " 吨 (t)" +
                (e.neutralised_with == "points"
                     ? "，以 " + std::to_string(e.points_paid) + " 积分兑换 (paid in points)"
                     : std::string()),
            11, false, 12);
  page.line("注销序列号 Retired serial blocks:", 11, true);
  for (const auto& r : e.retirements)
    for (const auto& serial : r.serials) page.line(serial, 9);
  page.space(12);
  page.line("该活动产生的温室气体排放已通过注销等量的广东省碳普惠核证减排量（PHCER）实现碳中和。",
            11);
  page.line(
      "The greenhouse-gas emissions above are neutralised by retiring at least as many "
      "Guangdong PHCER units, with this event as beneficiary.",
      10, false, 8);
  if (e.neutralised_at)
    page.line("碳中和时间 Neutralised at: " + formatIso8601(*e.neutralised_at), 11);
  page.line("扫码查看公开页面 Scan to open the public page: " + page_url, 9);
  page.line("广东省碳普惠平台 Guangdong carbon-inclusive platform (Tanpuhui)", 11);

  cairo_destroy(cr);
  cairo_surface_finish(surface);
  auto status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("the certificate PDF failed: ") +
                             cairo_status_to_string(status));
  return pdf;
}

}  // namespace tph::neutral
