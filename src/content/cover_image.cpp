#include "content/cover_image.h"

#include <vips/vips.h>

#include <mutex>

namespace tph::content {

namespace {

void ensureVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("tanpuhui") != 0) throw std::runtime_error("libvips failed to start");
    // The operation cache would hold uploads in memory after the request; threads are bounded
    // so one upload cannot take every core of a small server.
    vips_cache_set_max(0);
    vips_concurrency_set(2);
  });
}

struct ImageRef {
  VipsImage* image = nullptr;
  ~ImageRef() {
    if (image) g_object_unref(image);
  }
};

std::string vipsError() {
  std::string message = vips_error_buffer();
  vips_error_clear();
  return message;
}

Error undecodable() {
  return Error::invalid("body", "the image cannot be decoded");
}

}  // namespace

std::optional<ImageType> sniffImageType(std::string_view b) {
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    return ImageType::kPng;
  }
  if (b.size() >= 3 && b.substr(0, 3) == "\xff\xd8\xff") return ImageType::kJpeg;
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    return ImageType::kWebp;
  }
  return std::nullopt;
}

std::string_view mimeType(ImageType type) {
  switch (type) {
    case ImageType::kPng:
      return "image/png";
    case ImageType::kJpeg:
      return "image/jpeg";
    case ImageType::kWebp:
      return "image/webp";
  }
  return "application/octet-stream";
}

Result<std::vector<ResizedImage>> resizeCover(std::string_view bytes,
                                              std::string_view declared_content_type) {
  if (bytes.size() > kMaxCoverBytes) {
    return Error{
        ErrorCode::kPayloadTooLarge, "body",
        "a cover image is at most " + std::to_string(kMaxCoverBytes / (1024 * 1024)) + " MiB"};
  }
  if (bytes.empty()) return Error::invalid("body", "the image is empty");
  auto type = sniffImageType(bytes);
  if (!type) return Error::invalid("body", "is not a PNG, JPEG or WebP image");
  auto declared = declared_content_type.substr(0, declared_content_type.find(';'));
  if (declared.substr(0, 6) == "image/" && declared != mimeType(*type)) {
    return Error::invalid("content-type", "says " + std::string(declared) + " but the bytes are " +
                                              std::string(mimeType(*type)));
  }
  ensureVips();
  ImageRef header;
  // Reads the header only; pixels are decoded when a size is rendered below.
  header.image = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", NULL);
  if (!header.image) {
    vipsError();
    return undecodable();
  }
  int width = vips_image_get_width(header.image);
  int height = vips_image_get_height(header.image);
  if (width < 1 || height < 1 || width > kMaxCoverSourcePx || height > kMaxCoverSourcePx) {
    return Error::invalid("body", "the image must be 1 to " + std::to_string(kMaxCoverSourcePx) +
                                      " pixels wide and high");
  }
  std::vector<ResizedImage> out;
  for (int target : kCoverWidthsPx) {
    ImageRef thumb, flat;
    if (vips_thumbnail_buffer(const_cast<char*>(bytes.data()), bytes.size(), &thumb.image, target,
                              "height", VIPS_MAX_COORD, "size", VIPS_SIZE_DOWN, NULL) != 0) {
      vipsError();
      return undecodable();
    }
    VipsImage* ready = thumb.image;
    if (vips_image_hasalpha(ready)) {
      VipsArrayDouble* white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
      int failed = vips_flatten(ready, &flat.image, "background", white, NULL);
      vips_area_unref(VIPS_AREA(white));
      if (failed != 0) {
        vipsError();
        return undecodable();
      }
      ready = flat.image;
    }
    void* buffer = nullptr;
    std::size_t length = 0;
    if (vips_jpegsave_buffer(ready, &buffer, &length, "Q", 82, "strip", TRUE, "optimize_coding",
                             TRUE, NULL) != 0) {
      vipsError();
      return undecodable();
    }
    ResizedImage r;
    r.requested_width_px = target;
    r.width_px = vips_image_get_width(ready);
    r.height_px = vips_image_get_height(ready);
    r.jpeg.assign(static_cast<const char*>(buffer), length);
    g_free(buffer);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tph::content
