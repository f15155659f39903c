#pragma once
// One entry point per subcommand; argv[0] is the subcommand name. Each returns the exit code
// or throws one of reclaim's exception types, which main() maps to exit codes (docs/cli.md).
namespace reclaim::cli {

int indices_main(int argc, char** argv);
int composite_main(int argc, char** argv);
int change_main(int argc, char** argv);
int trend_main(int argc, char** argv);
int zonal_main(int argc, char** argv);
int merge_main(int argc, char** argv);
int assess_main(int argc, char** argv);
int synth_main(int argc, char** argv);
int plan_main(int argc, char** argv);
int run_main(int argc, char** argv);
/// `reclaim merge RUN/` (a national run's folder); merge_main hands it over.
int national_merge_main(int argc, char** argv);

}  // namespace reclaim::cli
