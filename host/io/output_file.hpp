#pragma once
// Outputs are written under a hidden temporary name beside their final path and renamed when
// complete, so a failed or killed run never leaves a file that looks finished. One mechanism
// for every writer (COGs, tables, partials, report, JSON documents), with the output lock that
// keeps two runs from writing the same outputs and the free-space check for scratch files.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::io {

/// ".<file name>.<pid>-<random><suffix>" beside `path`: hidden, never shared by two runs or two
/// writers, and on the file system of `path`, so that the final rename is atomic.
[[nodiscard]] std::filesystem::path hidden_temp_path(std::filesystem::path const& path,
                                                     std::string_view suffix = ".tmp");

/// Renames a finished temporary to `path`; on failure removes it and throws io_error naming `path`.
void commit_temp(std::filesystem::path const& tmp, std::filesystem::path const& path);

/// Writes `bytes` to hidden_temp_path(path), then commit_temp; io_error naming `path` on failure
/// (the temporary is removed).
void write_file_atomically(std::filesystem::path const& path, std::string_view bytes);

/// Size and SHA-256 (lower-case hex) of an output.
struct FileDigest {
  std::uintmax_t bytes = 0;
  std::string sha256;
};

[[nodiscard]] std::string sha256_hex(std::string_view bytes);

/// Reads `path` and hashes it; io_error naming it when it cannot be read.
[[nodiscard]] FileDigest digest_file(std::filesystem::path const& path);

/// Starts (or stops) keeping the digests of the outputs this process commits, for a manifest.
/// Writers that hold their bytes (tables, JSON, pictures, the report) hash them from memory as
/// they write; files that GDAL writes with seeks back into their headers (COGs, GeoPackages)
/// are hashed from the page cache on a background thread as soon as each is committed, while
/// the other outputs are still being encoded.
void keep_output_digests(bool on);

/// The digest of an output committed since keep_output_digests(true) (waiting for its
/// background hash if needed), else read and hashed now.
[[nodiscard]] FileDigest output_digest(std::filesystem::path const& path);

/** @brief A run's hold on its output locations, from before its first write to its end: flock()
 * on hidden lock files, so that a second run stops before it writes anything. The kernel drops
 * the locks when the process dies (even by kill -9); releasing also removes the lock files. */
class OutputLock {
 public:
  OutputLock() = default;
  OutputLock(OutputLock&& other) noexcept;
  OutputLock& operator=(OutputLock&& other) noexcept;
  OutputLock(OutputLock const&) = delete;
  OutputLock& operator=(OutputLock const&) = delete;
  ~OutputLock();
  void release() noexcept;
  /// Locks `lock_file` (exclusive or shared) for `owner`, the path named in errors.
  void hold(std::filesystem::path const& lock_file, bool shared, std::filesystem::path const& owner);

 private:
  struct Held {
    int fd;
    std::filesystem::path path;
  };
  std::vector<Held> m_held;
};

/// The lock file of an output folder.
inline constexpr char kFolderLockName[] = ".reclaim.lock";

/** @brief Locks `folder` (exclusively, `<folder>/.reclaim.lock`; empty: no folder) and every file
 * of `files` outside it: exclusively beside the file (`.<name>.lock`) and its folder's lock
 * shared, so that no run holds that folder meanwhile while shards may still write different
 * files into one folder side by side. Throws io_error "<path>: is being written by another
 * reclaim run (pid N)", or naming a lock file that cannot be created. */
[[nodiscard]] OutputLock lock_outputs(std::filesystem::path const& folder,
                                      std::vector<std::filesystem::path> const& files);

/// io_error naming `folder`, the bytes needed and the bytes available, unless its file system
/// has `bytes` free for `what` (std::filesystem::space; `folder` must exist).
void require_free_space(std::filesystem::path const& folder, std::uintmax_t bytes, std::string_view what);

/** @brief Why writing `path` failed: "no space left on device in FOLDER" when its
 * file system is full (errno `err` is ENOSPC or EDQUOT, or under 1 MiB, less than one COG
 * block, is left: GDAL's drivers report a full disk as whatever their next step then fails
 * on, a "TIFF directory" error, say), else `otherwise`. Call it before removing the failed
 * temporary, which gives the space back. */
[[nodiscard]] std::string write_failure(std::filesystem::path const& path, int err, std::string otherwise);

}  // namespace reclaim::io
