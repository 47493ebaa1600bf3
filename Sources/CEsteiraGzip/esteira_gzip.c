#include "esteira_gzip.h"
#include <string.h>
#include <zlib.h>

size_t esteira_gzip_bound(size_t n) {
    return (size_t)compressBound((uLong)n) + 18 + 64;
}

size_t esteira_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t capacity, int level) {
    z_stream s;
    memset(&s, 0, sizeof s);
    /* 15 window bits, +16: a gzip header and trailer instead of zlib's. */
    if (deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)capacity;
    int rc = deflate(&s, Z_FINISH);
    size_t written = capacity - s.avail_out;
    deflateEnd(&s);
    return rc == Z_STREAM_END ? written : 0;
}

size_t esteira_gunzip(const uint8_t *in, size_t n, uint8_t *out, size_t capacity) {
    z_stream s;
    memset(&s, 0, sizeof s);
    /* 15 window bits, +32: the header tells gzip from zlib. */
    if (inflateInit2(&s, 15 + 32) != Z_OK) return 0;
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)capacity;
    int rc = inflate(&s, Z_FINISH);
    size_t written = capacity - s.avail_out;
    inflateEnd(&s);
    return rc == Z_STREAM_END ? written : 0;
}
