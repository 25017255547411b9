// What `taskq config` prints, kept where the flags are defined: each flag added through a
// FlagAdder is also listed with a way to print its value once the command line is parsed, so the
// flags and the printed configuration cannot drift apart.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "bin/cli_commands.h"

namespace taskq::bin {

// How a flag's value is printed.
enum class Shown {
  kPlain,
  kSecret,   // masked when set (a comment, so that the output reads back as a config file)
  kUrl,      // a password in the URL is masked
  kLiteral,  // TOML literal strings (values read back verbatim: JSON with escapes)
};

class FlagListing {
 public:
  // `key`: the flag's name without dashes; `value`: its value as TOML, read when printed.
  void Add(std::string section, std::string key, std::function<std::string()> value, bool secret);
  // Every listed flag with its current value, in the order they were added.
  std::vector<ConfigEntry> Entries() const;

 private:
  struct Listed {
    std::string section, key;
    std::function<std::string()> value;
    bool secret = false;
  };
  std::vector<Listed> listed_;
};

std::string TomlValue(const std::string& value, Shown shown = Shown::kPlain);
std::string TomlValue(const std::vector<std::string>& values, Shown shown = Shown::kPlain);
inline std::string TomlValue(bool value, Shown = Shown::kPlain) { return value ? "true" : "false"; }
template <typename T>
requires std::is_integral_v<T> std::string TomlValue(T value, Shown = Shown::kPlain) {
  return std::to_string(value);
}

// Adds options to one (sub)command and, with a listing, lists them under `section` ("" for the
// global flags, else the subcommand whose flags they are in a config file).
class FlagAdder {
 public:
  FlagAdder(CLI::App* cmd, FlagListing* listing = nullptr, std::string section = "up")
      : cmd_(cmd), listing_(listing), section_(std::move(section)) {}

  template <typename T>
  CLI::Option* Option(const std::string& name, T& variable, const std::string& help,
                      Shown shown = Shown::kPlain) {
    CLI::Option* option = cmd_->add_option(name, variable, help);
    List(
        option, [&variable, shown] { return TomlValue(variable, shown); }, shown);
    return option;
  }
  CLI::Option* Switch(const std::string& name, bool& variable, const std::string& help) {
    CLI::Option* option = cmd_->add_flag(name, variable, help);
    List(
        option, [&variable] { return TomlValue(variable); }, Shown::kPlain);
    return option;
  }
  CLI::App* cmd() const { return cmd_; }

 private:
  void List(CLI::Option* option, std::function<std::string()> value, Shown shown) {
    if (listing_) {
      listing_->Add(section_, option->get_single_name(), std::move(value), shown == Shown::kSecret);
    }
  }

  CLI::App* cmd_;
  FlagListing* listing_;
  std::string section_;
};

}  // namespace taskq::bin
