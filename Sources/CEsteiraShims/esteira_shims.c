#define _GNU_SOURCE
#include <fcntl.h>
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "esteira_shims.h"

int esteira_start_writeback(int fd, long long offset, long long length) {
#ifdef __linux__
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

int esteira_limit_malloc_arenas(int arenas) {
#ifdef __GLIBC__
    return mallopt(M_ARENA_MAX, arenas);
#else
    (void)arenas;
    return 1;
#endif
}

int esteira_lower_thread_priority(int nice) {
#ifdef __linux__
    pid_t thread = gettid();
    errno = 0;
    int current = getpriority(PRIO_PROCESS, (id_t)thread);
    if (errno != 0) return -1;
    if (current >= nice) return 0;
    return setpriority(PRIO_PROCESS, (id_t)thread, nice);
#else
    (void)nice;
    return 0;
#endif
}
