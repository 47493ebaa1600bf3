/* Moves the wall clock (CLOCK_REALTIME, gettimeofday, time) of every process it is preloaded into
 * by ESTEIRA_TEST_WALLCLOCK_SHIFT_SECONDS, and nothing else: the monotonic and boot clocks stay true, so
 * that sleeps and timeouts keep working. libfaketime shifts those too, or some of them, and Swift's
 * Task.sleep then waits for ever (seen: a server that never stops on SIGTERM). Used by
 * scripts/test-shifted-clock to run the suite on another day. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long shift_seconds(void) {
    static long shift = -1;
    static int read = 0;
    if (!read) {
        const char *s = getenv("ESTEIRA_TEST_WALLCLOCK_SHIFT_SECONDS");
        shift = s ? atol(s) : 0;
        read = 1;
    }
    return shift;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *) = 0;
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int r = real(id, ts);
    if (r == 0 && ts && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += shift_seconds();
    return r;
}

int gettimeofday(struct timeval *tv, void *tz) {
    static int (*real)(struct timeval *, void *) = 0;
    if (!real) real = (int (*)(struct timeval *, void *))dlsym(RTLD_NEXT, "gettimeofday");
    int r = real(tv, tz);
    if (r == 0 && tv) tv->tv_sec += shift_seconds();
    return r;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
