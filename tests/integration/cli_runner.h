#pragma once
// Runs the real `tanpuhui` binary for tests of the command line.

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace tph::testing {

//! Runs `ENV tanpuhui ARGS` through the shell with stdin from /dev/null, appends stdout and stderr
//! to *output and returns the exit code (-1 when the process did not exit normally).
inline int runCli(const std::string& args, std::string* output, const std::string& env = {}) {
  std::string command = env + " " + TPH_BINARY + " " + args + " 2>&1 </dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output->append(buffer);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace tph::testing
