// LD_PRELOAD shim for the webhook benchmark: makes every flush to disk take longer, as on a disk whose cache flush
// costs what it costs on most real disks (this VM's virtual disk acknowledges one in ~0.2 ms). A "flush" is an
// fsync/fdatasync call, or a write to a file opened with O_DSYNC/O_SYNC (anvil's spool opens its segments that way).
// The delay in microseconds is an int32 in the file named by ANVIL_FLUSH_DELAY_FILE, mapped once and read at every
// flush, so the benchmark can change it between rounds without restarting the processes; without it, nothing changes.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static volatile int32_t *delay_us;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
  real_fsync = dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
  real_write = dlsym(RTLD_NEXT, "write");
  real_writev = dlsym(RTLD_NEXT, "writev");
  real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
  real_pwritev64 = dlsym(RTLD_NEXT, "pwritev64");
  const char *path = getenv("ANVIL_FLUSH_DELAY_FILE");
  if (!path) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  void *p = mmap(NULL, sizeof(int32_t), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p != MAP_FAILED) delay_us = p;
}

static int32_t current_delay(void) {
  pthread_once(&once, init);
  return delay_us ? *delay_us : 0;
}

static void flush_delay(int32_t us) {
  if (us <= 0) return;
  struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void after_sync_write(int fd, ssize_t r) {
  int32_t us = current_delay();
  if (us <= 0 || r <= 0) return;
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_DSYNC)) flush_delay(us);  // O_SYNC includes O_DSYNC's bit
}

int fsync(int fd) {
  flush_delay(current_delay());
  return real_fsync(fd);
}
int fdatasync(int fd) {
  flush_delay(current_delay());
  return real_fdatasync(fd);
}
ssize_t write(int fd, const void *buf, size_t n) {
  pthread_once(&once, init);
  ssize_t r = real_write(fd, buf, n);
  after_sync_write(fd, r);
  return r;
}
ssize_t writev(int fd, const struct iovec *iov, int n) {
  pthread_once(&once, init);
  ssize_t r = real_writev(fd, iov, n);
  after_sync_write(fd, r);
  return r;
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  pthread_once(&once, init);
  ssize_t r = real_pwrite64(fd, buf, n, off);
  after_sync_write(fd, r);
  return r;
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { return pwrite64(fd, buf, n, off); }
ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off) {
  pthread_once(&once, init);
  ssize_t r = real_pwritev64(fd, iov, n, off);
  after_sync_write(fd, r);
  return r;
}
ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off) { return pwritev64(fd, iov, n, off); }
