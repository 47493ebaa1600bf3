#ifndef ESTEIRA_SHIMS_H
#define ESTEIRA_SHIMS_H

/// Asks the kernel to start writing a file range to disk without waiting for it
/// (Linux sync_file_range with SYNC_FILE_RANGE_WRITE; a no-op elsewhere). Returns 0 or -1.
int esteira_start_writeback(int fd, long long offset, long long length);

/// Caps glibc's malloc arenas (mallopt M_ARENA_MAX); a no-op elsewhere. Returns 1 on success.
int esteira_limit_malloc_arenas(int arenas);

/// Lowers the calling thread's scheduling priority to at least `nice` (Linux: setpriority on the
/// thread's id, which affects that thread alone; any process may lower its own threads). A thread
/// already at that nice value or lower priority is left as it is; a no-op elsewhere. Returns 0 or -1.
int esteira_lower_thread_priority(int nice);

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program with its own `main` (esteira-fuzz, whose `main` SwiftPM
/// names itself). Only declared here: it exists in a binary linked with -sanitize=fuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
