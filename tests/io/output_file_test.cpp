// The one temporary-then-rename helper and the digests manifest.json takes from it.
#include "io/output_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "reclaim/error.hpp"

namespace fs = std::filesystem;
using reclaim::io::output_digest;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    m_path = fs::temp_directory_path() / ("reclaim_output_file_test_" + std::to_string(rd()));
    fs::create_directories(m_path);
  }
  ~TempDir() {
    reclaim::io::keep_output_digests(false);
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  [[nodiscard]] fs::path const& path() const { return m_path; }

 private:
  fs::path m_path;
};

void write_plain(fs::path const& p, std::string const& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// FIPS 180-2 test vectors (appendix B.1 and the empty message).
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

TEST(OutputFile, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(reclaim::io::sha256_hex("abc"), kAbc);
  EXPECT_EQ(reclaim::io::sha256_hex(""), kEmpty);
  TempDir dir;
  write_plain(dir.path() / "abc", "abc");
  auto const d = reclaim::io::digest_file(dir.path() / "abc");
  EXPECT_EQ(d.sha256, kAbc);
  EXPECT_EQ(d.bytes, 3u);
  // A file bigger than the 1 MiB read buffer: digest of the bytes equals digest of the file.
  std::string big(3u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919u) >> 3);
  write_plain(dir.path() / "big", big);
  EXPECT_EQ(reclaim::io::digest_file(dir.path() / "big").sha256, reclaim::io::sha256_hex(big));
  EXPECT_THROW((void)reclaim::io::digest_file(dir.path() / "missing"), reclaim::io_error);
}

TEST(OutputFile, WrittenBytesAreHashedAsTheyAreWritten) {
  TempDir dir;
  reclaim::io::keep_output_digests(true);
  fs::path const table = dir.path() / "t.csv";
  reclaim::io::write_file_atomically(table, "abc");
  // Changing the file behind the writer's back does not change the digest: it was taken from
  // the bytes written, not by reading the file back.
  write_plain(table, "tampered");
  auto const d = output_digest(table);
  EXPECT_EQ(d.sha256, kAbc);
  EXPECT_EQ(d.bytes, 3u);
  // The same file under another spelling of its path.
  EXPECT_EQ(output_digest(dir.path() / "." / "t.csv").sha256, kAbc);
}

TEST(OutputFile, CommittedTemporariesAreHashedAfterTheRename) {
  TempDir dir;
  reclaim::io::keep_output_digests(true);
  fs::path const cog = dir.path() / "x.tif";
  fs::path const tmp = reclaim::io::hidden_temp_path(cog);
  EXPECT_EQ(tmp, dir.path() / ".x.tif.tmp");
  write_plain(tmp, "abc");
  reclaim::io::commit_temp(tmp, cog);
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(output_digest(cog).sha256, kAbc);
}

TEST(OutputFile, WithoutRecordingDigestsAreReadFromTheFile) {
  TempDir dir;
  fs::path const table = dir.path() / "t.csv";
  reclaim::io::write_file_atomically(table, "abc");
  write_plain(table, "");
  EXPECT_EQ(output_digest(table).sha256, kEmpty);
}

TEST(OutputFile, AFailedWriteLeavesNothing) {
  TempDir dir;
  fs::path const nowhere = dir.path() / "no_such_folder" / "t.csv";
  try {
    reclaim::io::write_file_atomically(nowhere, "abc");
    FAIL() << "expected io_error";
  } catch (reclaim::io_error const& e) {
    EXPECT_NE(std::string(e.what()).find(nowhere.string()), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}
