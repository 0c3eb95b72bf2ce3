#include "tests/harness/test_certs.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace ssebridge_it {
namespace {

std::string CertPem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    ADD_FAILURE() << "PEM_write_bio_X509 failed";
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `subject_key`, valid from an hour ago for a day, with a
// random serial, issued by `issuer` (self-issued when null). Unsigned.
X509* NewCert(const std::string& cn, EVP_PKEY* subject_key, X509* issuer) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  BIGNUM* serial = BN_new();
  BN_rand(serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, subject_key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ssebridge tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  return cert;
}

}  // namespace

std::unique_ptr<TestCa> TestCa::Create(const std::string& name) {
  std::unique_ptr<TestCa> ca(new TestCa());
  ca->key_ = TestKeyPair::EcP256();
  if (!ca->key_) return nullptr;
  X509* cert = NewCert(name, ca->key_->get(), nullptr);
  ca->cert_ = cert;
  if (!AddExt(cert, cert, NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExt(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !AddExt(cert, cert, NID_subject_key_identifier, "hash") ||
      X509_sign(cert, ca->key_->get(), EVP_sha256()) == 0) {
    ADD_FAILURE() << "building the test CA failed";
    return nullptr;
  }
  ca->cert_pem_ = CertPem(cert);
  return ca;
}

TestCa::~TestCa() { X509_free(cert_); }

PemPair TestCa::Issue(const std::string& common_name, const std::vector<std::string>& sans,
                      bool server) const {
  PemPair out;
  std::unique_ptr<TestKeyPair> key = TestKeyPair::EcP256();
  if (!key) return out;
  X509* cert = NewCert(common_name, key->get(), cert_);
  bool ok = AddExt(cert, cert_, NID_basic_constraints, "critical,CA:FALSE") &&
            AddExt(cert, cert_, NID_key_usage, "critical,digitalSignature") &&
            AddExt(cert, cert_, NID_ext_key_usage, server ? "serverAuth" : "clientAuth") &&
            AddExt(cert, cert_, NID_authority_key_identifier, "keyid");
  if (ok && !sans.empty()) {
    ok = AddExt(cert, cert_, NID_subject_alt_name, absl::StrJoin(sans, ","));
  }
  if (!ok || X509_sign(cert, key_->get(), EVP_sha256()) == 0) {
    ADD_FAILURE() << "issuing a test certificate for " << common_name << " failed";
    X509_free(cert);
    return out;
  }
  out.cert = CertPem(cert);
  out.key = key->PrivatePem();
  X509_free(cert);
  return out;
}

}  // namespace ssebridge_it
