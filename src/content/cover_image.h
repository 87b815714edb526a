#pragma once
// Cover images: the upload is identified by its magic bytes (PNG, JPEG, WebP only; the declared
// type or file name counts for nothing), bounded in bytes and pixels, and re-encoded by libvips
// into the web sizes as baseline JPEG with metadata stripped — the stored files never contain
// the uploaded bytes themselves.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tph::content {

inline constexpr std::size_t kMaxCoverBytes = 5 * 1024 * 1024;
//! Wider or taller sources are refused before decoding (a small file may declare huge pixels).
inline constexpr int kMaxCoverSourcePx = 10'000;
//! The web sizes, by width; a narrower source is not enlarged.
inline constexpr int kCoverWidthsPx[] = {1200, 400};

enum class ImageType { kPng, kJpeg, kWebp };

//! The type the bytes are, by their signature; nullopt for anything else.
std::optional<ImageType> sniffImageType(std::string_view bytes);
std::string_view mimeType(ImageType type);

struct ResizedImage {
  int requested_width_px = 0;  //!< the web size this answers for (1200, 400)
  int width_px = 0;
  int height_px = 0;
  std::string jpeg;
};

//! Checks and resizes an upload. Errors: payload_too_large (field "body") above kMaxCoverBytes;
//! invalid "body" when the bytes are no PNG, JPEG or WebP or cannot be decoded; invalid
//! "content-type" when a declared image type disagrees with the bytes.
Result<std::vector<ResizedImage>> resizeCover(std::string_view bytes,
                                              std::string_view declared_content_type);

}  // namespace tph::content
