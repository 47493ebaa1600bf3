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

/// A raw deflate (RFC 1951) inflater, as a ZIP entry of method 8 holds, fed and drained in
/// pieces. Opaque: only the functions below touch it.
typedef struct esteira_inflater esteira_inflater;

/// A new inflater, or NULL when memory runs out.
esteira_inflater *esteira_inflater_new(void);
void esteira_inflater_free(esteira_inflater *inflater);

/// Inflates from the `n` bytes of `in` into the `capacity` bytes of `out`, and says how many of
/// each it took (`*consumed`) and gave (`*produced`). Returns 1 when the stream has ended, 0 when
/// it has not (it wants more input, or more room), -1 when the bytes are not a deflate stream.
/// A return of 0 with nothing consumed and nothing produced means it wants more input.
int esteira_inflate(esteira_inflater *inflater, const uint8_t *in, size_t n, size_t *consumed,
                    uint8_t *out, size_t capacity, size_t *produced);

/// The CRC-32 (ISO 3309, as ZIP and gzip use) of `n` bytes, continuing from `crc` (0 to begin).
uint32_t esteira_crc32(uint32_t crc, const uint8_t *bytes, size_t n);

#endif
