#include "io/output_file.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <iomanip>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <random>
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

namespace {

/// ".<file name><suffix>" beside `path`.
fs::path hidden_sibling(fs::path const& path, std::string_view suffix) {
  std::string name(".");  // built by appending: GCC 12 warns falsely on "." + string
  name += path.filename().string();
  name += suffix;
  return path.parent_path() / name;
}

}  // namespace

fs::path hidden_temp_path(fs::path const& path, std::string_view suffix) {
  // The pid alone is not enough: two writers of one run, or a pid reused after a killed run.
  static std::mutex mutex;
  static std::mt19937_64 random{std::random_device{}()};
  std::uint32_t token = 0;
  {
    std::lock_guard lock(mutex);
    token = static_cast<std::uint32_t>(random());
  }
  char unique[40];
  std::snprintf(unique, sizeof unique, ".%ld-%08x", static_cast<long>(::getpid()), static_cast<unsigned>(token));
  std::string tail(unique);
  tail += suffix;
  return hidden_sibling(path, tail);
}

void commit_temp(fs::path const& tmp, fs::path const& path) { commit_temp_with(tmp, path, nullptr); }

void write_file_atomically(fs::path const& path, std::string_view bytes) {
  fs::path const tmp = hidden_temp_path(path);
  {
    errno = 0;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw io_error(path.string() + ": " + write_failure(path, errno, "cannot create " + tmp.string() + " (" +
                                                                          std::strerror(errno) + ")"));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::string const why = write_failure(path, errno, "cannot write " + tmp.string() + " (" + std::strerror(errno) + ")");
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw io_error(path.string() + ": " + why);
    }
  }
  FileDigest const digest{bytes.size(), keeping_digests() ? sha256_hex(bytes) : std::string()};
  commit_temp_with(tmp, path, &digest);
}

namespace {

/// " (pid N)" as recorded in a lock file, or "" when it holds none. The holder writes its pid
/// right after it locks: a run that meets it at that moment waits up to 0.1 s for it.
std::string lock_holder(int fd) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) > 0)
      if (long const pid = std::strtol(buf, nullptr, 10); pid > 0) return " (pid " + std::to_string(pid) + ")";
    ::usleep(2000);
  }
  return {};
}

bool same_inode(int fd, fs::path const& path) {
  struct stat held {}, now {};
  return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
         held.st_ino == now.st_ino;
}

/// `path` with symbolic links resolved as far as it exists, absolute and normal.
fs::path resolved(fs::path const& path) {
  std::error_code ec;
  auto p = fs::weakly_canonical(path, ec);
  return ec ? fs::absolute(path).lexically_normal() : p;
}

/// Whether `path` lies in `folder` or below.
bool is_within(fs::path const& path, fs::path const& folder) {
  auto const p = resolved(path), f = resolved(folder);
  auto const [fi, pi] = std::mismatch(f.begin(), f.end(), p.begin(), p.end());
  return fi == f.end() || (std::next(fi) == f.end() && fi->empty());  // "dir/" ends in an empty name
}

fs::path folder_of(fs::path const& file) { return file.has_parent_path() ? file.parent_path() : fs::path("."); }

}  // namespace

OutputLock::OutputLock(OutputLock&& other) noexcept : m_held(std::move(other.m_held)) { other.m_held.clear(); }

OutputLock& OutputLock::operator=(OutputLock&& other) noexcept {
  if (this != &other) {
    release();
    m_held = std::move(other.m_held);
    other.m_held.clear();
  }
  return *this;
}

OutputLock::~OutputLock() { release(); }

void OutputLock::hold(fs::path const& lock_file, bool shared, fs::path const& owner) {
  for (;;) {
    int const fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw io_error(owner.string() + ": cannot create the lock file " + lock_file.string() + " (" +
                     std::strerror(errno) + ")");
    if (::flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
      int const err = errno;
      std::string const holder = lock_holder(fd);
      ::close(fd);
      if (err == EWOULDBLOCK) throw io_error(owner.string() + ": is being written by another reclaim run" + holder);
      throw io_error(owner.string() + ": cannot lock " + lock_file.string() + " (" + std::strerror(err) + ")");
    }
    // Its last holder removes the file on release: a lock taken on a file already removed
    // locks nothing, so take the one now at that path.
    if (!same_inode(fd, lock_file)) {
      ::close(fd);
      continue;
    }
    std::string const pid = std::to_string(::getpid()) + "\n";
    bool const recorded = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) > 0;
    (void)recorded;  // only the other run's message needs it: the lock holds without
    m_held.push_back({fd, lock_file});
    return;
  }
}

void OutputLock::release() noexcept {
  for (auto it = m_held.rbegin(); it != m_held.rend(); ++it) {
    // Removed only by a holder that can lock it exclusively (so no run still holds it shared),
    // while it does, so that nobody locks a file on its way out.
    if (::flock(it->fd, LOCK_EX | LOCK_NB) == 0 && same_inode(it->fd, it->path)) ::unlink(it->path.c_str());
    ::close(it->fd);
  }
  m_held.clear();
}

OutputLock lock_outputs(fs::path const& folder, std::vector<fs::path> const& files) {
  OutputLock lock;
  if (!folder.empty()) lock.hold(folder / kFolderLockName, /*shared=*/false, folder);
  std::vector<fs::path> locked_files, shared_folders;  // each once: a second flock would fail
  for (auto const& file : files) {
    if (!folder.empty() && is_within(file, folder)) continue;
    auto const canonical = resolved(file);
    if (std::find(locked_files.begin(), locked_files.end(), canonical) != locked_files.end()) continue;
    locked_files.push_back(canonical);
    auto const parent = folder_of(file);
    auto const canonical_parent = resolved(parent);
    if (std::find(shared_folders.begin(), shared_folders.end(), canonical_parent) == shared_folders.end()) {
      lock.hold(parent / kFolderLockName, /*shared=*/true, parent);
      shared_folders.push_back(canonical_parent);
    }
    lock.hold(hidden_sibling(file, ".lock"), /*shared=*/false, file);
  }
  return lock;
}

namespace {

std::string byte_count(std::uintmax_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%ju bytes (%.1f GiB)", bytes, static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  return buf;
}

}  // namespace

void require_free_space(fs::path const& folder, std::uintmax_t bytes, std::string_view what) {
  if (bytes == 0) return;
  std::error_code ec;
  auto const space = fs::space(folder, ec);
  if (ec) throw io_error(folder.string() + ": cannot read the free space (" + ec.message() + ")");
  if (space.available >= bytes) return;
  throw io_error(folder.string() + ": not enough free space for " + std::string(what) + ": " + byte_count(bytes) +
                 " needed, " + byte_count(space.available) + " available");
}

std::string write_failure(fs::path const& path, int err, std::string otherwise) {
  constexpr std::uintmax_t kFullDiskSlack = std::uintmax_t{1} << 20;
  auto const folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  auto const space = fs::space(folder, ec);
  bool const full = err == ENOSPC || err == EDQUOT || (!ec && space.available < kFullDiskSlack);
  if (!full) return otherwise;
  return "no space left on device in " + folder.string();
}

}  // namespace reclaim::io
