/*
 * A small program the boot test runs inside the guest and natively on the host; both outputs
 * must be identical. It exercises integer code (a sieve, a hash), the x87 FPU (sqrt, division),
 * system calls (write, getpid, uname) and a little of libc's startup.
 */
#include <stdio.h>
#include <string.h>
#include <math.h>

static unsigned char composite[200001];

int main(void) {
  unsigned primes = 0, last = 0;
  for (unsigned i = 2; i <= 200000; i++) {
    if (composite[i]) continue;
    primes++;
    last = i;
    for (unsigned j = i * 2; j <= 200000; j += i) composite[j] = 1;
  }
  unsigned h = 2166136261u;
  for (unsigned i = 0; i < 1000000; i++) h = (h ^ (i * 2654435761u)) * 16777619u;
  double s = 0;
  for (int i = 1; i <= 100000; i++) s += sqrt((double)i) / i;
  char buf[64];
  snprintf(buf, sizeof buf, "%u", h);
  printf("primes=%u last=%u fnv=%s len=%u sqrtsum=%.6f\n", primes, last, buf, (unsigned)strlen(buf), s);
  return 0;
}
