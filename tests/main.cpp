// The test runner: Catch2's, plus skips (Catch2 v2 has none). A case that
// cannot run on this system calls test::skip(reason) and returns. A run in
// which every case that ran was skipped exits with test::kSkipExitCode (77),
// which CTest, running one case per entry, shows as skipped (its
// SKIP_RETURN_CODE), not as passed. A run with a failure exits as Catch2 says.
#include "test_support.h"

#include <iostream>

#include "infer/model_artifact.h"

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

namespace {

int cases_run = 0;

struct CountCases : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    ++cases_run;
    TestEventListenerBase::testCaseStarting(info);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(CountCases)

int main(int argc, char* argv[]) {
  adaptive::disable_graph_optimisation();  // the suite runs models as adaptive-infer does
  const int result = Catch::Session().run(argc, argv);
  const int skipped = adaptive::test::skipped_cases();
  if (skipped > 0) {
    std::cout << skipped << " of " << cases_run << " test cases skipped (SKIPPED above says why)\n";
  }
  if (result == 0 && skipped > 0 && skipped == cases_run) return adaptive::test::kSkipExitCode;
  return result;
}
