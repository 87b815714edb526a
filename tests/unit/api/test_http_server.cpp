// The HTTP server and client over real sockets on 127.0.0.1.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <thread>

#include "api/http_client.h"
#include "api/http_server.h"

namespace tph::api {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

HttpServerOptions testOptions() {
  HttpServerOptions options;
  options.port = 0;
  options.workers = 2;
  options.shutdown_grace = 3s;
  return options;
}

HttpResponse textResponse(std::string body) {
  HttpResponse response;
  response.setHeader("content-type", "text/plain");
  response.body = std::move(body);
  return response;
}

// Echoes what the server parsed, so a test can check each field.
HttpResponse echo(HttpRequest& request) {
  HttpResponse response = textResponse(request.body);
  bool names_lower = true;
  for (const auto& [name, value] : request.headers) {
    for (char c : name) names_lower = names_lower && !(c >= 'A' && c <= 'Z');
  }
  response.setHeader("x-method", request.method);
  response.setHeader("x-target", request.target);
  response.setHeader("x-path", request.path);
  response.setHeader("x-query", request.query);
  response.setHeader("x-param", request.queryParam("name"));
  response.setHeader("x-custom", std::string(request.header("x-custom")));
  response.setHeader("x-names-lower", names_lower ? "yes" : "no");
  response.setHeader("x-client", request.client_address);
  return response;
}

// A started server that is stopped when the test ends.
struct TestServer {
  TestServer(HttpServerOptions options, HttpHandler handler)
      : server(std::move(options), std::move(handler)), port(server.start()) {}
  HttpServer server;
  std::uint16_t port;
};

// Splits a raw response into its status code, head and body.
struct RawResponse {
  int status = 0;
  std::string head;
  std::string body;
};

RawResponse parseRaw(const std::string& bytes) {
  RawResponse raw;
  auto end = bytes.find("\r\n\r\n");
  if (bytes.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return raw;
  raw.status = std::stoi(bytes.substr(9, 3));
  raw.head = bytes.substr(0, end);
  raw.body = bytes.substr(end + 4);
  return raw;
}

// Polls `done` every millisecond until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (!done()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(HttpServer, EchoesMethodTargetQueryHeadersAndBody) {
  TestServer test(testOptions(), echo);
  HttpClient client("127.0.0.1", test.port, 2s);

  HttpResponse response =
      client.send("POST", "/echo/it?name=a%20b&x=1",
                  {{"X-Custom", "Value 1"}, {"Content-Type", "text/plain"}}, "hello body");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello body");
  EXPECT_EQ(response.header("x-method"), "POST");
  EXPECT_EQ(response.header("x-target"), "/echo/it?name=a%20b&x=1");
  EXPECT_EQ(response.header("x-path"), "/echo/it");
  EXPECT_EQ(response.header("x-query"), "name=a%20b&x=1");
  EXPECT_EQ(response.header("x-param"), "a b");
  EXPECT_EQ(response.header("x-custom"), "Value 1");
  EXPECT_EQ(response.header("x-names-lower"), "yes");
  EXPECT_EQ(response.header("x-client"), "127.0.0.1");
  EXPECT_EQ(response.header("server"), "tanpuhui");
  EXPECT_EQ(response.header("content-length"), "10");
  for (const auto& [name, value] : response.headers) {
    for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
  }
}

TEST(HttpServer, PercentDecodesThePathButNotTheQuery) {
  TestServer test(testOptions(), echo);
  HttpClient client("127.0.0.1", test.port, 2s);

  HttpResponse response = client.send("GET", "/a%20b/%E4%B8%AD+c?q=%20x");

  EXPECT_EQ(response.header("x-path"), "/a b/\xE4\xB8\xAD+c");
  EXPECT_EQ(response.header("x-query"), "q=%20x");
}

TEST(HttpServer, KeepsOneConnectionAliveAcrossRequests) {
  std::atomic<HttpServer*> server{nullptr};
  std::atomic<std::size_t> seen_connections{0};
  TestServer test(testOptions(), [&](HttpRequest& request) {
    seen_connections = server.load()->openConnections();
    return textResponse(request.path);
  });
  server = &test.server;
  HttpClient client("127.0.0.1", test.port, 2s);

  EXPECT_EQ(client.send("GET", "/one").body, "/one");
  EXPECT_EQ(seen_connections.load(), 1u);
  EXPECT_EQ(test.server.openConnections(), 1u);
  EXPECT_EQ(client.send("GET", "/two").body, "/two");
  EXPECT_EQ(seen_connections.load(), 1u);
  EXPECT_EQ(test.server.openConnections(), 1u);
}

TEST(HttpServer, AnswersHeadWithLengthButNoBody) {
  TestServer test(testOptions(), [](HttpRequest&) { return textResponse("hello"); });
  HttpClient client("127.0.0.1", test.port, 2s);

  RawResponse raw =
      parseRaw(client.sendRaw("HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));

  EXPECT_EQ(raw.status, 200);
  EXPECT_NE(raw.head.find("Content-Length: 5"), std::string::npos);
  EXPECT_EQ(raw.body, "");
}

TEST(HttpServer, DecodesChunkedBodies) {
  TestServer test(testOptions(), echo);
  HttpClient client("127.0.0.1", test.port, 2s);

  RawResponse raw = parseRaw(client.sendRaw(
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));

  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(raw.body, "hello world");
}

void expectJsonError(const std::string& body, const std::string& code) {
  auto json = nlohmann::json::parse(body);
  ASSERT_TRUE(json.contains("error")) << body;
  EXPECT_EQ(json["error"]["code"], code);
  EXPECT_TRUE(json["error"]["field"].is_string());
  EXPECT_TRUE(json["error"]["message"].is_string());
}

TEST(HttpServer, RejectsBodyOverLimitWith413) {
  auto options = testOptions();
  options.body_limit_bytes = 1024;
  std::atomic<int> calls{0};
  TestServer test(options, [&](HttpRequest&) {
    ++calls;
    return textResponse("ok");
  });
  HttpClient client("127.0.0.1", test.port, 2s);

  HttpResponse response = client.send("POST", "/upload", {}, std::string(4096, 'x'));

  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("connection"), "close");
  expectJsonError(response.body, "payload_too_large");
  EXPECT_EQ(calls.load(), 0);
  // The client notices the closed connection and opens a new one.
  EXPECT_EQ(client.send("POST", "/upload", {}, std::string(1024, 'x')).status, 200);
}

TEST(HttpServer, RejectsChunkedBodyOverLimitWith413) {
  auto options = testOptions();
  options.body_limit_bytes = 8;
  TestServer test(options, echo);
  HttpClient client("127.0.0.1", test.port, 2s);

  RawResponse raw =
      parseRaw(client.sendRaw("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));

  EXPECT_EQ(raw.status, 413);
  expectJsonError(raw.body, "payload_too_large");
}

TEST(HttpServer, RejectsMalformedRequestLineWith400) {
  TestServer test(testOptions(), echo);
  HttpClient client("127.0.0.1", test.port, 2s);

  auto started = SteadyClock::now();
  RawResponse raw = parseRaw(client.sendRaw("GET /x HTTP/9.9 nonsense\r\n\r\n"));

  EXPECT_EQ(raw.status, 400);
  EXPECT_NE(raw.head.find("Connection: close"), std::string::npos);
  expectJsonError(raw.body, "bad_request");
  EXPECT_LT(SteadyClock::now() - started, 1s) << "the server should close, not wait for a timeout";
}

TEST(HttpServer, RejectsOversizedHeaderWith431) {
  auto options = testOptions();
  options.header_limit_bytes = 1024;
  TestServer test(options, echo);
  HttpClient client("127.0.0.1", test.port, 2s);

  RawResponse raw = parseRaw(
      client.sendRaw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));

  EXPECT_EQ(raw.status, 431);
  expectJsonError(raw.body, "bad_request");
}

TEST(HttpServer, AnswersHandlerExceptionWith500) {
  TestServer test(testOptions(), [](HttpRequest& request) -> HttpResponse {
    if (request.path == "/boom") throw std::runtime_error("handler bug (expected in this test)");
    return textResponse("fine");
  });
  HttpClient client("127.0.0.1", test.port, 2s);

  HttpResponse response = client.send("GET", "/boom");

  EXPECT_EQ(response.status, 500);
  auto json = nlohmann::json::parse(response.body);
  EXPECT_EQ(json["error"]["code"], "internal");
  EXPECT_EQ(json["error"]["message"], "internal error");
  // The connection survives a handler failure.
  EXPECT_EQ(client.send("GET", "/ok").body, "fine");
  EXPECT_EQ(test.server.openConnections(), 1u);
}

TEST(HttpServer, ClosesAfterHttp10AndAfterConnectionClose) {
  TestServer test(testOptions(), [](HttpRequest&) { return textResponse("bye"); });
  HttpClient client("127.0.0.1", test.port, 2s);
  auto started = SteadyClock::now();

  RawResponse http10 = parseRaw(client.sendRaw("GET / HTTP/1.0\r\n\r\n"));
  RawResponse close = parseRaw(client.sendRaw("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));

  EXPECT_EQ(http10.status, 200);
  EXPECT_EQ(http10.body, "bye");
  EXPECT_NE(http10.head.find("Connection: close"), std::string::npos);
  EXPECT_EQ(close.status, 200);
  EXPECT_EQ(close.body, "bye");
  // sendRaw reads until the server closes; a timeout would take the client's 2 s.
  EXPECT_LT(SteadyClock::now() - started, 1s);
}

TEST(HttpServer, KeepsHttp10AliveWhenAskedAndAnswersPipelinedRequestsInOrder) {
  TestServer test(testOptions(), [](HttpRequest& request) { return textResponse(request.path); });
  HttpClient client("127.0.0.1", test.port, 2s);

  std::string both = client.sendRaw(
      "GET /first HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
      "GET /second HTTP/1.0\r\n\r\n");

  auto second = both.find("HTTP/1.1 ", 1);
  ASSERT_NE(second, std::string::npos) << both;
  RawResponse first_raw = parseRaw(both.substr(0, second));
  RawResponse second_raw = parseRaw(both.substr(second));
  EXPECT_NE(first_raw.head.find("Connection: keep-alive"), std::string::npos);
  EXPECT_EQ(first_raw.body, "/first");
  EXPECT_NE(second_raw.head.find("Connection: close"), std::string::npos);
  EXPECT_EQ(second_raw.body, "/second");
}

TEST(HttpServer, ClosesIdleKeepAliveConnection) {
  auto options = testOptions();
  options.idle_timeout = 200ms;
  TestServer test(options, [](HttpRequest&) { return textResponse("ok"); });
  HttpClient client("127.0.0.1", test.port, 2s);

  ASSERT_EQ(client.send("GET", "/").status, 200);
  auto answered = SteadyClock::now();
  EXPECT_EQ(test.server.openConnections(), 1u);

  ASSERT_TRUE(waitFor([&] { return test.server.openConnections() == 0; }, 2s));
  EXPECT_GE(SteadyClock::now() - answered, 150ms);
  // The client sees the closed connection and reconnects.
  EXPECT_EQ(client.send("GET", "/").status, 200);
}

TEST(HttpServer, ClosesConnectionWhoseHeadOrBodyArrivesTooSlowly) {
  auto options = testOptions();
  options.header_timeout = 200ms;
  options.body_timeout = 200ms;
  std::atomic<int> calls{0};
  TestServer test(options, [&](HttpRequest&) {
    ++calls;
    return textResponse("ok");
  });
  HttpClient client("127.0.0.1", test.port, 2s);

  auto started = SteadyClock::now();
  std::string head_only = client.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n");
  std::string short_body =
      client.sendRaw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  auto took = SteadyClock::now() - started;

  EXPECT_EQ(head_only, "");
  EXPECT_EQ(short_body, "");
  EXPECT_EQ(calls.load(), 0);
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 1500ms) << "the server, not the client's 2 s timeout, should close";
}

TEST(HttpServer, StopFinishesInFlightRequestsAndRefusesNewConnections) {
  std::atomic<bool> slow_started{false};
  TestServer test(testOptions(), [&](HttpRequest& request) {
    if (request.path == "/slow") {
      slow_started = true;
      std::this_thread::sleep_for(300ms);
      return textResponse(std::string(100'000, 's'));
    }
    return textResponse("fast");
  });
  // A connection that sits idle between requests must not hold stop() up to the grace period.
  HttpClient idle("127.0.0.1", test.port, 2s);
  ASSERT_EQ(idle.send("GET", "/fast").status, 200);

  HttpResponse slow;
  std::string slow_error;
  std::thread slow_client([&] {
    try {
      HttpClient client("127.0.0.1", test.port, 2s);
      slow = client.send("GET", "/slow");
    } catch (const std::exception& e) {
      slow_error = e.what();
    }
  });
  ASSERT_TRUE(waitFor([&] { return slow_started.load(); }, 2s));

  auto stop_started = SteadyClock::now();
  test.server.stop();
  auto stop_took = SteadyClock::now() - stop_started;
  slow_client.join();

  EXPECT_EQ(slow_error, "");
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body.size(), 100'000u);
  EXPECT_EQ(slow.header("connection"), "close");
  EXPECT_GE(stop_took, 100ms) << "stop() should wait for the in-flight request";
  EXPECT_LT(stop_took, 2s) << "stop() should not wait for idle connections";
  EXPECT_EQ(test.server.openConnections(), 0u);

  HttpClient late("127.0.0.1", test.port, 1s);
  EXPECT_THROW(late.send("GET", "/fast"), std::system_error);
  test.server.stop();  // idempotent
}

TEST(HttpServer, RunUntilSignalStopsOnSigterm) {
  // Until Asio installs its handler, a SIGTERM would end the test program; ignore it meanwhile.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous = {};
  ASSERT_EQ(sigaction(SIGTERM, &ignore, &previous), 0);

  TestServer test(testOptions(), [](HttpRequest&) { return textResponse("ok"); });
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    test.server.runUntilSignal();
    returned = true;
  });
  bool installed = waitFor(
      [] {
        struct sigaction current = {};
        sigaction(SIGTERM, nullptr, &current);
        return current.sa_handler != SIG_IGN;
      },
      5s);
  if (!installed) {
    // runUntilSignal cannot be woken without its handler; a hang would be harder to read.
    std::fprintf(stderr, "runUntilSignal never installed a SIGTERM handler\n");
    std::abort();
  }
  raise(SIGTERM);
  runner.join();
  sigaction(SIGTERM, &previous, nullptr);

  EXPECT_TRUE(returned.load());
  HttpClient late("127.0.0.1", test.port, 1s);
  EXPECT_THROW(late.send("GET", "/"), std::system_error);
}

}  // namespace
}  // namespace tph::api
