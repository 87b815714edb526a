#pragma once
// A small synchronous HTTP/1.1 client with keep-alive, for tests, benchmarks and node-to-node
// calls.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http_message.h"

namespace tph::api {

//! One keep-alive connection; reconnects on demand. Not shared between threads.
class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  //! Sends method + target (path and query) with headers and body; returns the response.
  //! Throws std::system_error on connection or protocol failure.
  HttpResponse send(const std::string& method, const std::string& target,
                    const HttpHeaders& headers = {}, const std::string& body = {});
  //! Sends raw bytes and returns the raw response bytes read until the server closes or the
  //! timeout passes; for tests of malformed requests.
  std::string sendRaw(const std::string& bytes);
  void close();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tph::api
