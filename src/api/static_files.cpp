#include "api/static_files.h"

#include <fstream>
#include <sstream>

namespace tph::api {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kStaticFileMaxBytes = 64 * 1024 * 1024;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

const char* contentTypeFor(const fs::path& file) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".geojson", "application/geo+json"},
      {".pdf", "application/pdf"},
      {".csv", "text/csv; charset=utf-8"},
  };
  auto ext = file.extension().string();
  for (const auto& [suffix, type] : kTypes) {
    if (ext == suffix) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(fs::path root) : root_(fs::weakly_canonical(root)) {}

std::optional<HttpResponse> StaticFiles::serve(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  if (startsWith(request.path, "/api/") || request.path == "/api") return std::nullopt;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return std::nullopt;

  fs::path relative = fs::path(request.path).relative_path();
  fs::path file = fs::weakly_canonical(root_ / relative, ec);
  // Refuse anything that resolves outside the root ("..", symlinks out).
  auto [root_end, file_it] = std::mismatch(root_.begin(), root_.end(), file.begin(), file.end());
  if (ec || root_end != root_.end()) return std::nullopt;
  if (fs::is_directory(file, ec)) file /= "index.html";
  if (!fs::is_regular_file(file, ec)) {
    // A client-side route ("/account/history", "/methodologies/travel.metro") gets the app's
    // shell: any path without an extension, and any path a browser navigates to (it accepts
    // HTML). A missing asset (a script, an image) and anything under /api/ stay 404.
    if (request.path.rfind("/api/", 0) == 0) return std::nullopt;
    bool navigation = request.header("accept").find("text/html") != std::string_view::npos;
    if (fs::path(request.path).has_extension() && !navigation) return std::nullopt;
    file = root_ / "index.html";
    if (!fs::is_regular_file(file, ec)) return std::nullopt;
  }
  auto size = fs::file_size(file, ec);
  if (ec || size > kStaticFileMaxBytes) return std::nullopt;
  auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
  std::string etag = "\"" + std::to_string(size) + "-" + std::to_string(mtime) + "\"";

  HttpResponse response;
  response.setHeader("content-type", contentTypeFor(file));
  response.setHeader("etag", etag);
  // Vite fingerprints everything under assets/, so those never change under the same name.
  bool fingerprinted = startsWith(request.path, "/assets/");
  response.setHeader("cache-control",
                     fingerprinted ? "public, max-age=31536000, immutable" : "no-cache");
  response.setHeader("x-content-type-options", "nosniff");
  if (request.header("if-none-match") == etag) {
    response.status = 304;
    return response;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  response.body = buffer.str();
  return response;
}

}  // namespace tph::api
