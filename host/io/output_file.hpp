#pragma once
// Outputs are written under a hidden temporary name beside their final path and renamed when
// complete, so a failed or killed run never leaves a file that looks finished. One mechanism
// for every writer (COGs, tables, partials, report, JSON documents).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace reclaim::io {

/// ".<file name><suffix>" beside `path`.
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

}  // namespace reclaim::io
