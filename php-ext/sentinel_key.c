/*
 * Registry keys without secrets: SipHash-2-4, written from the paper
 * ("SipHash: a fast short-input PRF", Aumasson and Bernstein, 2012), and
 * the key layout sentinel_registry.c uses. See sentinel_key.h.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* explicit_bzero */
#endif
#include <string.h>

#include "sentinel_key.h"

void sn_key_wipe(void *p, size_t len)
{
#if defined(__GLIBC__) || defined(__FreeBSD__) || defined(__OpenBSD__)
    explicit_bzero(p, len);
#else
    volatile unsigned char *v = p;

    while (len--)
        *v++ = 0;
#endif
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                     \
    do {                                                                             \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                    \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                       \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                       \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                    \
    } while (0)

#define SIPROUND4                                                                    \
    do {                                                                             \
        SIPROUND;                                                                    \
        SIPROUND;                                                                    \
        SIPROUND;                                                                    \
        SIPROUND;                                                                    \
    } while (0)

/* One 8-byte word m into the state: the compression of every variant. */
#define SIPBLOCK(m)                                                                  \
    do {                                                                             \
        v3 ^= (m);                                                                   \
        SIPROUND;                                                                    \
        SIPROUND;                                                                    \
        v0 ^= (m);                                                                   \
    } while (0)

/* 8 bytes as a little-endian number: one load (the byte loop this replaced
 * cost as much as the SipHash rounds). */
static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint64_t sn_key_siphash(const unsigned char k[SN_KEY_SEED_LEN], const void *in, size_t len)
{
    const unsigned char *p = in;
    uint64_t k0 = load_le64(k), k1 = load_le64(k + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t m, h;
    size_t left = len;

    for (; left >= 8; left -= 8, p += 8) {
        m = load_le64(p);
        SIPBLOCK(m);
    }
    /* The last 0-7 bytes, with the length's low byte on top. */
    m = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < left; i++)
        m |= (uint64_t)p[i] << (8 * i);
    SIPBLOCK(m);
    v2 ^= 0xff;
    SIPROUND4;
    h = v0 ^ v1 ^ v2 ^ v3;
    /* The state and the last block held the secret's bytes. */
    sn_key_wipe(&m, sizeof(m));
    sn_key_wipe(&v0, sizeof(v0));
    sn_key_wipe(&v1, sizeof(v1));
    sn_key_wipe(&v2, sizeof(v2));
    sn_key_wipe(&v3, sizeof(v3));
    return h;
}

/* SipHash-2-4-128: the same rounds, v1 ^= 0xee at the start, two
 * finalizations (0xee then 0xdd); the reference vectors_sip128 hold. */
void sn_sip128_init(sn_sip128 *h, const unsigned char k[SN_KEY_SEED_LEN])
{
    uint64_t k0 = load_le64(k), k1 = load_le64(k + 8);

    h->v0 = k0 ^ 0x736f6d6570736575ULL;
    h->v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;
    h->v2 = k0 ^ 0x6c7967656e657261ULL;
    h->v3 = k1 ^ 0x7465646279746573ULL;
    h->fill = 0;
    h->total = 0;
}

void sn_sip128_update(sn_sip128 *h, const void *in, size_t len)
{
    const unsigned char *p = in;
    uint64_t v0 = h->v0, v1 = h->v1, v2 = h->v2, v3 = h->v3, m;

    h->total += len;
    if (h->fill > 0) {
        size_t n = 8 - h->fill < len ? 8 - h->fill : len;

        memcpy(h->buf + h->fill, p, n);
        h->fill += n;
        p += n;
        len -= n;
        if (h->fill < 8)
            return;
        m = load_le64(h->buf);
        SIPBLOCK(m);
        h->fill = 0;
    }
    for (; len >= 8; len -= 8, p += 8) {
        m = load_le64(p);
        SIPBLOCK(m);
    }
    memcpy(h->buf, p, len);
    h->fill = len;
    h->v0 = v0;
    h->v1 = v1;
    h->v2 = v2;
    h->v3 = v3;
    sn_key_wipe(&m, sizeof(m));
}

void sn_sip128_final(sn_sip128 *h, unsigned char out[16])
{
    uint64_t v0 = h->v0, v1 = h->v1, v2 = h->v2, v3 = h->v3, r[2];
    uint64_t m = (uint64_t)(h->total & 0xff) << 56;

    for (size_t i = 0; i < h->fill; i++)
        m |= (uint64_t)h->buf[i] << (8 * i);
    SIPBLOCK(m);
    v2 ^= 0xee;
    SIPROUND4;
    r[0] = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    SIPROUND4;
    r[1] = v0 ^ v1 ^ v2 ^ v3;
    for (int i = 0; i < 16; i++)
        out[i] = (unsigned char)(r[i / 8] >> (8 * (i % 8)));
    /* The state and the last block held the input's bytes. */
    sn_key_wipe(&m, sizeof(m));
    sn_key_wipe(h, sizeof(*h));
}

/* Appends n bytes at src to out at *len, as far as cap allows. */
static void put(char *out, size_t cap, size_t *len, const void *src, size_t n)
{
    if (*len < cap)
        memcpy(out + *len, src, n <= cap - *len ? n : cap - *len);
    *len += n;
}

size_t sn_key_build(char *out, size_t cap, const char *const *plain, size_t nplain,
                    const char *const *secret, size_t nsecret,
                    const unsigned char seed[SN_KEY_SEED_LEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;

    for (size_t i = 0; i < nplain; i++) {
        if (plain[i] != NULL)
            put(out, cap, &len, plain[i], strlen(plain[i]));
        put(out, cap, &len, "", 1);
    }
    for (size_t i = 0; i < nsecret; i++) {
        char digits[17];
        uint64_t h;

        if (secret[i] == NULL) {
            put(out, cap, &len, "-", 2);
            continue;
        }
        h = sn_key_siphash(seed, secret[i], strlen(secret[i]));
        for (int d = 15; d >= 0; d--, h >>= 4)
            digits[d] = hex[h & 0xf];
        digits[16] = '\0';
        put(out, cap, &len, digits, sizeof(digits));
    }
    return len;
}
