// The dashboard's HTTP side. For now a placeholder page at the base path (the real dashboard is
// its own piece of work); it already owns the base path and the redirect from "/".
#pragma once

#include <string>

#include "api/http_message.h"

namespace taskq::dashboard {

struct DashboardOptions {
  std::string base_path = "/admin/queues";
  std::string api_url = "http://127.0.0.1:8000";  // shown on the page
};

class DashboardService {
 public:
  explicit DashboardService(DashboardOptions options) : options_(std::move(options)) {}
  void Handle(api::HttpRequest request, api::Respond respond) const;

 private:
  const DashboardOptions options_;
};

}  // namespace taskq::dashboard
