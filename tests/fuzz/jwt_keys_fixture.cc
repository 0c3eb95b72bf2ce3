#include "tests/fuzz/jwt_keys_fixture.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/fuzz/fuzz_check.h"

namespace ssebridge {
namespace {

std::string PublicPem(EVP_PKEY* key) {
  FUZZ_CHECK(key != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  FUZZ_CHECK(PEM_write_bio_PUBKEY(bio, key) == 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

}  // namespace

std::shared_ptr<const JwtKeySet> MakeFuzzJwtKeys() {
  auto keys = std::make_shared<JwtKeySet>();
  FUZZ_CHECK(keys->AddHmacSecret("k1", JwtAlgorithm::kHS256, FuzzHs256Secret()).ok());
  FUZZ_CHECK(keys->AddHmacSecret("k2", JwtAlgorithm::kHS512, std::string(64, 'x')).ok());
  FUZZ_CHECK(
      keys->AddPublicKeyPem("r1", JwtAlgorithm::kRS256,
                            PublicPem(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})))
          .ok());
  FUZZ_CHECK(keys->AddPublicKeyPem("e1", JwtAlgorithm::kES256,
                                   PublicPem(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")))
                 .ok());
  return keys;
}

}  // namespace ssebridge
