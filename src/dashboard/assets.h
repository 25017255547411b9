// The dashboard's files, embedded at build time from src/dashboard/assets/
// (cmake/EmbedAssets.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace taskq::dashboard {

struct Asset {
  std::string_view path;  // relative to assets/, e.g. "js/app.js"
  std::string_view content_type;
  std::string_view etag;  // quoted, as the header carries it
  std::string_view body;
};

const std::vector<Asset>& EmbeddedAssets();
// nullptr when there is no such file.
const Asset* FindAsset(std::string_view path);

}  // namespace taskq::dashboard
