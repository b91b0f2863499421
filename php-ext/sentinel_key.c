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

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
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
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    /* The last 0-7 bytes, with the length's low byte on top. */
    m = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < left; i++)
        m |= (uint64_t)p[i] << (8 * i);
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    h = v0 ^ v1 ^ v2 ^ v3;
    /* The state and the last block held the secret's bytes. */
    sn_key_wipe(&m, sizeof(m));
    sn_key_wipe(&v0, sizeof(v0));
    sn_key_wipe(&v1, sizeof(v1));
    sn_key_wipe(&v2, sizeof(v2));
    sn_key_wipe(&v3, sizeof(v3));
    return h;
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
