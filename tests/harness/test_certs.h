// test_certs: a throwaway PKI made with OpenSSL's X509 API at test start: a
// CA, and leaf certificates (EC P-256) it signs, as PEM text.
#ifndef SSEBRIDGE_TESTS_HARNESS_TEST_CERTS_H_
#define SSEBRIDGE_TESTS_HARNESS_TEST_CERTS_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/harness/jwt_signer.h"

namespace ssebridge_it {

struct PemPair {
  std::string cert;
  std::string key;
};

class TestCa {
 public:
  // A self-signed CA named `name`; nullptr (and a test failure) on error.
  static std::unique_ptr<TestCa> Create(const std::string& name);
  ~TestCa();

  const std::string& cert_pem() const { return cert_pem_; }
  // A leaf for `common_name`. `sans` are "DNS:localhost" / "IP:127.0.0.1"
  // entries; `server` picks serverAuth, else clientAuth.
  PemPair Issue(const std::string& common_name, const std::vector<std::string>& sans,
                bool server) const;

 private:
  TestCa() = default;
  std::unique_ptr<TestKeyPair> key_;
  X509* cert_ = nullptr;
  std::string cert_pem_;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_TEST_CERTS_H_
