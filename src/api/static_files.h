#pragma once
// Serves the built web app (web/dist): content types, caching (fingerprinted assets are immutable,
// everything else revalidates), ETags, and index.html for client-side routes.

#include <filesystem>
#include <optional>

#include "api/http_message.h"

namespace tph::api {

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  //! The response for a GET or HEAD outside /api, or nullopt when there is nothing to serve.
  std::optional<HttpResponse> serve(const HttpRequest& request) const;

 private:
  std::filesystem::path root_;
};

//! The content type for a file name's extension.
const char* contentTypeFor(const std::filesystem::path& file);

}  // namespace tph::api
