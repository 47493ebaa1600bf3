#include "esteira_gzip.h"
#include <limits.h>
#include <stdlib.h>
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

struct esteira_inflater {
    z_stream stream;
};

esteira_inflater *esteira_inflater_new(void) {
    esteira_inflater *inflater = calloc(1, sizeof *inflater);
    if (inflater == NULL) return NULL;
    /* Negative window bits: raw deflate, with neither zlib's nor gzip's wrapper. */
    if (inflateInit2(&inflater->stream, -15) != Z_OK) {
        free(inflater);
        return NULL;
    }
    return inflater;
}

void esteira_inflater_free(esteira_inflater *inflater) {
    if (inflater == NULL) return;
    inflateEnd(&inflater->stream);
    free(inflater);
}

int esteira_inflate(esteira_inflater *inflater, const uint8_t *in, size_t n, size_t *consumed,
                    uint8_t *out, size_t capacity, size_t *produced) {
    z_stream *s = &inflater->stream;
    /* zlib counts in uInt: larger pieces are taken in part, which the counts report. */
    uInt inputs = n > UINT_MAX ? UINT_MAX : (uInt)n, room = capacity > UINT_MAX ? UINT_MAX : (uInt)capacity;
    s->next_in = (Bytef *)in;
    s->avail_in = inputs;
    s->next_out = out;
    s->avail_out = room;
    int rc = inflate(s, Z_NO_FLUSH);
    *consumed = inputs - s->avail_in;
    *produced = room - s->avail_out;
    if (rc == Z_STREAM_END) return 1;
    /* Z_BUF_ERROR is no progress for want of input or room: not an error of the data. */
    if (rc == Z_OK || rc == Z_BUF_ERROR) return 0;
    return -1;
}

uint32_t esteira_crc32(uint32_t crc, const uint8_t *bytes, size_t n) {
    uLong value = crc;
    while (n > 0) {
        uInt piece = n > UINT_MAX ? UINT_MAX : (uInt)n;
        value = crc32(value, bytes, piece);
        bytes += piece;
        n -= piece;
    }
    return (uint32_t)value;
}
