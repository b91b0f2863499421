/*
 * The error convention of the public API (sentinel.h): constructors say
 * why they failed through `int *code`; fallible calls return a
 * sentinel_code and keep the detail for the object's *_errstr(); "nothing
 * there" is SENTINEL_NO_ENTRY, not an error. Allocation failures come from
 * the linker's --wrap=calloc seam (tests/unit/CMakeLists.txt): with
 * `calloc_fail_at` = N, the Nth calloc() from then on returns NULL.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "sentinel/follow.h"
#include "sentinel/shared_cache.h"
#include "shared_cache_internal.h"
#include "scratch_dir.h"

static int calloc_fail_at; /* 0: off; N: the Nth calloc() from now fails */

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
    if (calloc_fail_at > 0 && --calloc_fail_at == 0) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

static sentinel_t *with_sentinel(void)
{
    int code = -1;
    sentinel_t *s = sentinel_new("mymaster", &code);

    assert_non_null(s);
    assert_int_equal(code, SENTINEL_OK);
    assert_int_equal(sentinel_add_sentinel(s, "127.0.0.1", 26379), SENTINEL_OK);
    return s;
}

/* ------------------------------------------------------------------------
 * Constructors
 * ------------------------------------------------------------------------ */

static void test_sentinel_new_reports_its_code(void **state)
{
    static const char *const bad[] = {NULL, "", "two words", "tab\there"};
    int code;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        code = -1;
        assert_null(sentinel_new(bad[i], &code));
        assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    }
    assert_null(sentinel_new(NULL, NULL)); /* code may be NULL */
    calloc_fail_at = 1;
    code = -1;
    assert_null(sentinel_new("mymaster", &code));
    assert_int_equal(code, SENTINEL_ERR_NO_MEMORY);
    assert_int_equal(calloc_fail_at, 0); /* the failure was used */
}

static void test_watch_new_reports_its_code(void **state)
{
    sentinel_t *empty = sentinel_new("mymaster", NULL), *s = with_sentinel();
    sentinel_watch_t *w;
    int code = -1;

    (void)state;
    assert_null(sentinel_watch_new(NULL, NULL, NULL, &code));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    code = -1;
    assert_null(sentinel_watch_new(empty, NULL, NULL, &code)); /* no sentinel */
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    calloc_fail_at = 1;
    code = -1;
    assert_null(sentinel_watch_new(s, NULL, NULL, &code));
    assert_int_equal(code, SENTINEL_ERR_NO_MEMORY);
    code = -1;
    w = sentinel_watch_new(s, NULL, NULL, &code);
    assert_non_null(w);
    assert_int_equal(code, SENTINEL_OK);
    sentinel_watch_free(w);
    sentinel_free(empty);
    sentinel_free(s);
}

static void test_follow_new_reports_its_code(void **state)
{
    sentinel_t *empty = sentinel_new("mymaster", NULL), *s = with_sentinel();
    sentinel_follow_t *f;
    int code = -1;

    (void)state;
    assert_null(sentinel_follow_new(NULL, &code));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    code = -1;
    assert_null(sentinel_follow_new(empty, &code));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    /* The follower's own allocation, then the next one (its watcher's). */
    for (int n = 1; n <= 2; n++) {
        calloc_fail_at = n;
        code = -1;
        assert_null(sentinel_follow_new(s, &code));
        assert_int_equal(code, SENTINEL_ERR_NO_MEMORY);
        assert_int_equal(calloc_fail_at, 0);
    }
    code = -1;
    f = sentinel_follow_new(s, &code);
    assert_non_null(f);
    assert_int_equal(code, SENTINEL_OK);
    sentinel_follow_free(f);
    sentinel_free(empty);
    sentinel_free(s);
}

static void test_shm_open_reports_its_code(void **state)
{
    fixture *fx = *state;
    char not_cache[160], why[128];
    sentinel_shm_t *shm;
    FILE *fp;
    int code = -1;

    assert_null(sentinel_shm_open(NULL, &code));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    code = -1;
    snprintf(not_cache, sizeof(not_cache), "%s/not-a-cache", fx->dir);
    fp = fopen(not_cache, "w");
    assert_non_null(fp);
    fputs("hello", fp);
    fclose(fp);
    chmod(not_cache, 0600);
    assert_null(sentinel_shm_open_ex(not_cache, NULL, &code, why, sizeof(why)));
    assert_int_equal(code, SENTINEL_ERR_PROTOCOL);
    assert_true(why[0] != '\0');
    calloc_fail_at = 1;
    code = -1;
    assert_null(sentinel_shm_open(fx->path, &code));
    assert_int_equal(code, SENTINEL_ERR_NO_MEMORY);
    code = -1;
    shm = sentinel_shm_open(fx->path, &code);
    assert_non_null(shm);
    assert_int_equal(code, SENTINEL_OK);
    sentinel_shm_close(shm);
    unlink(not_cache);
}

