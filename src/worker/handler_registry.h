// Handlers by job type. Filled from main (explicit registration), read-only once workers run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "taskq/handler.h"

namespace taskq::worker {

struct RegisteredHandler {
  Handler handler;
  HandlerOptions options;
};

class HandlerRegistry {
 public:
  void Register(std::string type, Handler handler, HandlerOptions options = {}) {
    handlers_[std::move(type)] = {std::move(handler), options};
  }
  const RegisteredHandler* Find(const std::string& type) const {
    auto it = handlers_.find(type);
    return it == handlers_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> Types() const {
    std::vector<std::string> types;
    for (const auto& [type, handler] : handlers_) types.push_back(type);
    return types;
  }

 private:
  std::map<std::string, RegisteredHandler> handlers_;
};

}  // namespace taskq::worker
