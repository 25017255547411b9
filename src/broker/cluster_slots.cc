#include "broker/cluster_slots.h"

#include <charconv>

namespace taskq::broker {
namespace {

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis Cluster defines slots.
constexpr std::array<uint16_t, 256> MakeCrcTable() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}
constexpr std::array<uint16_t, 256> kCrcTable = MakeCrcTable();

uint16_t Crc16(std::string_view bytes) {
  uint16_t crc = 0;
  for (const char c : bytes) {
    crc = static_cast<uint16_t>((crc << 8) ^
                                kCrcTable[((crc >> 8) ^ static_cast<unsigned char>(c)) & 0xff]);
  }
  return crc;
}

// The value of `name` in a RESP2 map (a flat array of names and values); null when absent.
std::optional<ReplyView> Field(ReplyView map, std::string_view name) {
  for (size_t i = 0; i + 1 < map.size(); i += 2) {
    if (map[i].str() == name) return map[i + 1];
  }
  return std::nullopt;
}

Status NotShards(const std::string& why) {
  return Unavailable("CLUSTER SHARDS reply not understood: " + why);
}

}  // namespace

uint16_t KeySlot(std::string_view key) {
  if (const size_t open = key.find('{'); open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return static_cast<uint16_t>(Crc16(key) % kClusterSlots);
}

Result<SlotMap> SlotMap::FromClusterShards(ReplyView reply, bool tls) {
  if (reply.is_error()) return Unavailable("CLUSTER SHARDS: " + std::string(reply.str()));
  if (!reply.is_array()) return NotShards("not an array");
  SlotMap map;
  for (size_t s = 0; s < reply.size(); ++s) {
    const ReplyView shard = reply[s];
    const auto slots = Field(shard, "slots");
    const auto nodes = Field(shard, "nodes");
    if (!slots || !nodes || !slots->is_array() || !nodes->is_array() || slots->size() % 2 != 0) {
      return NotShards("a shard without slots or nodes");
    }
    std::optional<size_t> master;
    for (size_t n = 0; n < nodes->size(); ++n) {
      const ReplyView node = (*nodes)[n];
      ClusterNode parsed;
      if (auto id = Field(node, "id")) parsed.id = std::string(id->str());
      const auto endpoint = Field(node, "endpoint");
      const auto ip = Field(node, "ip");
      parsed.host = endpoint && !endpoint->str().empty() && endpoint->str() != "?"
                        ? std::string(endpoint->str())
                    : ip ? std::string(ip->str())
                         : "";
      const auto tls_port = Field(node, "tls-port");
      const auto port = tls && tls_port ? tls_port : Field(node, "port");
      parsed.port = port ? static_cast<int>(port->AsInt(0)) : 0;
      if (auto health = Field(node, "health")) parsed.healthy = health->str() == "online";
      const auto role = Field(node, "role");
      // A node without a usable address (one being added, one that left) is left out; its
      // shard still counts if another node serves it.
      if (parsed.host.empty() || parsed.port <= 0 || parsed.port > 65535 || !role) continue;
      if (role->str() == "master") {
        // After a failover a shard may still list its failed master beside the new one: the
        // healthy one serves the slots.
        if (!master || (parsed.healthy && !map.masters_[*master].healthy)) {
          master = map.masters_.size();
        }
        map.masters_.push_back(std::move(parsed));
      } else {
        map.replicas_.push_back(std::move(parsed));
      }
    }
    if (slots->size() == 0) continue;  // a master without slots (being added or emptied)
    if (!master) return NotShards("a shard with slots and no master");
    for (size_t r = 0; r < slots->size(); r += 2) {
      const long long first = (*slots)[r].AsInt(-1), last = (*slots)[r + 1].AsInt(-1);
      if (first < 0 || last < first || last >= kClusterSlots) return NotShards("a bad slot range");
      for (long long slot = first; slot <= last; ++slot) {
        map.owner_[static_cast<size_t>(slot)] = static_cast<uint16_t>(*master);
      }
    }
  }
  return map;
}

const ClusterNode* SlotMap::MasterOf(uint16_t slot) const {
  if (slot >= kClusterSlots || owner_[slot] == kNone) return nullptr;
  return &masters_[owner_[slot]];
}

int SlotMap::uncovered_slots() const {
  int n = 0;
  for (uint16_t owner : owner_) n += owner == kNone ? 1 : 0;
  return n;
}

std::optional<Redirection> ParseRedirection(std::string_view error) {
  Redirection out;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    out.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const size_t space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const std::string_view slot_text = error.substr(0, space);
  auto [end, ec] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (ec != std::errc() || end != slot_text.data() + slot_text.size() || slot >= kClusterSlots) {
    return std::nullopt;
  }
  const std::string_view address = error.substr(space + 1);
  const size_t colon = address.rfind(':');  // an IPv6 address holds colons of its own
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view port_text = address.substr(colon + 1);
  int port = 0;
  auto [port_end, port_ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_ec != std::errc() || port_end != port_text.data() + port_text.size() || port <= 0 ||
      port > 65535) {
    return std::nullopt;
  }
  out.slot = static_cast<uint16_t>(slot);
  out.host = std::string(address.substr(0, colon));
  out.port = port;
  return out;
}

}  // namespace taskq::broker