/* ------------------------------------------------------------------------
 * Returned codes
 * ------------------------------------------------------------------------ */

/* A setter's code is the handle's code, with a detail. */
static void test_setters_return_the_handle_code(void **state)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);
    char host[64];
    sentinel_stats st = {0};

    (void)state;
    assert_int_equal(sentinel_set_timeout(s, (sentinel_timeout)99, 10),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_true(sentinel_errstr(s)[0] != '\0');
    assert_int_equal(sentinel_set_quorum(s, 2), SENTINEL_OK);
    assert_int_equal(sentinel_set_verify(NULL, 1), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_get_sentinel(s, 0, host, sizeof(host), NULL),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_get_stats(s, &st), SENTINEL_ERR_INVALID_ARGUMENT); /* size 0 */
    st.size = sizeof(st);
    assert_int_equal(sentinel_get_stats(s, &st), SENTINEL_OK);
    sentinel_free(s);
}

static void test_report_error_takes_plain_values(void **state)
{
    sentinel_t *s = sentinel_new("mymaster", NULL);

    (void)state;
    assert_int_equal(sentinel_report_error(s, 0, NULL), 0);
    assert_int_equal(sentinel_report_error(s, 0, "ERR unknown command"), 0);
    assert_int_equal(sentinel_report_error(s, 0, "READONLY You can't write"), 1);
    assert_int_equal(sentinel_report_error(s, 0, "MASTERDOWN Link down"), 1);
    assert_int_equal(sentinel_report_error(s, 0, "LOADING Redis is loading"), 1);
    assert_int_equal(sentinel_report_error(s, 1, NULL), 1);
    assert_int_equal(sentinel_report_error(NULL, 1, "READONLY"), 0);
    sentinel_free(s);
}

static void test_connect_master_fd_codes(void **state)
{
    sentinel_t *s = with_sentinel();
    int fd = 7;

    (void)state;
    assert_int_equal(sentinel_connect_master_fd(NULL, &fd, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(fd, -1);
    assert_int_equal(sentinel_connect_master_fd(s, NULL, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_errcode(s), SENTINEL_ERR_INVALID_ARGUMENT);
    if (sentinel_tls_available()) {
        /* A plaintext socket cannot carry TLS: refused before any traffic. */
        s->cfg.tls[SENTINEL_TLS_DATA].enabled = 1;
        fd = 7;
        assert_int_equal(sentinel_connect_master_fd(s, &fd, NULL), SENTINEL_ERR_TLS);
        assert_int_equal(fd, -1);
        assert_true(sentinel_errstr(s)[0] != '\0');
        s->cfg.tls[SENTINEL_TLS_DATA].enabled = 0;
    }
    sentinel_free(s);
}

/* Nothing known yet is SENTINEL_NO_ENTRY, not an error. */
static void test_nothing_known_is_no_entry(void **state)
{
    sentinel_t *s = with_sentinel();
    sentinel_watch_t *w = sentinel_watch_new(s, NULL, NULL, NULL);
    sentinel_follow_t *f = sentinel_follow_new(s, NULL);
    sentinel_addr a;
    int adopted = -1;

    (void)state;
    assert_int_equal(sentinel_watch_current(w, &a), SENTINEL_NO_ENTRY);
    assert_int_equal(sentinel_watch_current(NULL, &a), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_watch_set_poll_interval(w, -1), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_follow_master(f, &a), SENTINEL_NO_ENTRY);
    assert_int_equal(sentinel_follow_set_timing(f, SENTINEL_FOLLOW_FENCE_MS, -1),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_follow_assume_master(f, NULL, &adopted),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(adopted, 0);
    assert_string_equal(sentinel_code_name(SENTINEL_NO_ENTRY), "SENTINEL_NO_ENTRY");
    sentinel_follow_free(f);
    sentinel_watch_free(w);
    sentinel_free(s);
}

/* The watcher and the follower group keep the detail of their last failed
 * call for their *_errstr(). */
static void test_watch_errstr_says_why(void **state)
{
    sentinel_t *s = with_sentinel();
    sentinel_watch_t *w = sentinel_watch_new(s, NULL, NULL, NULL);

    (void)state;
    assert_string_equal(sentinel_watch_errstr(w), "");
    assert_int_equal(sentinel_watch_set_poll_interval(w, 3600001), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_watch_errstr(w), "poll interval"));
    assert_non_null(strstr(sentinel_watch_errstr(w), "3600001"));
    assert_string_equal(sentinel_watch_errstr(NULL), "no watcher");
    sentinel_watch_free(w);
    sentinel_free(s);
}

static void test_follow_group_errstr_says_why(void **state)
{
    sentinel_t *s = with_sentinel(), *empty = sentinel_new("other", NULL);
    sentinel_follow_group_t *g = sentinel_follow_group_new(s, NULL);
    int code = -1;

    (void)state;
    assert_non_null(g);
    assert_string_equal(sentinel_follow_group_errstr(g), "");
    assert_int_equal(sentinel_follow_group_on_fd(g, -1, 0), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_follow_group_errstr(g), "not the group's"));
    assert_int_equal(sentinel_follow_group_on_fd(g, 1000, 0), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_follow_group_errstr(g), "fd 1000 is not the group's"));
    assert_null(sentinel_follow_new_in_group(g, empty, &code));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_follow_group_errstr(g), "no sentinel"));
    /* The reason is kept even when the caller passes no code. */
    calloc_fail_at = 1; /* the follower's own allocation */
    assert_null(sentinel_follow_new_in_group(g, s, NULL));
    assert_non_null(strstr(sentinel_follow_group_errstr(g), "out of memory"));
    assert_string_equal(sentinel_follow_group_errstr(NULL), "no group");
    sentinel_follow_group_free(g);
    sentinel_free(empty);
    sentinel_free(s);
}

