#include "broker/redis_connection.h"

#include <charconv>

#include "broker/sentinel.h"

namespace taskq::broker {
namespace {

// How often a connection opened through Sentinel asks where the master is, and how long it
// waits for a sentinel then (it is on the caller's path: a short wait, and rarely when none
// answers).
constexpr std::chrono::seconds kMasterCheckInterval{1};
constexpr std::chrono::seconds kMasterCheckIntervalWhenUnanswered{10};
constexpr std::chrono::milliseconds kMasterCheckTimeout{250};

// The "role" of a HELLO reply (RESP2: a flat list of names and values); "" when it has none.
std::string_view RoleOf(ReplyView hello) {
  for (size_t i = 0; i + 1 < hello.size(); i += 2) {
    if (hello[i].str() == "role") return hello[i + 1].str();
  }
  return "";
}

// How much one read takes from the stream at most.
constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

long long ReplyView::AsInt(long long fallback) const {
  if (is_integer()) return reply_->integer;
  if (is_string()) {
    long long value = 0;
    auto s = str();
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc() && ptr == s.data() + s.size()) return value;
  }
  return fallback;
}

Status TakeAllReplies(std::vector<Result<Reply>>& each, std::vector<Reply>* replies) {
  replies->clear();
  for (Result<Reply>& reply : each) {
    if (!reply.ok()) return reply.status();
    replies->push_back(std::move(*reply));
  }
  return Status::Ok();
}

Status Reply::ErrorStatus() const {
  ReplyView v = view();
  if (!v.is_error()) return Status::Ok();
  std::string_view text = v.str();
  if (text.starts_with("LOADING") || text.starts_with("BUSY") || text.starts_with("MASTERDOWN") ||
      text.starts_with("TRYAGAIN") || text.starts_with("CLUSTERDOWN") ||
      text.starts_with("READONLY") || text.starts_with("NOREPLICAS") ||
      text.starts_with("UNBLOCKED")) {
    return Unavailable(std::string(text));
  }
  // Over maxmemory (noeviction) Redis refuses writes until memory is freed or the limit raised:
  // the request was fine and may be retried later, so it is unavailable, not too large.
  if (text.starts_with("OOM")) {
    return Unavailable("Redis is out of memory (maxmemory reached); nothing was written: " +
                       std::string(text));
  }
  return Internal("Redis error: " + std::string(text));
}

Command& Command::Add(std::string_view arg) {
  char length[24];
  const auto end = std::to_chars(length, length + sizeof(length), arg.size()).ptr;
  encoded_ += '$';
  encoded_.append(length, end);
  encoded_ += "\r\n";
  encoded_.append(arg);
  encoded_ += "\r\n";
  ++count_;
  return *this;
}

Command& Command::Add(long long value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  return Add(std::string_view(digits, static_cast<size_t>(end - digits)));
}

std::string Command::Header() const { return "*" + std::to_string(count_) + "\r\n"; }

Result<std::unique_ptr<RedisConnection>> RedisConnection::Open(const RedisEndpoint& endpoint) {
  if (!endpoint.via_sentinel()) return OpenAt(endpoint, /*expect_master=*/false);
  auto master =
      SharedLocateMaster(endpoint, std::chrono::milliseconds(0), endpoint.connect_timeout);
  if (!master.ok()) return master.status();
  master->sentinels.clear();  // a plain endpoint now: errors name the master's address
  master->master_name.clear();
  auto connection = OpenAt(*master, /*expect_master=*/true);
  if (!connection.ok()) return connection.status();
  (*connection)
      ->sentinel_.reset(new SentinelWatch{endpoint, master->host, master->port,
                                          std::chrono::steady_clock::now() + kMasterCheckInterval});
  return connection;
}

bool RedisConnection::CheckUsable() {
  if (broken_) return false;
  if (!sentinel_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now < sentinel_->next_check) return true;
  auto master = SharedLocateMaster(sentinel_->endpoint, kMasterCheckInterval, kMasterCheckTimeout);
  if (!master.ok()) {  // no sentinel answers: keep the master we have, and ask less often
    sentinel_->next_check = now + kMasterCheckIntervalWhenUnanswered;
    return true;
  }
  sentinel_->next_check = now + kMasterCheckInterval;
  if (master->host == sentinel_->master_host && master->port == sentinel_->master_port) {
    return true;
  }
  broken_ = true;  // the next open locates the new master
  return false;
}

std::chrono::steady_clock::duration RedisConnection::UntilMasterCheck() const {
  if (!sentinel_) return std::chrono::steady_clock::duration::max();
  return std::max(sentinel_->next_check - std::chrono::steady_clock::now(),
                  std::chrono::steady_clock::duration::zero());
}

Result<std::unique_ptr<RedisConnection>> RedisConnection::OpenAt(const RedisEndpoint& endpoint,
                                                                 bool expect_master) {
  auto stream = ConnectRedisStream(endpoint);
  if (!stream.ok()) return stream.status();
  std::unique_ptr<RedisConnection> connection(new RedisConnection(std::move(*stream)));
  if (!connection->reader_) return Unavailable("cannot allocate a Redis reply reader");

  std::vector<Command> setup;
  if (!endpoint.password.empty()) {
    if (endpoint.user.empty()) {
      setup.push_back({"AUTH", endpoint.password});
    } else {
      setup.push_back({"AUTH", endpoint.user, endpoint.password});
    }
  }
  if (endpoint.db != 0) setup.push_back(Command{"SELECT"}.Add(endpoint.db));
  // Sentinel may still name a master that was just demoted (or not yet promoted) in a failover.
  // HELLO tells the role (ROLE is an @admin command that least-privilege users may not run); if
  // even HELLO is refused, READONLY replies and the periodic check still find the master.
  if (expect_master) setup.push_back(Command{"HELLO", "2"});
  if (!setup.empty()) {
    std::vector<Reply> replies;
    TASKQ_RETURN_IF_ERROR(connection->Pipeline(setup, &replies));
    for (size_t i = 0; i < replies.size(); ++i) {
      ReplyView v = replies[i].view();
      if (expect_master && i + 1 == replies.size()) {
        if (RoleOf(v) == "slave" || RoleOf(v) == "replica") {
          return Unavailable("Sentinel names " + endpoint.Describe() +
                             " as the master, but it is a replica (a failover is under way)");
        }
      } else if (v.is_error()) {
        return Unavailable("Redis refused " + endpoint.Describe() + ": " + std::string(v.str()));
      }
    }
  }
  return connection;
}

RedisConnection::RedisConnection(std::unique_ptr<RedisStream> stream)
    : stream_(std::move(stream)), reader_(redisReaderCreate()) {}

RedisConnection::~RedisConnection() = default;

Status RedisConnection::Broken(Status why) {
  broken_ = true;
  return why;
}

void RedisConnection::Append(const Command& command) {
  pending_ += command.Header();
  pending_ += command.arguments();
}

Status RedisConnection::Flush() {
  Status written = stream_->WriteAll(pending_);
  // A large pipeline (a bulk enqueue) leaves no large buffer behind.
  if (pending_.capacity() > 4 * kReadChunk) {
    std::string().swap(pending_);
  } else {
    pending_.clear();
  }
  if (!written.ok()) return Broken(std::move(written));
  return Status::Ok();
}

Result<std::optional<Reply>> RedisConnection::NextReply(ReadMode mode) {
  char buffer[kReadChunk];
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
      return Broken(Unavailable(std::string("Redis connection read failed: bad reply (") +
                                reader_->errstr + ")"));
    }
    if (raw != nullptr) return std::optional<Reply>(TakeReply(raw));
    if (mode == ReadMode::kReceivedOnly && !stream_->HasBuffered()) return std::optional<Reply>();
    auto read = stream_->Read(buffer, sizeof buffer, mode == ReadMode::kWait);
    if (!read.ok()) return Broken(read.status());
    if (*read == 0) return std::optional<Reply>();  // not waiting, and nothing came
    if (redisReaderFeed(reader_.get(), buffer, *read) != REDIS_OK) {
      return Broken(Unavailable("Redis connection read failed: out of memory"));
    }
  }
}

