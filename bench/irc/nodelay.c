/*
 * LD_PRELOAD shim for the IRC comparison runs (docs/benchmarks.md): sets
 * TCP_NODELAY on every socket an IRC server accepts, as chatapp does on its
 * own, so latency is compared like for like. Neither ngIRCd nor InspIRCd sets
 * it; without it, Nagle's algorithm holds small writes back for the peer's
 * delayed ACK (tens of ms on loopback).
 * Build: cc -shared -fPIC -O2 -o nodelay.so nodelay.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void set_nodelay(int fd) {
  int one = 1;
  if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on non-TCP fds */
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
  int conn = real(fd, addr, len);
  set_nodelay(conn);
  return conn;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
  static int (*real)(int, struct sockaddr *, socklen_t *, int);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
  int conn = real(fd, addr, len, flags);
  set_nodelay(conn);
  return conn;
}
