// The one temporary-then-rename helper and the digests manifest.json takes from it.
#include "io/output_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <unistd.h>

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
  EXPECT_EQ(tmp.parent_path(), dir.path());
  write_plain(tmp, "abc");
  reclaim::io::commit_temp(tmp, cog);
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(output_digest(cog).sha256, kAbc);
}

TEST(OutputFile, TemporaryNamesAreHiddenAndNeverShared) {
  // Two runs writing into one folder used to share ".x.tif.tmp": one renamed the other's bytes.
  fs::path const cog = fs::path("out") / "x.tif";
  fs::path const a = reclaim::io::hidden_temp_path(cog), b = reclaim::io::hidden_temp_path(cog);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.parent_path(), cog.parent_path());  // same file system: the rename is atomic
  std::string const pid = "." + std::to_string(::getpid()) + "-";
  for (auto const& tmp : {a, b}) {
    std::string const name = tmp.filename().string();
    EXPECT_EQ(name.rfind(".x.tif" + pid, 0), 0u) << name;  // hidden, then the file's name and the pid
    EXPECT_TRUE(name.ends_with(".tmp")) << name;
  }
  EXPECT_TRUE(reclaim::io::hidden_temp_path(cog, ".tmp.gpkg").filename().string().ends_with(".tmp.gpkg"));
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

// flock() locks belong to an open file description, so a second lock_outputs in this process
// meets the first exactly as another run would.
TEST(OutputLock, ASecondRunIntoTheFolderIsRefusedNamingItAndThePid) {
  TempDir dir;
  fs::path const out = dir.path() / "out";
  fs::create_directories(out);
  {
    auto const held = reclaim::io::lock_outputs(out, {out / "ndvi.tif"});
    EXPECT_TRUE(fs::exists(out / reclaim::io::kFolderLockName));
    try {
      (void)reclaim::io::lock_outputs(out, {out / "ndvi.tif"});
      FAIL() << "expected io_error";
    } catch (reclaim::io_error const& e) {
      EXPECT_EQ(std::string(e.what()),
                out.string() + ": is being written by another reclaim run (pid " + std::to_string(::getpid()) + ")");
    }
  }
  // Released: the lock file is gone, and the folder can be taken again.
  EXPECT_TRUE(fs::is_empty(out));
  auto const again = reclaim::io::lock_outputs(out, {});
  EXPECT_TRUE(fs::exists(out / reclaim::io::kFolderLockName));
}

TEST(OutputLock, AStaleLockFileFromAKilledRunDoesNotBlock) {
  TempDir dir;
  write_plain(dir.path() / reclaim::io::kFolderLockName, "999999\n");  // no process holds it
  auto const held = reclaim::io::lock_outputs(dir.path(), {});
  EXPECT_THROW((void)reclaim::io::lock_outputs(dir.path(), {}), reclaim::io_error);
}

TEST(OutputLock, SingleFilesLockBesideThemselvesAndShareTheirFolder) {
  TempDir dir;
  fs::path const a = dir.path() / "west.bin", b = dir.path() / "east.bin";
  {
    // Two shards writing different files into one folder run side by side...
    auto const west = reclaim::io::lock_outputs({}, {a});
    auto const east = reclaim::io::lock_outputs({}, {b, b});  // one file named twice: locked once
    EXPECT_TRUE(fs::exists(dir.path() / ".west.bin.lock"));
    // ...but not two runs writing one file, nor a run taking the whole folder meanwhile.
    EXPECT_THROW((void)reclaim::io::lock_outputs({}, {a}), reclaim::io_error);
    try {
      (void)reclaim::io::lock_outputs(dir.path(), {});
      FAIL() << "expected io_error";
    } catch (reclaim::io_error const& e) {
      EXPECT_NE(std::string(e.what()).find("is being written by another reclaim run"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(fs::is_empty(dir.path())) << "lock files left";
  {
    // A run holding the folder keeps single-file runs out of it; its own files inside need no lock.
    auto const folder = reclaim::io::lock_outputs(dir.path(), {a, dir.path() / "sub" / "c.png"});
    EXPECT_FALSE(fs::exists(dir.path() / ".west.bin.lock"));
    try {
      (void)reclaim::io::lock_outputs({}, {b});
      FAIL() << "expected io_error";
    } catch (reclaim::io_error const& e) {
      EXPECT_EQ(std::string(e.what()).rfind(dir.path().string() + ": is being written", 0), 0u) << e.what();
    }
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(OutputLock, AMissingFolderIsAnIoErrorNamingTheOutput) {
  TempDir dir;
  fs::path const table = dir.path() / "no_such_folder" / "t.csv";
  try {
    (void)reclaim::io::lock_outputs({}, {table});
    FAIL() << "expected io_error";
  } catch (reclaim::io_error const& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_folder"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(OutputFile, FreeSpaceIsCheckedBeforeWriting) {
  TempDir dir;
  auto const available = fs::space(dir.path()).available;
  EXPECT_NO_THROW(reclaim::io::require_free_space(dir.path(), 0, "nothing"));
  EXPECT_NO_THROW(reclaim::io::require_free_space(dir.path(), 1, "one byte"));
  try {
    reclaim::io::require_free_space(dir.path(), available + (std::uintmax_t{1} << 40), "the scratch files");
    FAIL() << "expected io_error";
  } catch (reclaim::io_error const& e) {
    std::string const what = e.what();
    EXPECT_EQ(what.rfind(dir.path().string() + ": not enough free space for the scratch files: ", 0), 0u) << what;
    EXPECT_NE(what.find(std::to_string(available + (std::uintmax_t{1} << 40)) + " bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("available"), std::string::npos) << what;
  }
}
