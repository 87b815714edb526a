#pragma once
// The HTTP/1.1 server: keep-alive, a worker thread per core, body limit, header and idle timeouts,
// graceful shutdown. It knows nothing of routes; it hands each request to one handler.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http_message.h"

namespace tph::api {

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  //!< 0 picks a free port; start() returns it
  int workers = 0;            //!< threads; 0 means one per core
  std::size_t body_limit_bytes = 8 * 1024 * 1024;
  std::size_t header_limit_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  //!< to receive a whole request head
  std::chrono::milliseconds body_timeout{60'000};    //!< to receive the body after the head
  std::chrono::milliseconds idle_timeout{30'000};    //!< keep-alive wait for the next request
  std::chrono::milliseconds shutdown_grace{10'000};  //!< in-flight requests get this long
};

//! Shared between threads: start/stop may be called from any thread except from inside the
//! handler (stop() waits for handlers to return); the handler runs on the worker threads.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  //! Binds, starts the workers and returns the bound port. Throws std::system_error on bind
  //! failure.
  std::uint16_t start();
  //! Stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
  //! connections and joins the workers. Idempotent.
  void stop();
  //! Blocks until SIGINT or SIGTERM arrives, then stop()s.
  void runUntilSignal();
  //! Connections currently open.
  std::size_t openConnections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tph::api
