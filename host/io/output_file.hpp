#pragma once
// Outputs are written under a hidden temporary name beside their final path and renamed when
// complete, so a failed or killed run never leaves a file that looks finished. One mechanism
// for every writer (COGs, tables, partials, report, JSON documents).
#include <filesystem>
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

}  // namespace reclaim::io
