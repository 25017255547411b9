#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/api_error.h"
#include "api/beast_request.h"

namespace taskq::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// The answer of a handler, delivered on the connection's strand. Both the handler's Respond and
// the session's timeout run there, so whichever comes first wins without a lock.
struct PendingResponse {
  explicit PendingResponse(asio::any_io_executor executor) : signal(std::move(executor)) {}
  asio::steady_timer signal;
  std::optional<HttpResponse> response;
  bool settled = false;
};

// A streamed response's queue. Writers append under the mutex and poke the session's timer on
// its strand; the session drains the queue there. Bounded: a client that falls more than
// kMaxBuffered behind is closed rather than buffered without end.
class StreamQueue : public ResponseStream, public std::enable_shared_from_this<StreamQueue> {
 public:
  static constexpr size_t kMaxBuffered = 4 << 20;
  explicit StreamQueue(asio::any_io_executor executor) : executor_(executor), signal(executor) {}

  bool Write(std::string text) override {
    bool accepted = false;
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      if (buffered_ + text.size() > kMaxBuffered) {
        closed_ = true;  // too far behind: dropped rather than buffered without end
      } else {
        buffered_ += text.size();
        queue_ += text;
        accepted = true;
      }
    }
    Poke();
    return accepted;
  }

  void Close() override {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    Poke();
  }

  bool open() const override {
    std::lock_guard lock(mu_);
    return !closed_;
  }

  // On the strand: what is queued, and whether the stream is closed. What it returns still
  // counts as buffered until Sent() says it went out.
  std::string Take(bool* closed) {
    std::lock_guard lock(mu_);
    *closed = closed_;
    return std::exchange(queue_, {});
  }
  void Sent(size_t bytes) {
    std::lock_guard lock(mu_);
    buffered_ -= std::min(bytes, buffered_);
  }

 private:
  void Poke() {
    asio::post(executor_, [self = shared_from_this()] { self->signal.cancel(); });
  }

  const asio::any_io_executor executor_;
  mutable std::mutex mu_;
  std::string queue_;    // guarded by mu_
  size_t buffered_ = 0;  // guarded by mu_: queued and taken but not yet written
  bool closed_ = false;  // guarded by mu_

 public:
  asio::steady_timer signal;  // only on the session's strand
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, RequestHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        io_(options_.threads),
        acceptor_(io_) {}

  ~Impl() { Stop(); }

  Status Listen() {
    // io_ stays stopped once Stop ran: a restarted loop would resume the old sessions' handlers.
    if (stopped_) return Status(StatusCode::kFailedPrecondition, "the server was stopped");
    if (acceptor_.is_open()) return Status::Ok();
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) return InvalidArgument("listen", "'" + options_.host + "' is not an IP address");
    tcp::endpoint endpoint(address, options_.port);
    const std::string where = options_.host + ":" + std::to_string(options_.port);
    if (acceptor_.open(endpoint.protocol(), ec); ec)
      return Unavailable(where + ": " + ec.message());
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (acceptor_.bind(endpoint, ec); ec) {
      acceptor_.close(ec);
      return Unavailable("cannot listen on " + where + ": " + ec.message());
    }
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
      acceptor_.close(ec);
      return Unavailable("cannot listen on " + where + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    return Status::Ok();
  }

  Status Start() {
    if (!threads_.empty()) return Status::Ok();
    TASKQ_RETURN_IF_ERROR(Listen());
    asio::co_spawn(io_, Accept(), asio::detached);
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return Status::Ok();
  }

  void Stop() {
    stopped_ = true;
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // No loop runs now, so the acceptor is ours to close. Closing it (not only stopping the loop)
    // makes new connections fail at once instead of waiting in the backlog until destruction.
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  uint16_t port() const { return port_; }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kUseTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        spdlog::warn("http accept: {}", ec.message());  // e.g. out of file descriptors
        asio::steady_timer pause(io_, std::chrono::milliseconds(50));
        co_await pause.async_wait(kUseTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(beast::tcp_stream(std::move(socket))),
                     [](std::exception_ptr e) {
                       if (!e) return;
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         spdlog::error("http session ended by an exception: {}", ex.what());
                       }
                     });
    }
  }

  static http::response<http::string_body> ToBeast(HttpResponse&& r, bool keep_alive,
                                                   bool head = false) {
    http::response<http::string_body> res;
    res.result(static_cast<unsigned>(r.status));
    res.version(11);
    res.set(http::field::server, "taskq");
    if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.body() = std::move(r.body);
    res.prepare_payload();
    if (head) res.body().clear();  // HEAD: the GET's headers (Content-Length too), no body
    return res;
  }

  // Writes an error made by the server itself (not a handler); the connection is closed after.
  static asio::awaitable<void> WriteError(beast::tcp_stream& stream, int status,
                                          std::string_view code, std::string message) {
    HttpResponse r = ErrorResponse(status, code, std::move(message));
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    auto res = ToBeast(std::move(r), false);
    co_await http::async_write(stream, res, kUseTuple);
  }

  asio::awaitable<void> Session(beast::tcp_stream stream) {
    struct Count {
      std::atomic<int>& n;
      ~Count() { n.fetch_sub(1, std::memory_order_relaxed); }
    } count{connections_};
    if (connections_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections) {
      stream.expires_after(std::chrono::seconds(1));
      co_await WriteError(stream, 503, "too_many_connections",
                          "the server holds its maximum of " +
                              std::to_string(options_.max_connections) + " connections");
      co_return;
    }
    boost::system::error_code peer_error;
    const tcp::endpoint peer = stream.socket().remote_endpoint(peer_error);
    const std::string client_address = peer_error ? "" : peer.address().to_string();
    ClientSlot slot(*this, client_address);
    if (!slot.held()) {
      stream.expires_after(std::chrono::seconds(1));
      co_await WriteError(stream, 503, "too_many_connections",
                          "this client holds its maximum of " +
                              std::to_string(options_.max_connections_per_client) + " connections");
      co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      stream.expires_after(options_.header_timeout);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
      stream.expires_after(options_.request_timeout);
      size_t body_limit = options_.max_body_bytes;
      std::optional<HttpRequest> early;  // read once, for on_head and then for the handler
      if (!ec && options_.on_head) {
        early = HeadFromBeastRequest(parser.get());
        if (early) early->client_address = client_address;
        if (!early) {
          co_await WriteError(stream, 400, "bad_request", "malformed percent-encoding in the path");
          break;
        }
        HeadDecision decision = options_.on_head(*early);
        if (decision.refuse) {
          auto res = ToBeast(std::move(*decision.refuse), false, early->method == "HEAD");
          stream.expires_after(options_.response_timeout);
          co_await http::async_write(stream, res, kUseTuple);
          break;
        }
        body_limit = std::min(body_limit, decision.max_body_bytes);
        parser.body_limit(body_limit);
        // The parser compared a Content-Length with the limit while reading the header, before
        // this one was set: compare again, so that an announced body over it is refused now.
        if (parser.content_length() && *parser.content_length() > body_limit) {
          ec = http::error::body_limit;
        }
      }
      if (!ec && parser.get()[http::field::expect] == "100-continue") {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        std::tie(ec, n) = co_await http::async_write(stream, cont, kUseTuple);
      }
      if (!ec && !parser.is_done()) {
        std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, kUseTuple);
      }
      if (ec == http::error::header_limit) {
        co_await WriteError(
            stream, 431, "headers_too_large",
            "request headers exceed " + std::to_string(options_.max_header_bytes) + " bytes");
        break;
      }
      if (ec == http::error::body_limit) {
        co_await WriteError(stream, 413, "body_too_large",
                            "request body exceeds " + std::to_string(body_limit) + " bytes");
        break;
      }
      if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
          ec == asio::error::eof || ec == asio::error::connection_reset ||
          ec == asio::error::operation_aborted) {
        break;
      }
      if (ec) {
        co_await WriteError(stream, 400, "bad_request", "malformed HTTP request: " + ec.message());
        break;
      }
      auto& req = parser.get();
      const bool keep_alive = req.keep_alive();
      const bool head = req.method() == http::verb::head;

      std::optional<HttpRequest> read;
      if (early) {
        read = std::move(early);
        read->body = std::move(req.body());
      } else {
        read = FromBeastRequest(req);
      }
      if (!read) {
        co_await WriteError(stream, 400, "bad_request", "malformed percent-encoding in the path");
        break;
      }
      HttpRequest request = std::move(*read);
      request.client_address = client_address;

      auto pending = std::make_shared<PendingResponse>(stream.get_executor());
      pending->signal.expires_after(options_.response_timeout);
      auto executor = stream.get_executor();
      handler_(std::move(request), [pending, executor](HttpResponse response) {
        asio::post(executor, [pending, response = std::move(response)]() mutable {
          if (pending->settled) return;
          pending->settled = true;
          pending->response = std::move(response);
          pending->signal.cancel();
        });
      });
      if (!pending->settled) co_await pending->signal.async_wait(kUseTuple);
      HttpResponse response;
      if (pending->response) {
        response = std::move(*pending->response);
      } else {
        pending->settled = true;  // a late answer is dropped
        response = ErrorResponse(503, "timeout", "the request did not finish in time");
        response.headers.emplace_back("Retry-After", "1");
      }
      if (response.open_stream && !head) {
        co_await Stream(stream, std::move(response));
        break;
      }
      auto res = ToBeast(std::move(response), keep_alive, head);
      stream.expires_after(options_.response_timeout);
      std::tie(ec, n) = co_await http::async_write(stream, res, kUseTuple);
      if (ec || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Writes a streamed response until its stream closes or the client is gone. Each write has the
  // response timeout, so a client that stops reading is dropped.
  asio::awaitable<void> Stream(beast::tcp_stream& stream, HttpResponse response) {
    http::response<http::empty_body> head{static_cast<http::status>(response.status), 11};
    head.set(http::field::server, "taskq");
    if (!response.content_type.empty()) head.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) head.set(name, value);
    head.keep_alive(false);
    http::response_serializer<http::empty_body> serializer(head);
    stream.expires_after(options_.response_timeout);
    auto [ec, n] = co_await http::async_write_header(stream, serializer, kUseTuple);
    if (ec) co_return;
    auto queue = std::make_shared<StreamQueue>(stream.get_executor());
    std::string pending = std::move(response.body);
    size_t from_queue = 0;  // bytes of `pending` that the queue counts as buffered
    response.open_stream(queue);
    for (;;) {
      bool closed = false;
      std::string taken = queue->Take(&closed);
      from_queue += taken.size();
      pending += taken;
      if (pending.empty() && closed) break;
      if (pending.empty()) {
        queue->signal.expires_after(std::chrono::seconds(15));
        auto [wait_ec] = co_await queue->signal.async_wait(kUseTuple);
        if (!wait_ec) pending = ":\n\n";  // the heartbeat: a comment line
        continue;
      }
      stream.expires_after(options_.response_timeout);
      std::tie(ec, n) = co_await asio::async_write(stream, asio::buffer(pending), kUseTuple);
      if (ec) break;
      queue->Sent(std::exchange(from_queue, 0));
      pending.clear();
    }
    queue->Close();
  }

  const HttpServerOptions options_;
  const RequestHandler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<int> connections_{0};
  std::mutex clients_mu_;
  std::unordered_map<std::string, int> client_connections_;  // guarded by clients_mu_

  // One of a client address' connections, counted while it lives.
  class ClientSlot {
   public:
    ClientSlot(Impl& impl, std::string client) : impl_(impl), client_(std::move(client)) {
      std::lock_guard lock(impl_.clients_mu_);
      int& n = impl_.client_connections_[client_];
      held_ = n < impl_.options_.max_connections_per_client;
      if (held_) ++n;
      if (n == 0) impl_.client_connections_.erase(client_);
    }
    ~ClientSlot() {
      if (!held_) return;
      std::lock_guard lock(impl_.clients_mu_);
      auto found = impl_.client_connections_.find(client_);
      if (found != impl_.client_connections_.end() && --found->second == 0) {
        impl_.client_connections_.erase(found);
      }
    }
    ClientSlot(const ClientSlot&) = delete;
    ClientSlot& operator=(const ClientSlot&) = delete;
    bool held() const { return held_; }

   private:
    Impl& impl_;
    const std::string client_;
    bool held_ = false;
  };
  uint16_t port_ = 0;
  bool stopped_ = false;
};

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() = default;
Status HttpServer::Listen() { return impl_->Listen(); }
Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
uint16_t HttpServer::port() const { return impl_->port(); }

}  // namespace taskq::api
