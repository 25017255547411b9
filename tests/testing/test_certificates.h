// Certificates for TLS tests, made by make_test_certificates.sh on first use, once per test
// process, in a temporary directory: a CA, a server certificate it signed for 127.0.0.1 and
// localhost, a client certificate it signed, and a second CA that signed nothing here (a server
// checked against it is refused).
#pragma once

#include <string>

namespace taskq::testing {

struct TestCertificates {
  std::string dir;
  std::string ca;  // PEM files
  std::string server_cert, server_key;
  std::string client_cert, client_key;
  std::string other_ca;
};

// Fails the test (and returns empty paths) when openssl cannot make them.
const TestCertificates& Certificates();

}  // namespace taskq::testing
