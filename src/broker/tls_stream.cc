#include "broker/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <tuple>

namespace taskq::broker {
namespace {

// What the socket BIO needs (the descriptor, whether a read may wait), and what its last call
// met: OpenSSL's own calls may change errno before the caller looks.
struct SocketState {
  int fd = -1;
  bool dont_wait = false;
  int error = 0;        // errno of the last failed send or recv
  bool closed = false;  // a recv found the end of the stream
  void Reset() {
    error = 0;
    closed = false;
  }
};

SocketState* StateOf(BIO* bio) { return static_cast<SocketState*>(BIO_get_data(bio)); }

int SocketWrite(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  ssize_t n = 0;
  do {
    n = ::send(StateOf(bio)->fd, data, static_cast<size_t>(length), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    StateOf(bio)->error = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

int SocketRead(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  SocketState* state = StateOf(bio);
  ssize_t n = 0;
  do {
    n = ::recv(state->fd, data, static_cast<size_t>(length), state->dont_wait ? MSG_DONTWAIT : 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    state->error = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
  }
  if (n == 0) state->closed = true;
  return static_cast<int>(n);
}

long SocketControl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

int SocketCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a closed connection; this
// one sends with MSG_NOSIGNAL.
const BIO_METHOD* SocketMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "taskq socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketControl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

// OpenSSL's queued errors of this thread, as text; clears them.
std::string OpenSslErrors() {
  std::string text;
  while (const unsigned long error = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(error, line, sizeof line);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

struct FreeContext {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};

// When a file last changed: a renewed certificate or key is read again at the next connect.
int64_t ModifiedAt(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return 0;
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
}

Result<std::shared_ptr<SSL_CTX>> NewContext(const RedisTls& tls) {
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), FreeContext());
  if (!context) return Unavailable("cannot create a TLS context: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  if (!tls.insecure) {
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
    const int loaded = tls.ca_file.empty() ? SSL_CTX_set_default_verify_paths(context.get())
                                           : SSL_CTX_load_verify_locations(
                                                 context.get(), tls.ca_file.c_str(), nullptr);
    if (loaded != 1) {
      return InvalidArgument("redis_url",
                             "cannot read the TLS CA certificates " +
                                 (tls.ca_file.empty() ? "of the system" : tls.ca_file) + ": " +
                                 OpenSslErrors());
    }
  }
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(context.get(), tls.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(context.get()) != 1) {
      return InvalidArgument("redis_url", "cannot use the TLS client certificate " + tls.cert_file +
                                              " with key " + tls.key_file + ": " + OpenSslErrors());
    }
  }
  return context;
}

// One context per TLS setting in the process, shared by its connections: CA files are read
// once, not at every connect.
Result<std::shared_ptr<SSL_CTX>> ContextFor(const RedisTls& tls) {
  struct Entry {
    std::shared_ptr<SSL_CTX> context;
    std::tuple<int64_t, int64_t, int64_t> modified;
  };
  static std::mutex mu;
  // Never destroyed: connections of detached threads may outlive static destruction, and
  // OpenSSL cleans up at exit before it.
  static auto& contexts =
      *new std::map<std::tuple<std::string, std::string, std::string, bool>, Entry>();
  const auto key = std::make_tuple(tls.ca_file, tls.cert_file, tls.key_file, tls.insecure);
  const auto modified =
      std::make_tuple(ModifiedAt(tls.ca_file), ModifiedAt(tls.cert_file), ModifiedAt(tls.key_file));
  std::lock_guard lock(mu);
  auto it = contexts.find(key);
  if (it != contexts.end() && it->second.modified == modified) return it->second.context;
  auto context = NewContext(tls);
  if (!context.ok()) return context.status();
  contexts[key] = Entry{*context, modified};
  return *context;
}

bool IsIpAddress(const std::string& host) {
  unsigned char address[16];
  return ::inet_pton(AF_INET, host.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

class TlsRedisStream : public RedisStream {
 public:
  TlsRedisStream(UniqueFd socket, std::shared_ptr<SSL_CTX> context)
      : RedisStream(std::move(socket)),
        context_(std::move(context)),
        ssl_(SSL_new(context_.get())) {
    state_.fd = fd();
    BIO* bio = ssl_ != nullptr && SocketMethod() != nullptr ? BIO_new(SocketMethod()) : nullptr;
    if (bio == nullptr) return;
    BIO_set_data(bio, &state_);
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns it
    ready_ = true;
  }
  ~TlsRedisStream() override { SSL_free(ssl_); }
  bool ready() const { return ready_; }

  Status Handshake(const RedisEndpoint& endpoint) {
    const std::string& name =
        endpoint.tls.server_name.empty() ? endpoint.host : endpoint.tls.server_name;
    const bool ip = IsIpAddress(name);
    if (!ip) SSL_set_tlsext_host_name(ssl_, name.c_str());  // SNI takes names only
    if (!endpoint.tls.insecure) {
      const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str())
                         : SSL_set1_host(ssl_, name.c_str());
      if (set != 1) return InvalidArgument("redis_url", "bad TLS server name '" + name + "'");
    }
    SetSocketTimeouts(fd(), endpoint.connect_timeout);
    ERR_clear_error();
    state_.Reset();
    const int done = SSL_connect(ssl_);
    const int error = SSL_get_error(ssl_, done);
    SetSocketTimeouts(fd(), endpoint.command_timeout);
    if (done == 1) return Status::Ok();
    std::string why;
    const long verified = SSL_get_verify_result(ssl_);
    if (!endpoint.tls.insecure && verified != X509_V_OK) {
      why = std::string("the server's certificate was refused: ") +
            X509_verify_cert_error_string(verified);
      ERR_clear_error();
    } else if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      why = "no answer within the connect timeout (is it a TLS port?)";
    } else if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      why = state_.closed || state_.error == 0
                ? "the server closed the connection (is it a TLS port?)"
                : IoErrorText(state_.error);
    } else {
      // A server that answers in plain text (a Redis without TLS) shows as a bad record.
      why = OpenSslErrors() + " (is it a TLS port?)";
    }
    return Unavailable("TLS handshake with " + endpoint.Describe() + " failed: " + why);
  }

  Status WriteAll(std::string_view bytes) override {
    constexpr size_t kChunk = size_t{1} << 20;
    while (!bytes.empty()) {
      ERR_clear_error();
      state_.Reset();
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min(bytes.size(), kChunk)));
      if (n <= 0) return Failed("write", n);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Result<size_t> Read(char* buffer, size_t capacity, bool wait) override {
    if (!wait && !HasBuffered()) {
      pollfd readable{fd(), POLLIN, 0};
      if (::poll(&readable, 1, 0) <= 0) return size_t{0};
    }
    // Not waiting, a read must not block on what the socket has not yet brought: the rest of a
    // record, or application data after the session tickets a server sends unasked.
    state_.dont_wait = !wait;
    ERR_clear_error();
    state_.Reset();
    const int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(capacity, 1 << 30)));
    state_.dont_wait = false;
    if (n > 0) return static_cast<size_t>(n);
    if (!wait && SSL_get_error(ssl_, n) == SSL_ERROR_WANT_READ) return size_t{0};
    return Failed("read", n);
  }

  bool HasBuffered() const override { return SSL_has_pending(ssl_) == 1; }

 private:
  Status Failed(const char* what, int result) {
    const int error = SSL_get_error(ssl_, result);
    std::string why;
    if (error == SSL_ERROR_ZERO_RETURN || state_.closed ||
        (error == SSL_ERROR_SYSCALL && state_.error == 0 && ERR_peek_error() == 0)) {
      why = "the server closed it";
    } else if (state_.error != 0) {
      why = IoErrorText(state_.error);
    } else {
      why = OpenSslErrors();
    }
    ERR_clear_error();
    return Unavailable(std::string("Redis connection ") + what + " failed (TLS): " + why);
  }

  std::shared_ptr<SSL_CTX> context_;
  SSL* ssl_;
  SocketState state_;
  bool ready_ = false;
};

}  // namespace

Result<std::unique_ptr<RedisStream>> StartTls(UniqueFd socket, const RedisEndpoint& endpoint) {
  auto context = ContextFor(endpoint.tls);
  if (!context.ok()) return context.status();
  auto stream = std::make_unique<TlsRedisStream>(std::move(socket), std::move(*context));
  if (!stream->ready()) return Unavailable("cannot set up TLS: " + OpenSslErrors());
  TASKQ_RETURN_IF_ERROR(stream->Handshake(endpoint));
  return std::unique_ptr<RedisStream>(std::move(stream));
}

}  // namespace taskq::broker
