#include "testing/test_certificates.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace taskq::testing {
namespace {

// Runs an openssl command line (its output to the directory's log); false when it failed.
bool OpenSsl(const std::string& dir, const std::string& arguments) {
  const std::string command = "openssl " + arguments + " >>" + dir + "/openssl.log 2>&1";
  return std::system(command.c_str()) == 0;
}

// A key and a certificate `name`.pem signed by `ca` (or self-signed when `ca` is empty) with
// the extensions in `extensions`.
bool MakeCertificate(const std::string& dir, const std::string& name, const std::string& subject,
                     const std::string& ca, const std::string& extensions) {
  const std::string key = dir + "/" + name + ".key", pem = dir + "/" + name + ".pem";
  const std::string new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
                              key + " -subj /CN=" + subject;
  if (ca.empty()) return OpenSsl(dir, "req -x509 " + new_key + " -days 3 -out " + pem);
  const std::string request = dir + "/" + name + ".csr", extension_file = dir + "/" + name + ".ext";
  std::ofstream(extension_file) << extensions << "\n";
  return OpenSsl(dir, "req " + new_key + " -out " + request) &&
         OpenSsl(dir, "x509 -req -in " + request + " -CA " + dir + "/" + ca + ".pem -CAkey " + dir +
                          "/" + ca + ".key -CAcreateserial -days 3 -extfile " + extension_file +
                          " -out " + pem);
}

TestCertificates Make() {
  char pattern[] = "/tmp/taskq-certs-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const bool made =
      MakeCertificate(dir, "ca", "taskq-test-ca", "", "") &&
      MakeCertificate(dir, "other-ca", "taskq-other-ca", "", "") &&
      MakeCertificate(dir, "server", "localhost", "ca",
                      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth") &&
      MakeCertificate(dir, "client", "taskq-client", "ca", "extendedKeyUsage=clientAuth");
  if (!made) {
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
