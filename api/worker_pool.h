// A fixed pool for the slow parts of requests (bcrypt, bank calls, durable appends, waits for
// answers), so Pistache's reactor threads only parse and dispatch.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace isucoin::api {

class WorkerPool {
 public:
  // `nice` > 0 lowers the threads' CPU priority (Linux: per-thread nice), so that their work
  // yields the cores to everyone else's.
  explicit WorkerPool(int threads, int nice = 0);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False once stopping: the task was not taken.
  bool Submit(std::function<void()> task);
  // Refuses new tasks, runs what is queued, joins. Idempotent.
  void Stop();
  std::size_t queued() const;

 private:
  void Loop();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace isucoin::api
