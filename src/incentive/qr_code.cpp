// libqrencode makes the module matrix; the PNG is written here with zlib (one IDAT chunk of
// 8-bit greyscale rows), which is all a QR image needs and spares a libpng dependency.

#include "incentive/qr_code.h"

#include <qrencode.h>
#include <zlib.h>

#include <memory>
#include <vector>

namespace tph::incentive {

namespace {

constexpr int kQuietZoneModules = 4;

struct Matrix {
  int width = 0;
  std::vector<bool> dark;
  bool at(int x, int y) const { return dark[static_cast<std::size_t>(y * width + x)]; }
};

Result<Matrix> encode(const std::string& text) {
  if (text.empty() || text.size() > kQrMaxTextBytes)
    return Error::invalid("text", "a QR code holds 1-512 bytes here");
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(
      QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M), QRcode_free);
  if (!code) return Error{ErrorCode::kInternal, {}, "QR encoding failed"};
  Matrix m;
  m.width = code->width;
  m.dark.resize(static_cast<std::size_t>(m.width * m.width));
  for (int i = 0; i < m.width * m.width; ++i)
    m.dark[static_cast<std::size_t>(i)] = code->data[i] & 1;
  return m;
}

void putU32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void chunk(std::string& png, const char* type, const std::string& data) {
  putU32(png, static_cast<std::uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  png += body;
  putU32(png, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                               static_cast<uInt>(body.size()))));
}

}  // namespace

Result<std::string> qrSvg(const std::string& text) {
  auto m = encode(text);
  if (!m) return m.error();
  int size = m->width + 2 * kQuietZoneModules;
  std::string path;
  for (int y = 0; y < m->width; ++y)
    for (int x = 0; x < m->width; ++x)
      if (m->at(x, y))
        path += "M" + std::to_string(x + kQuietZoneModules) + " " +
                std::to_string(y + kQuietZoneModules) + "h1v1h-1z";
  std::string n = std::to_string(size);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
         "viewBox=\"0 0 " +
         n + " " + n + "\" width=\"" + std::to_string(size * 8) + "\" height=\"" +
         std::to_string(size * 8) + "\" shape-rendering=\"crispEdges\"><rect width=\"" + n +
         "\" height=\"" + n + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>\n";
}

Result<std::string> qrPng(const std::string& text, int scale) {
  if (scale < 1 || scale > kQrMaxScale) return Error::invalid("scale", "scale must be 1-32");
  auto m = encode(text);
  if (!m) return m.error();
  const int modules = m->width + 2 * kQuietZoneModules;
  const int pixels = modules * scale;
  std::string raw;
  raw.reserve(static_cast<std::size_t>(pixels * (pixels + 1)));
  for (int py = 0; py < pixels; ++py) {
    raw += '\0';  // filter type None
    int my = py / scale - kQuietZoneModules;
    for (int px = 0; px < pixels; ++px) {
      int mx = px / scale - kQuietZoneModules;
      bool dark = mx >= 0 && my >= 0 && mx < m->width && my < m->width && m->at(mx, my);
      raw += dark ? '\0' : '\xff';
    }
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                Z_BEST_COMPRESSION) != Z_OK)
    return Error{ErrorCode::kInternal, {}, "PNG compression failed"};
  packed.resize(packed_size);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  putU32(header, static_cast<std::uint32_t>(pixels));
  putU32(header, static_cast<std::uint32_t>(pixels));
  header += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit greyscale, deflate, no interlace
  chunk(png, "IHDR", header);
  chunk(png, "IDAT", packed);
  chunk(png, "IEND", "");
  return png;
}

}  // namespace tph::incentive
