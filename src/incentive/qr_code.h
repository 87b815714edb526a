#pragma once
// QR codes for vouchers and entitlement codes (libqrencode), as SVG and as PNG.

#include <string>

#include "core/result.h"

namespace tph::incentive {

inline constexpr std::size_t kQrMaxTextBytes = 512;
inline constexpr int kQrMaxScale = 32;

//! An SVG image of the QR code of `text` (error correction level M, a four-module quiet zone).
Result<std::string> qrSvg(const std::string& text);
//! A greyscale PNG of the same, each module `scale` pixels square.
Result<std::string> qrPng(const std::string& text, int scale = 8);

}  // namespace tph::incentive