Status RedisConnection::Pipeline(std::span<const Command> commands, std::vector<Reply>* replies) {
  TASKQ_RETURN_IF_ERROR(SendAll(commands));
  return ReceiveAll(commands.size(), replies);
}

Status RedisConnection::SendAll(std::span<const Command> commands) {
  if (broken_) return Unavailable("Redis connection is broken");
  for (const Command& command : commands) Append(command);
  return Flush();
}

Status RedisConnection::ReceiveAll(size_t count, std::vector<Reply>* replies) {
  if (broken_) return Unavailable("Redis connection is broken");
  replies->clear();
  replies->reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto reply = NextReply(ReadMode::kWait);
    if (!reply.ok()) return reply.status();
    replies->push_back(std::move(**reply));
  }
  return Status::Ok();
}

Reply RedisConnection::TakeReply(void* raw) {
  Reply reply(static_cast<redisReply*>(raw));
  // The server became a replica (a failover demoted it): re-open, which finds the master.
  if (reply.view().is_error() && reply.view().str().starts_with("READONLY")) broken_ = true;
  return reply;
}

Result<Reply> RedisConnection::Run(const Command& command) {
  std::vector<Reply> replies;
  TASKQ_RETURN_IF_ERROR(Pipeline(std::span<const Command>(&command, 1), &replies));
  return std::move(replies.front());
}

Status RedisConnection::Send(const Command& command) {
  if (broken_) return Unavailable("Redis connection is broken");
  Append(command);
  return Flush();
}

Result<Reply> RedisConnection::Receive() {
  if (broken_) return Unavailable("Redis connection is broken");
  auto reply = NextReply(ReadMode::kWait);
  if (!reply.ok()) return reply.status();
  return std::move(**reply);
}

Result<std::optional<Reply>> RedisConnection::ReceiveIfReady(bool read_socket) {
  if (broken_) return Unavailable("Redis connection is broken");
  return NextReply(read_socket ? ReadMode::kIfReadable : ReadMode::kReceivedOnly);
}

int RedisConnection::fd() const { return stream_->fd(); }

}  // namespace taskq::broker
