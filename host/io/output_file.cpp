#include "io/output_file.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <future>
#include <iomanip>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

namespace {

/// SHA-256 fed piecewise (OpenSSL's EVP: hardware-accelerated where the CPU has SHA extensions).
class Sha256 {
 public:
  Sha256() : m_ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("OpenSSL cannot start a SHA-256 digest");
  }
  void update(void const* data, std::size_t n) { EVP_DigestUpdate(m_ctx.get(), data, n); }
  [[nodiscard]] std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_ctx.get(), digest, &len);
    std::ostringstream out;
    for (unsigned i = 0; i < len; ++i) out << std::hex << std::setw(2) << std::setfill('0') << int{digest[i]};
    return out.str();
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> m_ctx;
};

/// Digests of committed outputs, by final path; empty and unused unless a run asks for them.
struct DigestRegistry {
  std::mutex mutex;
  bool on = false;
  std::map<fs::path, std::shared_future<FileDigest>> digests;
};

DigestRegistry& registry() {
  static DigestRegistry r;
  return r;
}

bool keeping_digests() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  return r.on;
}

fs::path registry_key(fs::path const& path) { return fs::absolute(path).lexically_normal(); }

/// Records `path`'s digest: the one given, or one computed in the background from the file.
void record_commit(fs::path const& path, FileDigest const* known) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  if (!r.on) return;
  std::shared_future<FileDigest> digest;
  if (known) {
    std::promise<FileDigest> ready;
    ready.set_value(*known);
    digest = ready.get_future().share();
  } else {
    digest = std::async(std::launch::async, [path] { return digest_file(path); }).share();
  }
  r.digests[registry_key(path)] = std::move(digest);
}

void commit_temp_with(fs::path const& tmp, fs::path const& path, FileDigest const* known) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw io_error(path.string() + ": cannot rename from " + tmp.string() + " (" + ec.message() + ")");
  }
  record_commit(path, known);
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex();
}

FileDigest digest_file(fs::path const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path.string() + ": cannot read for its checksum");
  Sha256 sha;
  FileDigest d;
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto const n = static_cast<std::size_t>(in.gcount());
    sha.update(buf.data(), n);
    d.bytes += n;
  }
  if (in.bad()) throw io_error(path.string() + ": read error while computing its checksum");
  d.sha256 = sha.hex();
  return d;
}

void keep_output_digests(bool on) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.on = on;
  if (!on) r.digests.clear();
}

FileDigest output_digest(fs::path const& path) {
  std::shared_future<FileDigest> digest;
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    if (auto const it = r.digests.find(registry_key(path)); it != r.digests.end()) digest = it->second;
  }
  return digest.valid() ? digest.get() : digest_file(path);
}

fs::path hidden_temp_path(fs::path const& path, std::string_view suffix) {
  std::string name(".");  // built by appending: GCC 12 warns falsely on "." + string
  name += path.filename().string();
  name += suffix;
  return path.parent_path() / name;
}

void commit_temp(fs::path const& tmp, fs::path const& path) { commit_temp_with(tmp, path, nullptr); }

void write_file_atomically(fs::path const& path, std::string_view bytes) {
  fs::path const tmp = hidden_temp_path(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw io_error(path.string() + ": cannot create " + tmp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw io_error(path.string() + ": cannot write " + tmp.string() + " (disk full?)");
    }
  }
  FileDigest const digest{bytes.size(), keeping_digests() ? sha256_hex(bytes) : std::string()};
  commit_temp_with(tmp, path, &digest);
}

}  // namespace reclaim::io
