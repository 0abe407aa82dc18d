// TSan builds only (linked into every target when ISUCOIN_SANITIZE=thread, see CMakeLists.txt).
//
// librdkafka (Debian's 2.0) creates its threads and takes its locks through C11 <threads.h>
// (thrd_create, mtx_lock, cnd_wait, call_once). gcc 12's ThreadSanitizer runtime intercepts the
// pthread functions but not these glibc wrappers: librdkafka's threads run with no TSan thread
// state (TSan's allocator then crashes with SEGV on the first malloc of such a thread, e.g.
// "rdk:mock") and its mutexes are invisible (every access they protect would be reported).
//
// glibc implements the C11 calls as thin wrappers over the pthread ones with the same object
// layouts (mtx_t is a pthread_mutex_t, cnd_t a pthread_cond_t, once_flag a pthread_once_t).
// Defined here, they take precedence over libc's for every library of the process, and call
// the pthread functions, which TSan does intercept. Behaviour is unchanged; TSan sees it all.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include <cstdint>
#include <new>

namespace {

int Map(int err) {
  switch (err) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

struct Start {
  thrd_start_t func;
  void* arg;
};

void* Trampoline(void* p) {
  Start start = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.func(start.arg)));
}

pthread_mutex_t* M(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* C(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(once_flag) == sizeof(pthread_once_t));

}  // namespace

extern "C" {

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  auto* start = new (std::nothrow) Start{func, arg};
  if (start == nullptr) return thrd_nomem;
  const int err = pthread_create(thr, nullptr, Trampoline, start);
  if (err != 0) delete start;
  return Map(err);
}

int thrd_join(thrd_t thr, int* res) {
  void* ret = nullptr;
  const int err = pthread_join(thr, &ret);
  if (err == 0 && res != nullptr) {
    *res = static_cast<int>(reinterpret_cast<std::intptr_t>(ret));
  }
  return Map(err);
}

int thrd_detach(thrd_t thr) { return Map(pthread_detach(thr)); }

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int err = pthread_mutex_init(M(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return Map(err);
}
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(M(m)); }
int mtx_lock(mtx_t* m) { return Map(pthread_mutex_lock(M(m))); }
int mtx_trylock(mtx_t* m) { return Map(pthread_mutex_trylock(M(m))); }
int mtx_timedlock(mtx_t* __restrict m, const struct timespec* __restrict ts) {
  return Map(pthread_mutex_timedlock(M(m), ts));
}
int mtx_unlock(mtx_t* m) { return Map(pthread_mutex_unlock(M(m))); }

int cnd_init(cnd_t* c) { return Map(pthread_cond_init(C(c), nullptr)); }
void cnd_destroy(cnd_t* c) { pthread_cond_destroy(C(c)); }
int cnd_signal(cnd_t* c) { return Map(pthread_cond_signal(C(c))); }
int cnd_broadcast(cnd_t* c) { return Map(pthread_cond_broadcast(C(c))); }
int cnd_wait(cnd_t* c, mtx_t* m) { return Map(pthread_cond_wait(C(c), M(m))); }
int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m, const struct timespec* __restrict ts) {
  return Map(pthread_cond_timedwait(C(c), M(m), ts));
}

void call_once(once_flag* flag, void (*func)(void)) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), func);
}

}  // extern "C"
