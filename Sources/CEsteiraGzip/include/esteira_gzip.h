#ifndef ESTEIRA_GZIP_H
#define ESTEIRA_GZIP_H
#include <stddef.h>
#include <stdint.h>

/// The bound of a gzip stream of `n` bytes (zlib's deflateBound plus the gzip wrapper).
size_t esteira_gzip_bound(size_t n);

/// Compresses `n` bytes of `in` as one gzip stream (RFC 1952) into `out`, of `capacity` bytes,
/// at zlib's `level`. Returns the bytes written, or 0 on failure.
size_t esteira_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t capacity, int level);

/// Inflates one gzip (or zlib) stream of `n` bytes into `out`, which must hold all of it.
/// Returns the bytes written, or 0 on failure or when `out` is too small.
size_t esteira_gunzip(const uint8_t *in, size_t n, uint8_t *out, size_t capacity);

#endif
