// A program of this project run as a child process by a test: stdout is read until its first
// line naming a URL (every server here prints one once it listens), stderr goes to a file the
// test can show on failure. The destructor SIGKILLs what is still running.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace isucoin::test_support {

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is the program's path). With `wait_for_url`, blocks until the child
  // prints a line containing "http://" (url() is then "http://host:port") or closes stdout.
  ChildProcess(std::vector<std::string> argv, std::string stderr_path, bool wait_for_url);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Sends `signal` and waits for the exit; returns the wait status. Idempotent.
  int Stop(int signal);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& url() const { return url_; }
  const std::string& stderr_path() const { return stderr_path_; }
  // The child's stderr so far (for failure messages and for what it says it is doing).
  std::string StderrText() const;

 private:
  pid_t pid_ = -1;
  std::string url_;
  std::string stderr_path_;
};

}  // namespace isucoin::test_support
