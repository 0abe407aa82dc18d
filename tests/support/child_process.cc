#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace isucoin::test_support {

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string stderr_path,
                           bool wait_for_url)
    : stderr_path_(std::move(stderr_path)) {
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, 2);
    // Without a URL to wait for, stdout joins stderr: nobody reads the pipe.
    dup2(wait_for_url ? out[1] : err, 1);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  if (wait_for_url) {
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1) {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (auto at = line.find("http://"); at != std::string::npos) {
        url_ = line.substr(at, line.find('/', at + 7) - at);
        break;
      }
      line.clear();
    }
  }
  // Nothing more is read: a server prints its URL line once, and isucoin ignores SIGPIPE.
  close(out[0]);
}

ChildProcess::~ChildProcess() { Stop(SIGKILL); }

int ChildProcess::Stop(int signal) {
  if (pid_ <= 0) return 0;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string ChildProcess::StderrText() const {
  std::ifstream in(stderr_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace isucoin::test_support