static void test_shm_read_write_codes(void **state)
{
    fixture *fx = *state;
    sentinel_shm_t *one = sentinel_shm_open(fx->path, NULL), *two;
    sentinel_addr a = {"10.0.0.1", 6379, 1}, bad = {"", 6379, 0};
    sentinel_shm_entry e;
    uint64_t epoch = 0;
    int changed = -1;

    assert_non_null(one);
    two = sentinel_shm_open(fx->path, NULL);
    assert_non_null(two);
    memset(&e, 0xff, sizeof(e));
    assert_int_equal(sentinel_shm_read(one, &e), SENTINEL_NO_ENTRY); /* new file */
    assert_int_equal(e.generation, 0);                                /* zeroed */
    assert_int_equal(sentinel_shm_read(NULL, &e), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_read(one, NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_string_equal(sentinel_shm_errstr(one), "");

    assert_int_equal(sentinel_shm_write(one, &bad, 1000, 0, 100), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_true(sentinel_shm_errstr(one)[0] != '\0');
    assert_int_equal(sentinel_shm_write(one, &a, -1, 0, 100), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_write(NULL, &a, 1000, 0, 100), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_write(one, &a, 60000, 0, 100), SENTINEL_OK);
    assert_int_equal(sentinel_shm_read(two, &e), SENTINEL_OK);
    assert_string_equal(e.addr.host, "10.0.0.1");

    /* The writer lock kept by another open file: a timeout, with a detail. */
    assert_int_equal(sn_shm_writer_lock(one, 0), 0);
    assert_int_equal(sentinel_shm_write(two, &a, 60000, 0, 20), SENTINEL_ERR_TIMEOUT);
    assert_non_null(strstr(sentinel_shm_errstr(two), "lock"));
    assert_int_equal(sentinel_shm_invalidate(two, NULL, 0, 20, &changed), SENTINEL_ERR_TIMEOUT);
    assert_int_equal(changed, 0);
    assert_int_equal(sentinel_shm_note_failover(two, "10.0.0.1", 6379, 20, &changed, NULL),
                     SENTINEL_ERR_TIMEOUT);
    sn_shm_writer_unlock(one);

    /* The conditional updates: OK, with whether anything changed. */
    assert_int_equal(sentinel_shm_set_failover(two, "10.0.0.2", 6379, 1, 100, &changed),
                     SENTINEL_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(sentinel_shm_set_failover(two, "10.0.0.1", 6379, 1, 100, &changed),
                     SENTINEL_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(sentinel_shm_note_failover(two, "10.0.0.1", 6379, 100, &changed, &epoch),
                     SENTINEL_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(epoch, 1);
    assert_int_equal(sentinel_shm_note_failover(one, "10.0.0.1", 6379, 100, &changed, &epoch),
                     SENTINEL_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(sentinel_shm_invalidate(one, "10.0.0.1", 6379, 100, &changed), SENTINEL_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(sentinel_shm_read(two, &e), SENTINEL_NO_ENTRY);
    assert_int_equal(sentinel_shm_invalidate(one, "10.0.0.1", 6379, 100, NULL), SENTINEL_OK);
    assert_int_equal(sentinel_shm_heartbeat(NULL), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_shm_heartbeat(one), SENTINEL_OK);
    sentinel_shm_close(two);
    sentinel_shm_close(one);
}

static int setup(void **state)
{
    calloc_fail_at = 0;
    *state = scratch_new("sn-codes");
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    calloc_fail_at = 0;
    scratch_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sentinel_new_reports_its_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_new_reports_its_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_new_reports_its_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shm_open_reports_its_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setters_return_the_handle_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_error_takes_plain_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_master_fd_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_known_is_no_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shm_read_write_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_errstr_says_why, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_group_errstr_says_why, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
