#include "api/http_server.h"

// Boost 1.74's Asio needs <utility> first under C++20 with GCC 12: keep it above Boost.
#include <utility>

// This file and http_client.cpp are the only ones that include Beast and Asio (compile time).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/error_response.h"

namespace tph::api {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Read sizes: small while a head is expected, larger while a body streams in.
constexpr std::size_t kHeadReadBytes = 8 * 1024;
constexpr std::size_t kBodyReadBytes = 64 * 1024;
// A response body larger than this is released after writing rather than kept for reuse.
constexpr std::size_t kRetainedBodyBytes = 64 * 1024;
// After an error response the peer may still be sending the rejected body; it is read and
// discarded this long so that closing does not reset the connection before the peer has read
// the response.
constexpr std::chrono::milliseconds kLingerTimeout{2'000};
// After shutdown_grace, connections still open are closed; this is how long stop() then waits.
constexpr std::chrono::milliseconds kForcedCloseWait{1'000};
// How long to wait before accepting again after an accept error such as EMFILE.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

spdlog::logger& httpLog() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("http")) return existing;
    return spdlog::stderr_color_mt("http");
  }();
  return *logger;
}

bool equalsLower(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

void assignLower(std::string& out, std::string_view text) {
  out.resize(text.size());
  std::transform(text.begin(), text.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
}

void appendNumber(std::string& out, std::uint64_t value) {
  std::array<char, 24> digits;
  auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
  out.append(digits.data(), end);
}

bool isHeaderText(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Headers the server writes itself; a handler's values for them are dropped.
bool isServerOwnedHeader(std::string_view name) {
  return equalsLower(name, "content-length") || equalsLower(name, "transfer-encoding") ||
         equalsLower(name, "connection") || equalsLower(name, "server");
}

// A handler's response that would break the framing (a 1xx status, CR/LF in a header) is a bug.
bool isWellFormed(const HttpResponse& response) {
  if (response.status < 200 || response.status > 599) return false;
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !isHeaderText(name) || !isHeaderText(value)) return false;
  }
  return true;
}

HttpResponse internalError() {
  return errorResponse(500, Error{ErrorCode::kInternal, {}, "internal error"});
}

class Session;

// The state the acceptor, the sessions and stop() share. Shared between threads: `mu` guards
// `sessions`; `stopping` is only set under `mu` but may be read without it.
struct ServerShared {
  ServerShared(HttpServerOptions opts, HttpHandler fn)
      : options(std::move(opts)), handler(std::move(fn)) {}

  const HttpServerOptions options;
  const HttpHandler handler;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable sessions_ended;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mu

  //! False once the server is stopping; the caller then closes the connection.
  bool registerSession(Session* session, std::weak_ptr<Session> weak) {
    std::lock_guard lock(mu);
    if (stopping.load()) return false;
    sessions.emplace(session, std::move(weak));
    return true;
  }

  void unregisterSession(Session* session) {
    std::lock_guard lock(mu);
    sessions.erase(session);
    if (sessions.empty()) sessions_ended.notify_all();
  }

  //! Marks the server stopping and returns the live sessions.
  std::vector<std::shared_ptr<Session>> beginStopping() {
    std::lock_guard lock(mu);
    stopping.store(true);
    return liveSessionsLocked();
  }

  std::vector<std::shared_ptr<Session>> liveSessions() {
    std::lock_guard lock(mu);
    return liveSessionsLocked();
  }

  //! Waits until every session has ended or `timeout` passed; true when none is left.
  bool waitForSessions(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return sessions_ended.wait_for(lock, timeout, [&] { return sessions.empty(); });
  }

  std::size_t sessionCount() {
    std::lock_guard lock(mu);
    return sessions.size();
  }

 private:
  std::vector<std::shared_ptr<Session>> liveSessionsLocked() {
    std::vector<std::shared_ptr<Session>> live;
    live.reserve(sessions.size());
    for (auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
    return live;
  }
};

// One connection. Every member is touched only from the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerShared& server, tcp::socket&& socket)
      : server_(server), stream_(std::move(socket)) {}
  ~Session() { server_.unregisterSession(this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  //! Called on the acceptor's strand right after accept.
  void start() {
    // Before registering: from then on stop() may touch the session from its strand.
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) client_address_ = peer.address().to_string();
    if (!server_.registerSession(this, weak_from_this())) {
      closeNow();
      return;
    }
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::readRequest, shared_from_this()));
  }

  //! The server is stopping: close now unless a request is in flight; that one is answered
  //! with "Connection: close".
  void onServerStop() {
    if (phase_ == Phase::kLinger || waitingForRequest()) closeNow();
  }

  //! The shutdown grace has passed.
  void forceClose() { closeNow(); }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class Phase {
    kIdle,    // keep-alive: waiting for the first byte of the next request
    kHead,    // receiving a request head
    kBody,    // receiving a request body
    kBusy,    // running the handler or writing the response
    kLinger,  // discarding input after an error response
    kClosed,
  };

  bool waitingForRequest() const {
    return phase_ == Phase::kIdle ||
           (phase_ == Phase::kHead && buffer_.size() == 0 && !parser_->got_some());
  }

  void readRequest() {
    if (server_.stopping.load(std::memory_order_relaxed) && buffer_.size() == 0) {
      closeNow();
      return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        server_.options.header_limit_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(server_.options.body_limit_bytes);
    // A fresh connection gets header_timeout from accept; a kept-alive one idle_timeout until
    // the next request starts.
    if (first_request_ || buffer_.size() > 0) {
      beginHead();
    } else {
      phase_ = Phase::kIdle;
    }
    if (buffer_.size() > 0) {
      parse();
    } else {
      readSome();
    }
  }

  void beginHead() {
    phase_ = Phase::kHead;
    deadline_ = SteadyClock::now() + server_.options.header_timeout;
  }

  void readSome() {
    if (phase_ == Phase::kIdle) {
      stream_.expires_after(server_.options.idle_timeout);
    } else {
      stream_.expires_at(deadline_);
    }
    std::size_t bytes = phase_ == Phase::kBody ? kBodyReadBytes : kHeadReadBytes;
    stream_.async_read_some(buffer_.prepare(bytes),
                            beast::bind_front_handler(&Session::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t bytes) {
    // End of stream, a timeout (tcp_stream has closed the socket) or a reset: nothing to answer.
    if (ec) {
      closeNow();
      return;
    }
    buffer_.commit(bytes);
    if (phase_ == Phase::kIdle) beginHead();
    parse();
  }

  void parse() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) {
        rejectRequest(ec);
        return;
      }
      if (phase_ == Phase::kHead && parser_->is_header_done()) {
        phase_ = Phase::kBody;
        deadline_ = SteadyClock::now() + server_.options.body_timeout;
        if (!parser_->is_done() && buffer_.size() == 0 && expectsContinue()) {
          sendContinue();
          return;
        }
      }
      if (used == 0) break;
    }
    if (parser_->is_done()) {
      handleRequest();
    } else {
      readSome();
    }
  }

  bool expectsContinue() const {
    const auto& head = parser_->get();
    auto expect = head[http::field::expect];
    return head.version() >= 11 &&
           equalsLower(std::string_view(expect.data(), expect.size()), "100-continue");
  }

  void sendContinue() {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_at(deadline_);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->closeNow();
                       } else {
                         self->readSome();
                       }
                     });
  }

  void rejectRequest(beast::error_code ec) {
    phase_ = Phase::kBusy;
    if (ec == http::error::body_limit) {
      response_ = errorResponse(
          413, Error{ErrorCode::kPayloadTooLarge,
                     {},
                     "request body exceeds " + std::to_string(server_.options.body_limit_bytes) +
                         " bytes"});
    } else if (ec == http::error::header_limit) {
      response_ = errorResponse(
          431, Error::badRequest("request header exceeds " +
                                 std::to_string(server_.options.header_limit_bytes) + " bytes"));
    } else {
      response_ = errorResponse(400, Error::badRequest("malformed HTTP request: " + ec.message()));
    }
    keep_alive_ = false;
    linger_ = true;
    head_request_ = false;
    version_ = 11;
    writeResponse();
  }

  void handleRequest() {
    phase_ = Phase::kBusy;
    stream_.expires_never();
    auto& message = parser_->get();
    fillRequest(message);
    version_ = message.version();
    head_request_ = message.method() == http::verb::head;
    linger_ = false;
    try {
      response_ = server_.handler(request_);
    } catch (const std::exception& e) {
      httpLog().error("handler failed for {} {}: {}", request_.method, request_.path, e.what());
      response_ = internalError();
    } catch (...) {
      httpLog().error("handler failed for {} {}: unknown exception", request_.method,
                      request_.path);
      response_ = internalError();
    }
    // The body's buffer came from the parser and is not reused; an idle connection should not
    // hold on to a large upload.
    std::string().swap(request_.body);
    // Checked after the handler, so a response finished during stop() says "Connection: close".
    keep_alive_ = message.keep_alive() && !server_.stopping.load(std::memory_order_relaxed);
    writeResponse();
  }

  // Reuses the strings and the header vector of the previous request on this connection.
  void fillRequest(http::request<http::string_body>& message) {
    request_.method.assign(message.method_string().data(), message.method_string().size());
    std::string_view target(message.target().data(), message.target().size());
    request_.target.assign(target);
    auto question = target.find('?');
    std::string_view path = target.substr(0, question);
    if (path.find('%') == std::string_view::npos) {
      request_.path.assign(path);
    } else {
      request_.path = percentDecode(path, false);
    }
    if (question == std::string_view::npos) {
      request_.query.clear();
    } else {
      request_.query.assign(target.substr(question + 1));
    }
    auto& headers = request_.headers;
    std::size_t count = 0;
    for (const auto& field : message) {
      if (count == headers.size()) headers.emplace_back();
      auto name = field.name_string();
      auto value = field.value();
      assignLower(headers[count].first, std::string_view(name.data(), name.size()));
      headers[count].second.assign(value.data(), value.size());
      ++count;
    }
    headers.resize(count);
    request_.body = std::move(message.body());
    request_.client_address.assign(client_address_);
  }

  void writeResponse() {
    if (!isWellFormed(response_)) {
      httpLog().error("handler returned a malformed response (status {}) for {} {}",
                      response_.status, request_.method, request_.path);
      response_ = internalError();
    }
    bool send_body = serializeHead();
    std::array<net::const_buffer, 2> buffers{
        net::buffer(head_),
        send_body ? net::buffer(response_.body) : net::const_buffer{},
    };
    // Writing a response gets as long as receiving a body.
    stream_.expires_after(server_.options.body_timeout);
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::onWrite, shared_from_this()));
  }

  //! Writes the status line and headers into head_; returns whether the body is sent.
  bool serializeHead() {
    const int status = response_.status;
    head_.clear();
    head_.append("HTTP/1.1 ");
    appendNumber(head_, static_cast<std::uint64_t>(status));
    head_.push_back(' ');
    auto known = http::int_to_status(static_cast<unsigned>(status));
    if (known != http::status::unknown) {
      auto reason = http::obsolete_reason(known);
      head_.append(reason.data(), reason.size());
    }
    head_.append("\r\nServer: tanpuhui\r\n");
    for (const auto& [name, value] : response_.headers) {
      if (isServerOwnedHeader(name)) continue;
      head_.append(name).append(": ").append(value).append("\r\n");
    }
    const bool bodyless_status = status == 204 || status == 304;
    if (!bodyless_status) {
      head_.append("Content-Length: ");
      appendNumber(head_, response_.body.size());
      head_.append("\r\n");
    }
    if (!keep_alive_) {
      head_.append("Connection: close\r\n");
    } else if (version_ < 11) {
      head_.append("Connection: keep-alive\r\n");
    }
    head_.append("\r\n");
    return !bodyless_status && !head_request_;
  }

  void onWrite(beast::error_code ec, std::size_t) {
    if (ec) {
      closeNow();
      return;
    }
    if (linger_) {
      startLinger();
      return;
    }
    if (!keep_alive_) {
      closeGracefully();
      return;
    }
    if (response_.body.capacity() > kRetainedBodyBytes) std::string().swap(response_.body);
    first_request_ = false;
    readRequest();
  }

  // The request was rejected before it was read in full; see kLingerTimeout.
  void startLinger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec || server_.stopping.load(std::memory_order_relaxed)) {
      closeNow();
      return;
    }
    phase_ = Phase::kLinger;
    buffer_.clear();
    deadline_ = SteadyClock::now() + kLingerTimeout;
    discardInput();
  }

  void discardInput() {
    stream_.expires_at(deadline_);
    stream_.async_read_some(buffer_.prepare(kBodyReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                self->closeNow();
                                return;
                              }
                              self->buffer_.clear();
                              self->discardInput();
                            });
  }

  void closeGracefully() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    closeNow();
  }

  void closeNow() {
    phase_ = Phase::kClosed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  ServerShared& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  HttpResponse response_;
  std::string head_;
  std::string client_address_;
  SteadyClock::time_point deadline_;
  Phase phase_ = Phase::kIdle;
  int version_ = 11;
  bool first_request_ = true;
  bool keep_alive_ = false;
  bool head_request_ = false;
  bool linger_ = false;
};

