#include "testing/test_certificates.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace taskq::testing {
namespace {

TestCertificates Make() {
  char pattern[] = "/tmp/taskq-certs-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const std::string command = std::string(TASKQ_MAKE_CERTIFICATES_SCRIPT) + " " + dir;
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "openssl could not make the test certificates: "
                  << std::ifstream(dir + "/openssl.log").rdbuf();
    return {};
  }
  return {dir,
          dir + "/ca.pem",
          dir + "/server.pem",
          dir + "/server.key",
          dir + "/client.pem",
          dir + "/client.key",
          dir + "/other-ca.pem"};
}

}  // namespace

const TestCertificates& Certificates() {
  // Removed when the test process ends.
  static const struct Owner {
    TestCertificates certificates = Make();
    ~Owner() {
      std::error_code error;
      if (!certificates.dir.empty()) std::filesystem::remove_all(certificates.dir, error);
    }
  } owner;
  return owner.certificates;
}

}  // namespace taskq::testing
