/*
 * The registry's keys without secrets (issue 13): the settings that name a
 * configuration in plain text, the passwords only as keyed hashes
 * (SipHash-2-4 under a random key of the process), so a core dump or a
 * debugger shows no password in the registry. Plain C with no PHP header,
 * so tests/php/key_check.sh compiles it alone against known answers.
 */
#ifndef SENTINEL_KEY_H
#define SENTINEL_KEY_H

#include <stddef.h>
#include <stdint.h>

#define SN_KEY_SEED_LEN 16

/* SipHash-2-4 of len bytes at in under the 16-byte key k (Aumasson and
 * Bernstein, 2012); the reference test vectors hold. */
uint64_t sn_key_siphash(const unsigned char k[SN_KEY_SEED_LEN], const void *in, size_t len);

/* SipHash-2-4 with a 128-bit answer, fed in pieces: init, update any
 * number of times, final (which writes the 16 bytes, h[0] first, as the
 * reference does, and wipes the state). */
typedef struct sn_sip128 {
    uint64_t v0, v1, v2, v3;
    unsigned char buf[8];
    size_t fill;  /* bytes in buf */
    uint64_t total; /* bytes fed */
} sn_sip128;

void sn_sip128_init(sn_sip128 *h, const unsigned char k[SN_KEY_SEED_LEN]);
void sn_sip128_update(sn_sip128 *h, const void *in, size_t len);
void sn_sip128_final(sn_sip128 *h, unsigned char out[16]);

/*
 * Writes a registry key into out (cap bytes): each of the nplain plain
 * fields followed by a NUL (NULL: just the NUL), then for each of the
 * nsecret secrets "-" when NULL, else 16 hex digits of its keyed hash,
 * each followed by a NUL. Returns the length of the key; when that is
 * more than cap, out holds only its start (call again with a bigger buffer).
 * Every temporary that held a secret's bytes is wiped before returning.
 */
size_t sn_key_build(char *out, size_t cap, const char *const *plain, size_t nplain,
                    const char *const *secret, size_t nsecret,
                    const unsigned char seed[SN_KEY_SEED_LEN]);

/* Zeroes len bytes at p in a way the compiler cannot drop (explicit_bzero). */
void sn_key_wipe(void *p, size_t len);

#endif
