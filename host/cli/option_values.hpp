#pragma once
// The values of a command's options, from the command line and, with --job FILE, a JSON or
// TOML job file read straight into the same values (no synthetic argv): the command line wins,
// then the job file, then the option's default. Reads like cxxopts::ParseResult (count(),
// operator[]().as<T>()), so the request builders serve both sources unchanged.
#include <cxxopts.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace reclaim::cli {

/// `text` as a number when all of it is one (as std::stod reads it: "nan" and "inf" too;
/// out of double's range is not a number). The one number parser of the command line.
[[nodiscard]] std::optional<double> to_number(std::string const& text);

/// "2019=path/to/file" -> {"2019", "path/to/file"}; a plain path has an empty label.
struct LabeledPath {
  std::string label;
  std::filesystem::path path;
};
[[nodiscard]] LabeledPath parse_labeled_path(std::string const& text);

class OptionValues;

/// One option's value, resolved command line > job file > default.
class OptionValue {
 public:
  template <class T>
  [[nodiscard]] T as() const;

 private:
  friend class OptionValues;
  OptionValue(OptionValues const& values, std::string name) : m_values(values), m_name(std::move(name)) {}
  OptionValues const& m_values;
  std::string m_name;
};

class OptionValues {
 public:
  /// `options` is the command's declaration: every key of the job file must name one of them.
  OptionValues(cxxopts::Options const& options, cxxopts::ParseResult cli, std::optional<std::filesystem::path> job);

  /// Non-zero when the option was given on the command line or in the job file.
  [[nodiscard]] std::size_t count(std::string const& name) const;
  [[nodiscard]] OptionValue operator[](std::string const& name) const { return {*this, name}; }
  [[nodiscard]] cxxopts::ParseResult const& cli() const noexcept { return m_cli; }
  [[nodiscard]] std::optional<std::filesystem::path> const& job_path() const noexcept { return m_job_path; }

  // Numeric options are declared as text and read here, so that the command line and the job
  // file pass the same checks (where each option becomes a request) with the same messages.
  /// Option `name` as a finite number (nan, inf and out-of-range text are refused).
  [[nodiscard]] double number(std::string const& name) const;
  /// ... within [lo, hi].
  [[nodiscard]] double number_in(std::string const& name, double lo, double hi) const;
  /// ... greater than 0.
  [[nodiscard]] double positive(std::string const& name) const;
  /// ... a whole number within [lo, hi].
  [[nodiscard]] int integer(std::string const& name, int lo, int hi) const;
  /// A comma-separated list of finite numbers ("1,2,3").
  [[nodiscard]] std::vector<double> numbers(std::string const& name) const;
  /** @brief Refuses option `name`'s value: usage_error "--name VALUE: problem" when it came from
   * the command line, input_error "job file 'F': option 'name' = VALUE: problem" when it came
   * from the job file (a bad job file, as for its other errors). */
  [[noreturn]] void refuse(std::string const& name, std::string const& problem) const;
  /// Every option as the run used it: given values (repeated ones as arrays; command line, then
  /// the job file's keys it did not override), then the defaults. For manifests.
  [[nodiscard]] nlohmann::ordered_json to_json() const;

 private:
  friend class OptionValue;
  [[nodiscard]] nlohmann::json const* job_value(std::string const& name) const;
  [[nodiscard]] std::string job_scalar(nlohmann::json const& v, std::string const& name) const;
  /// A job file's value of option `name` with its relative paths taken from the job file's folder.
  [[nodiscard]] std::string job_text(nlohmann::json const& v, std::string const& name) const;

  cxxopts::ParseResult m_cli;
  std::optional<std::filesystem::path> m_job_path;
  nlohmann::json m_job = nlohmann::json::object();
};

/** @brief Parses a command's arguments (adding --job), prints the help (then `help_footer`,
 * returning nullopt) for --help. Throws usage_error for a stray argument, input_error naming the
 * job file and key for a bad job file. */
[[nodiscard]] std::optional<OptionValues> parse_command(cxxopts::Options& options, int argc, char** argv,
                                                        std::string const& help_footer = {});

}  // namespace reclaim::cli
