#pragma once
// The PHCER issuance certificate (签发证书) as a PDF: drawn with Cairo and laid out with Pango in
// Noto Sans CJK, which embeds and shapes Chinese correctly.

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/quantity.h"

namespace tph::certify {

struct CertificateData {
  std::int64_t batch_no = 0;
  std::string methodology;
  std::string region;
  std::string vintage_from, vintage_until;
  std::string operator_account_no;
  std::string verifier_name;
  Grams grams_approved{0};
  Grams carry_in{0};
  Grams carry_out{0};
  Units units{0};
  Units buffer_units{0};
  std::vector<std::string> serials;  //!< "operator: CN-GD-PHCER-..." lines
  std::string subject;               //!< ASCII, for the PDF's metadata: the first serial block
  Instant issued_at;
  std::string merkle_root;  //!< hex; the batch's commitment to its reductions
};

//! The certificate's PDF bytes: A4, as many pages as its serial blocks need. Its metadata title
//! names the batch so a reader can find it without parsing the page content.
std::string renderIssuanceCertificate(const CertificateData& data);

//! The font family the certificate is set in.
inline constexpr const char* kCertificateFont = "Noto Sans CJK SC";

}  // namespace tph::certify
