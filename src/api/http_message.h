#pragma once
// Plain HTTP request and response types. Everything above the wire (router, routes, tests) speaks
// these; only http_server.cpp and http_client.cpp include Boost.Beast, which keeps builds fast.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tph::api {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   //!< "GET", "POST", ...
  std::string target;   //!< as sent: path plus "?query"
  std::string path;     //!< percent-decoded path, without the query
  std::string query;    //!< raw query string, without '?'
  HttpHeaders headers;  //!< names lower-cased
  std::string body;
  std::string client_address;  //!< peer IP as text

  //! The first header with this (lower-case) name, or "" when absent.
  std::string_view header(std::string_view lower_name) const;
  //! The decoded value of a query parameter, or "" when absent.
  std::string queryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;  //!< e.g. {"content-type", "application/json"}
  std::string body;

  void setHeader(std::string name, std::string value);
  std::string_view header(std::string_view lower_name) const;
};

//! Decodes %XX escapes (and '+' as space when `plus_as_space`); nullopt-free: bad escapes stay
//! as-is.
std::string percentDecode(std::string_view text, bool plus_as_space);

}  // namespace tph::api
