#include "api/http_client.h"

// Boost 1.74's Asio needs <utility> first under C++20 with GCC 12: keep it above Boost.
#include <utility>

// This file and http_server.cpp are the only ones that include Beast and Asio (compile time).
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <string_view>
#include <system_error>

namespace tph::api {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr std::uint32_t kResponseHeaderLimitBytes = 64 * 1024;
constexpr std::uint64_t kResponseBodyLimitBytes = 64 * 1024 * 1024;
constexpr std::size_t kRawReadBytes = 16 * 1024;

std::string lowerCase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

std::system_error toSystemError(const beast::error_code& ec, const std::string& what) {
  return std::system_error(static_cast<std::error_code>(ec), what);
}

// Methods that may be sent twice without changing the outcome (RFC 9110, 9.2.2).
bool isIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

// What a keep-alive connection the server has already closed looks like.
bool isStaleConnectionError(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

}  // namespace

// Not shared between threads. Every operation is asynchronous on a private io_context run to
// completion, so tcp_stream's timeouts apply to synchronous calls too.
class HttpClient::Impl {
 public:
  Impl(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
      : host_(std::move(host)), port_(port), timeout_(timeout) {}

  HttpResponse send(const std::string& method, const std::string& target,
                    const HttpHeaders& headers, const std::string& body) {
    http::request<http::string_body> request = buildRequest(method, target, headers, body);
    const std::string what = "http client: " + method + " " + target;
    for (int attempt = 0;; ++attempt) {
      const bool reused = ensureConnected(what);
      std::optional<http::response_parser<http::string_body>> parser;
      beast::error_code ec = exchange(request, method == "HEAD", parser);
      if (!ec) return finish(parser->release());
      closeConnection();
      // A kept-alive connection the server closed as we reused it: nothing was answered, so an
      // idempotent request may go once more on a fresh connection.
      const bool retry = attempt == 0 && reused && isStaleConnectionError(ec) &&
                         !parser->got_some() && isIdempotent(method);
      if (!retry) throw toSystemError(ec, what);
    }
  }

  std::string sendRaw(const std::string& bytes) {
    const std::string what = "http client: raw request";
    beast::tcp_stream stream(ioc_);
    beast::error_code ec = connect(stream);
    if (ec) throw toSystemError(ec, what);
    stream.expires_after(timeout_);
    beast::error_code write_ec = run(
        [&](auto handler) { net::async_write(stream, net::buffer(bytes), std::move(handler)); });
    // The server may answer and close before it has read everything; read what it sent anyway.
    std::string received;
    stream.expires_after(timeout_);
    for (;;) {
      std::size_t old_size = received.size();
      received.resize(old_size + kRawReadBytes);
      std::size_t got = 0;
      ec = run(
          [&](auto handler) {
            stream.async_read_some(net::buffer(received.data() + old_size, kRawReadBytes),
                                   std::move(handler));
          },
          &got);
      received.resize(old_size + got);
      if (ec) break;
    }
    const bool ended =
        ec == net::error::eof || ec == beast::error::timeout || ec == net::error::connection_reset;
    if (!ended) throw toSystemError(ec, what);
    if (received.empty() && write_ec) throw toSystemError(write_ec, what);
    return received;
  }

  void closeConnection() {
    if (!stream_) return;
    beast::error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_->close();
    stream_.reset();
    buffer_.clear();
    reused_ = false;
  }

 private:
  http::request<http::string_body> buildRequest(const std::string& method,
                                                const std::string& target,
                                                const HttpHeaders& headers,
                                                const std::string& body) {
    http::request<http::string_body> request;
    request.method_string(method);
    request.target(target);
    request.version(11);
    bool has_host = false;
    for (const auto& [name, value] : headers) {
      request.insert(name, value);
      has_host = has_host || lowerCase(name) == "host";
    }
    if (!has_host) request.set(http::field::host, host_ + ":" + std::to_string(port_));
    request.body() = body;
    request.prepare_payload();
    return request;
  }

  //! Writes the request and reads the response on the current connection.
  beast::error_code exchange(http::request<http::string_body>& request, bool head_request,
                             std::optional<http::response_parser<http::string_body>>& parser) {
    parser.emplace();
    parser->header_limit(kResponseHeaderLimitBytes);
    parser->body_limit(kResponseBodyLimitBytes);
    parser->skip(head_request);
    stream_->expires_after(timeout_);
    beast::error_code ec =
        run([&](auto handler) { http::async_write(*stream_, request, std::move(handler)); });
    if (ec) return ec;
    stream_->expires_after(timeout_);
    return run(
        [&](auto handler) { http::async_read(*stream_, buffer_, *parser, std::move(handler)); });
  }

  HttpResponse finish(http::response<http::string_body>&& message) {
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      auto name = field.name_string();
      auto value = field.value();
      response.headers.emplace_back(lowerCase(std::string_view(name.data(), name.size())),
                                    std::string(value.data(), value.size()));
    }
    response.body = std::move(message.body());
    if (message.keep_alive()) {
      reused_ = true;
    } else {
      closeConnection();
    }
    return response;
  }

  //! Opens a connection unless a usable one is open; true when an open one is reused.
  bool ensureConnected(const std::string& what) {
    if (stream_ && peerHasClosed()) closeConnection();
    if (stream_) return reused_;
    stream_.emplace(ioc_);
    beast::error_code ec = connect(*stream_);
    if (ec) {
      stream_.reset();
      throw toSystemError(ec, what);
    }
    buffer_.clear();
    reused_ = false;
    return false;
  }

  // A kept-alive connection the server has since closed reads as end of stream at once; stray
  // bytes would be a protocol error. Either way the connection is not reused.
  bool peerHasClosed() {
    if (buffer_.size() > 0) return true;
    auto& socket = stream_->socket();
    beast::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return true;
    char byte;
    socket.receive(net::buffer(&byte, 1), tcp::socket::message_peek, ec);
    beast::error_code restore_ec;
    socket.non_blocking(false, restore_ec);
    return ec != net::error::would_block || restore_ec;
  }

  beast::error_code connect(beast::tcp_stream& stream) {
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    auto endpoints =
        resolver.resolve(host_, std::to_string(port_), tcp::resolver::numeric_service, ec);
    if (ec) return ec;
    stream.expires_after(timeout_);
    ec = run([&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) return ec;
    stream.socket().set_option(tcp::no_delay(true), ec);
    return ec;
  }

  //! Starts one asynchronous operation and runs the io_context until it has completed.
  template <class Initiate>
  beast::error_code run(Initiate&& initiate, std::size_t* bytes = nullptr) {
    beast::error_code result;
    initiate([&result, bytes](beast::error_code ec, auto transferred) {
      result = ec;
      if constexpr (std::is_integral_v<decltype(transferred)>) {
        if (bytes) *bytes = transferred;
      }
    });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  const std::string host_;
  const std::uint16_t port_;
  const std::chrono::milliseconds timeout_;
  net::io_context ioc_{1};
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  bool reused_ = false;  // the open connection has already carried a response
};

HttpClient::HttpClient(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(host), port, timeout)) {}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::send(const std::string& method, const std::string& target,
                              const HttpHeaders& headers, const std::string& body) {
  return impl_->send(method, target, headers, body);
}

std::string HttpClient::sendRaw(const std::string& bytes) {
  return impl_->sendRaw(bytes);
}

void HttpClient::close() {
  impl_->closeConnection();
}

}  // namespace tph::api
