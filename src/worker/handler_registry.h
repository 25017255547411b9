// Handlers by job type. Filled from main (explicit registration), read-only once workers run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "taskq/handler.h"

namespace taskq::worker {

class HandlerRegistry {
 public:
  void Register(std::string type, Handler handler) { handlers_[std::move(type)] = std::move(handler); }
  const Handler* Find(const std::string& type) const {
    auto it = handlers_.find(type);
    return it == handlers_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> Types() const {
    std::vector<std::string> types;
    for (const auto& [type, handler] : handlers_) types.push_back(type);
    return types;
  }

 private:
  std::map<std::string, Handler> handlers_;
};

}  // namespace taskq::worker
