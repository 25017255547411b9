#include "common/unique_key.h"

#include <openssl/evp.h>

#include <memory>

#include "common/percent_encoding.h"

namespace taskq {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Result<std::string> DeriveUniqueKey(std::string_view type, std::string_view data_json) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  const unsigned char separator = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), type.data(), type.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), &separator, 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), data_json.data(), data_json.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) {
    return Internal("sha256 of the unique key failed");
  }
  return HexEncode(std::span<const unsigned char>(digest, size));
}

std::string_view UniqueModeName(UniqueOptions::Mode mode) {
  switch (mode) {
    case UniqueOptions::Mode::kTtl:
      return "ttl";
    case UniqueOptions::Mode::kDebounce:
      return "debounce";
    case UniqueOptions::Mode::kUntilCompleted:
      break;
  }
  return "until_completed";
}

std::optional<UniqueOptions::Mode> ParseUniqueMode(std::string_view name) {
  if (name == "until_completed") return UniqueOptions::Mode::kUntilCompleted;
  if (name == "ttl") return UniqueOptions::Mode::kTtl;
  if (name == "debounce") return UniqueOptions::Mode::kDebounce;
  return std::nullopt;
}

}  // namespace taskq
