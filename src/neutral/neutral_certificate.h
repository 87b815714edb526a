#pragma once
// The carbon-neutral certificate (碳中和证书) as a PDF: Cairo and Pango in Noto Sans CJK, with a QR
// code (libqrencode, through incentive/qr_code.h) that opens the event's public page.

#include <string>

#include "neutral/neutral_service.h"

namespace tph::neutral {

//! The certificate's PDF bytes. Its metadata title names the event (ASCII) and its keywords carry
//! the page URL, so a reader finds both without parsing the page content.
std::string renderNeutralCertificate(const Event& event, const std::string& page_url);

}  // namespace tph::neutral
