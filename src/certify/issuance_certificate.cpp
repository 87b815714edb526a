#include "certify/issuance_certificate.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include <memory>
#include <mutex>
#include <stdexcept>

namespace tph::certify {

namespace {

constexpr double kPageWidthPt = 595.0;  // A4
constexpr double kPageHeightPt = 842.0;
constexpr double kMarginPt = 56.0;

cairo_status_t appendBytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string grouped(std::int64_t value) {
  std::string digits = std::to_string(value), out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n > 0 && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return out;
}

//! Lays out text lines down the page, starting a new page when one is full.
class PageWriter {
 public:
  explicit PageWriter(cairo_t* cr) : cr_(cr) {}

  void line(const std::string& text, double size_pt, bool bold = false, double gap_pt = 4) {
    std::unique_ptr<PangoLayout, decltype(&g_object_unref)> layout(pango_cairo_create_layout(cr_),
                                                                   g_object_unref);
    std::string font = std::string(kCertificateFont) + (bold ? " Bold " : " ") +
                       std::to_string(static_cast<int>(size_pt));
    std::unique_ptr<PangoFontDescription, decltype(&pango_font_description_free)> desc(
        pango_font_description_from_string(font.c_str()), pango_font_description_free);
    pango_layout_set_font_description(layout.get(), desc.get());
    pango_layout_set_width(layout.get(),
                           static_cast<int>((kPageWidthPt - 2 * kMarginPt) * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout.get(), text.c_str(), -1);
    int width = 0, height = 0;
    pango_layout_get_size(layout.get(), &width, &height);
    double height_pt = static_cast<double>(height) / PANGO_SCALE;
    if (y_ + height_pt > kPageHeightPt - kMarginPt) {
      cairo_show_page(cr_);
      y_ = kMarginPt;
    }
    cairo_move_to(cr_, kMarginPt, y_);
    pango_cairo_show_layout(cr_, layout.get());
    y_ += height_pt + gap_pt;
  }
  void space(double pt) { y_ += pt; }

 private:
  cairo_t* cr_;
  double y_ = kMarginPt;
};

}  // namespace

std::string renderIssuanceCertificate(const CertificateData& d) {
  // Fontconfig and Pango's default font map are not safe to drive from several threads at once;
  // certificates are rare, so one at a time.
  static std::mutex render_mu;
  std::lock_guard<std::mutex> lock(render_mu);

  std::string pdf;
  cairo_surface_t* surface =
      cairo_pdf_surface_create_for_stream(appendBytes, &pdf, kPageWidthPt, kPageHeightPt);
  std::string title = "PHCER issuance certificate, batch " + std::to_string(d.batch_no);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Tanpuhui");
  // The root in the metadata as well, so a reader finds it without parsing page content.
  if (!d.merkle_root.empty()) {
    std::string keywords = "merkle_root:" + d.merkle_root;
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_KEYWORDS, keywords.c_str());
  }
  if (!d.subject.empty())
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, d.subject.c_str());
  // The issue time, not the render time, so a certificate renders to the same bytes every time.
  std::string created = formatIso8601(d.issued_at).substr(0, 19);
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, created.c_str());
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);

  PageWriter page(cr);
  page.line("广东省碳普惠核证减排量（PHCER）签发证书", 18, true);
  page.line("Guangdong PHCER Issuance Certificate", 12, false, 16);
  page.line("批次编号 Batch no.: " + std::to_string(d.batch_no), 11);
  page.line("方法学 Methodology: " + d.methodology, 11);
  page.line("地区 Region: " + d.region, 11);
  page.line("减排期间 Vintage: " + d.vintage_from + " 至 " + d.vintage_until, 11);
  page.line("运营机构账户 Operator account: " + d.operator_account_no, 11);
  page.line("核证机构 Verifier: " + d.verifier_name, 11, false, 12);
  page.line("核证减排量 Approved: " + grouped(d.grams_approved.value()) + " 克 (g) CO2e", 11);
  page.line("上期结转 Carried in: " + grouped(d.carry_in.value()) + " 克 (g)", 11);
  page.line("签发数量 Units issued: " + grouped(d.units.value()) + " 吨 PHCER (tCO2e)", 11);
  page.line("其中缓冲池 Of which to the buffer pool: " + grouped(d.buffer_units.value()) + " 吨",
            11);
  page.line("结转下期 Carried over: " + grouped(d.carry_out.value()) + " 克 (g)", 11, false, 12);
  if (!d.merkle_root.empty()) {
    page.line("减排记录默克尔根 Merkle root of the reductions (SHA-256):", 11, true);
    page.line(d.merkle_root, 9, false, 12);
  }
  page.line("序列号 Serial blocks:", 11, true);
  for (const auto& serial : d.serials) page.line(serial, 10);
  page.space(12);
  page.line("签发时间 Issued at: " + formatIso8601(d.issued_at), 11);
  page.line("签发机构：广东省碳普惠主管部门 Issued by the Guangdong carbon-inclusive authority",
            11);

  cairo_destroy(cr);
  cairo_surface_finish(surface);
  auto status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("the certificate PDF failed: ") +
                             cairo_status_to_string(status));
  }
  return pdf;
}

}  // namespace tph::certify