int workerCount(int configured) {
  if (configured > 0) return configured;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::system_error toSystemError(const beast::error_code& ec, const std::string& what) {
  return std::system_error(static_cast<std::error_code>(ec), what);
}

}  // namespace

// Shared between threads: start/stop are serialised by lifecycle_mu_; the acceptor lives on its
// own strand.
class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : shared_(std::move(options), std::move(handler)),
        worker_count_(workerCount(shared_.options.workers)),
        ioc_(worker_count_),
        acceptor_(net::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {}

  ~Impl() { stop(); }

  std::uint16_t start() {
    std::lock_guard lock(lifecycle_mu_);
    if (state_ != State::kNew) throw std::logic_error("HttpServer::start called twice");
    const auto& options = shared_.options;
    const std::string where = options.host + ":" + std::to_string(options.port);
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(options.host, std::to_string(options.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) throw toSystemError(ec, "http server: cannot resolve " + where);
    tcp::endpoint endpoint = endpoints.begin()->endpoint();
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      beast::error_code ignored;
      acceptor_.close(ignored);
      throw toSystemError(ec, "http server: cannot listen on " + where);
    }
    port_ = acceptor_.local_endpoint().port();
    work_.emplace(net::make_work_guard(ioc_));
    net::post(acceptor_.get_executor(), [this] { accept(); });
    threads_.reserve(static_cast<std::size_t>(worker_count_));
    for (int i = 0; i < worker_count_; ++i) threads_.emplace_back([this] { runWorker(); });
    state_ = State::kRunning;
    return port_;
  }

  void stop() {
    std::lock_guard lock(lifecycle_mu_);
    if (state_ != State::kRunning) {
      state_ = State::kStopped;
      return;
    }
    closeAcceptor();
    for (auto& session : shared_.beginStopping()) {
      net::post(session->executor(), [session] { session->onServerStop(); });
    }
    if (!shared_.waitForSessions(shared_.options.shutdown_grace)) {
      auto open = shared_.liveSessions();
      httpLog().warn("closing {} connections still open after the shutdown grace", open.size());
      for (auto& session : open) {
        net::post(session->executor(), [session] { session->forceClose(); });
      }
      open.clear();
      shared_.waitForSessions(kForcedCloseWait);
    }
    work_.reset();
    ioc_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    state_ = State::kStopped;
  }

  void runUntilSignal() {
    net::io_context signal_ioc(1);
    net::signal_set signals(signal_ioc, SIGINT, SIGTERM);
    signals.async_wait([](const beast::error_code&, int) {});
    signal_ioc.run();
    stop();
  }

  std::size_t openConnections() { return shared_.sessionCount(); }

 private:
  enum class State { kNew, kRunning, kStopped };

  void accept() {
    acceptor_.async_accept(
        net::make_strand(ioc_),
        [this](beast::error_code ec, tcp::socket socket) { onAccept(ec, std::move(socket)); });
  }

  void onAccept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open() || ec == net::error::operation_aborted) return;
    if (ec) {
      // Usually out of file descriptors: back off instead of spinning.
      httpLog().warn("accept failed: {}", ec.message());
      accept_retry_.expires_after(kAcceptRetryDelay);
      accept_retry_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) accept();
      });
      return;
    }
    std::make_shared<Session>(shared_, std::move(socket))->start();
    accept();
  }

  // Closes the acceptor on its strand, so no accept handler runs concurrently.
  void closeAcceptor() {
    std::promise<void> closed;
    net::post(acceptor_.get_executor(), [&] {
      beast::error_code ec;
      acceptor_.close(ec);
      accept_retry_.cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }

  void runWorker() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        httpLog().error("http worker: {}", e.what());
      }
    }
  }

  // Declared before ioc_: sessions still queued in ioc_ when it is destroyed unregister here.
  ServerShared shared_;
  const int worker_count_;
  std::mutex lifecycle_mu_;
  State state_ = State::kNew;  // guarded by lifecycle_mu_
  std::uint16_t port_ = 0;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::start() {
  return impl_->start();
}

void HttpServer::stop() {
  impl_->stop();
}

void HttpServer::runUntilSignal() {
  impl_->runUntilSignal();
}

std::size_t HttpServer::openConnections() const {
  return impl_->openConnections();
}

}  // namespace tph::api
