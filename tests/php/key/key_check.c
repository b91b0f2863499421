/*
 * The registry key builder of php-ext (php-ext/sentinel_key.c), alone:
 * SipHash-2-4 gives the paper's answers, and a key built with passwords
 * holds neither password, yet tells different passwords apart (issue 13:
 * the registry key held both passwords in plain text for the worker's life).
 * Built and run by tests/php/key/run.sh; exits non-zero on a failure.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>

#include "sentinel_key.h"

static int failures;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                    \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static size_t build(char *out, size_t cap, const char *spw, const char *dpw,
                    const unsigned char *seed)
{
    const char *plain[] = {"mymaster", "127.0.0.1:26379,127.0.0.1:26380", "suser", "duser", "plain"};
    const char *secret[] = {spw, dpw};

    return sn_key_build(out, cap, plain, 5, secret, 2, seed);
}

int main(void)
{
    unsigned char k[SN_KEY_SEED_LEN], other[SN_KEY_SEED_LEN], msg[15];
    char a[512], b[512], c[512], small[8];
    size_t la, lb, lc;

    for (int i = 0; i < 16; i++) {
        k[i] = (unsigned char)i;
        other[i] = (unsigned char)(0xa0 + i);
    }
    for (int i = 0; i < 15; i++)
        msg[i] = (unsigned char)i;
    /* The paper's example (appendix A) and the reference vector for "". */
    CHECK(sn_key_siphash(k, msg, 15) == 0xa129ca6149be45e5ULL, "siphash of 00..0e");
    CHECK(sn_key_siphash(k, msg, 0) == 0x726fdb47dd0e0e31ULL, "siphash of the empty string");
    CHECK(sn_key_siphash(k, msg, 8) == 0x93f5f5799a932462ULL, "siphash of 00..07");

    /* SipHash-2-4-128: the reference vectors_sip128 for 0..3 bytes, and the
     * same answer however the input is cut into pieces. */
    {
        static const unsigned char want[4][16] = {
            {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93},
            {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45},
            {0x81, 0x77, 0x22, 0x8d, 0xa4, 0xa4, 0x5d, 0xc7, 0xfc, 0xa3, 0x8b, 0xde, 0xf6, 0x0a, 0xff, 0xe4},
            {0x9c, 0x70, 0xb6, 0x0c, 0x52, 0x67, 0xa9, 0x4e, 0x5f, 0x33, 0xb6, 0xb0, 0x29, 0x85, 0xed, 0x51},
        };
        unsigned char big[300], whole[16], cut[16];
        sn_sip128 h;

        for (size_t n = 0; n < 4; n++) {
            sn_sip128_init(&h, k);
            sn_sip128_update(&h, msg, n);
            sn_sip128_final(&h, whole);
            CHECK(memcmp(whole, want[n], 16) == 0, "siphash128 of %zu bytes", n);
        }
        for (size_t i = 0; i < sizeof(big); i++)
            big[i] = (unsigned char)(i * 7);
        sn_sip128_init(&h, k);
        sn_sip128_update(&h, big, sizeof(big));
        sn_sip128_final(&h, whole);
        for (size_t step = 1; step <= 13; step += 3) {
            sn_sip128_init(&h, k);
            for (size_t at = 0; at < sizeof(big); at += step)
                sn_sip128_update(&h, big + at, at + step <= sizeof(big) ? step : sizeof(big) - at);
            sn_sip128_final(&h, cut);
            CHECK(memcmp(whole, cut, 16) == 0, "siphash128 fed %zu bytes at a time", step);
        }
        big[299] ^= 1;
        sn_sip128_init(&h, k);
        sn_sip128_update(&h, big, sizeof(big));
        sn_sip128_final(&h, cut);
        CHECK(memcmp(whole, cut, 16) != 0, "siphash128: one bit changed, same answer");
    }

    la = build(a, sizeof(a), "s3cret-sentinel-pw", "s3cret-data-pw", k);
    CHECK(la < sizeof(a), "key length %zu", la);
    CHECK(memmem(a, la, "s3cret-sentinel-pw", 18) == NULL, "sentinel password in the key");
    CHECK(memmem(a, la, "s3cret-data-pw", 14) == NULL, "data password in the key");
    CHECK(memmem(a, la, "s3cret", 6) == NULL, "a part of a password in the key");
    CHECK(memmem(a, la, "mymaster", 8) != NULL && memmem(a, la, "suser", 5) != NULL,
          "the plain settings are in the key");

    /* The same settings give the same key; another password, or a password
     * moved from one role to the other, another key. */
    lb = build(b, sizeof(b), "s3cret-sentinel-pw", "s3cret-data-pw", k);
    CHECK(la == lb && memcmp(a, b, la) == 0, "same settings, same key");
    lb = build(b, sizeof(b), "s3cret-sentinel-pw", "s3cret-data-pX", k);
    CHECK(la != lb || memcmp(a, b, la) != 0, "another data password, same key");
    lb = build(b, sizeof(b), "s3cret-data-pw", "s3cret-sentinel-pw", k);
    CHECK(la != lb || memcmp(a, b, la) != 0, "passwords swapped, same key");
    lb = build(b, sizeof(b), NULL, "s3cret-data-pw", k);
    lc = build(c, sizeof(c), "", "s3cret-data-pw", k);
    CHECK(lb != lc || memcmp(b, c, lb) != 0, "no password and an empty one, same key");
    /* Another process (another seed): other hashes. */
    lb = build(b, sizeof(b), "s3cret-sentinel-pw", "s3cret-data-pw", other);
    CHECK(la == lb && memcmp(a, b, la) != 0, "the seed does not change the key");
    /* Too small a buffer: the length needed, and no overrun. */
    memset(small, 'Z', sizeof(small));
    CHECK(build(small, 4, "p", "q", k) == la && small[4] == 'Z',
          "short buffer");

    if (failures == 0)
        printf("key_check: all passed\n");
    return failures != 0;
}
