#include "dashboard/assets.h"

namespace taskq::dashboard {

const Asset* FindAsset(std::string_view path) {
  for (const Asset& asset : EmbeddedAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace taskq::dashboard
