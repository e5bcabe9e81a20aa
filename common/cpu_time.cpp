#include "common/cpu_time.h"

#include <ctime>
#include <fstream>
#include <string>

#include <sys/resource.h>

namespace adaptive {
namespace {

double seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
}

double clock_s(clockid_t clock) {
  timespec t{};
  if (clock_gettime(clock, &t) != 0) return -1;
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

double process_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double thread_cpu_s() {
  return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

double thread_cpu_s(pthread_t thread) {
  clockid_t clock{};
  if (pthread_getcpuclockid(thread, &clock) != 0) return -1;
  return clock_s(clock);
}

namespace {

constexpr const char* kRaplDir = "/sys/class/powercap/intel-rapl:0/";

double read_microjoules(const char* name) {
  std::ifstream in(std::string(kRaplDir) + name);
  double uj = -1;
  if (!(in >> uj)) return -1;
  return uj;
}

}  // namespace

double package_energy_j() {
  const double uj = read_microjoules("energy_uj");
  return uj < 0 ? -1 : uj * 1e-6;
}

double energy_between(double before, double after) {
  if (before < 0 || after < 0) return -1;
  if (after >= before) return after - before;
  const double range = read_microjoules("max_energy_range_uj");  // the counter wrapped
  return range < 0 ? -1 : after + range * 1e-6 - before;
}

}  // namespace adaptive
