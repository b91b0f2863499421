/*
 * Unit tests of the proxy configuration (src/proxy/config.c): the key
 * table, strict validation, the config file, flags and their precedence.
 * No network.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy/proxy_int.h"

static sentinel_proxy_config_t *base(void)
{
    sentinel_proxy_config_t *c = sentinel_proxy_config_new();
    assert_non_null(c);
    return c;
}

static void test_defaults(void **state)
{
    sentinel_proxy_config_t *c = base();

    (void)state;
    assert_string_equal(c->listen_host, "127.0.0.1"); /* loopback unless told */
    assert_int_equal(c->listen_port, 6380);
    assert_int_equal(c->admin_port, -1);
    assert_int_equal(c->pause_ms, 5000);
    assert_int_equal(c->probe_ms, 20);
    assert_int_equal(c->buffer_size, 16384);
    /* No master, no sentinel: not runnable. */
    assert_int_equal(sentinel_proxy_config_check(c), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_proxy_config_errstr(c), "master"));
    sentinel_proxy_config_free(c);
}

static void test_values_refused(void **state)
{
    static const char *const bad[][2] = {
        {"max-clients", "abc"},      {"max-clients", "0"},     {"max-clients", "12 "},
        {"buffer-size", "100"},      {"buffer-size", "99999999999999"},
        {"pause-timeout", "-1"},     {"listen", "nonsense"},   {"listen", "host:70000"},
        {"admin", "1.2.3.4"},        {"sentinel", ""},         {"sentinel", "a:b"},
        {"master", "has space"},     {"log-level", "loud"},    {"watch", "maybe"},
        {"unix", "relative.sock"},   {"unix-mode", "999"},     {"shared-cache", "rel/path"},
        {"no-such-key", "1"},        {"sentinel-password", "a\nb"},
    };
    sentinel_proxy_config_t *c = base();

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sentinel_proxy_config_set(c, bad[i][0], bad[i][1]),
                         SENTINEL_ERR_INVALID_ARGUMENT);
        assert_true(strlen(sentinel_proxy_config_errstr(c)) > 0);
    }
    /* Oversized values are refused, never truncated. */
    {
        char big[700];
        memset(big, 'p', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(sentinel_proxy_config_set(c, "data-password", big),
                         SENTINEL_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(sentinel_proxy_config_errstr(c), "longer than"));
    }
    sentinel_proxy_config_free(c);
}

static void test_values_accepted(void **state)
{
    sentinel_proxy_config_t *c = base();

    (void)state;
    assert_int_equal(sentinel_proxy_config_set(c, "listen", "[::1]:7000"), 0);
    assert_string_equal(c->listen_host, "::1");
    assert_int_equal(c->listen_port, 7000);
    assert_int_equal(sentinel_proxy_config_set(c, "listen", "127.0.0.1:0"), 0);
    assert_int_equal(c->listen_port, 0);
    assert_int_equal(sentinel_proxy_config_set(c, "listen", "none"), 0);
    assert_int_equal(c->listen_port, -1);
    assert_int_equal(sentinel_proxy_config_set(c, "sentinel", "127.0.0.1:1,127.0.0.1:2"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "sentinel", "[::1]:3"), 0);
    assert_string_equal(c->sentinels, "127.0.0.1:1,127.0.0.1:2,[::1]:3");
    assert_int_equal(sentinel_proxy_config_set(c, "master", "mymaster"), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "log-level", "warn"), 0);
    assert_int_equal(c->log.level, SENTINEL_PROXY_LOG_WARN);
    assert_int_equal(sentinel_proxy_config_set(c, "unix", "/tmp/x.sock"), 0);
    /* No TCP listener is fine with a unix socket. */
    assert_int_equal(sentinel_proxy_config_check(c), 0);
    assert_int_equal(sentinel_proxy_config_set(c, "unix", "none"), 0);
    assert_int_equal(sentinel_proxy_config_check(c), SENTINEL_ERR_INVALID_ARGUMENT);
    /* Watch mode needs no listener but a shared cache. */
    assert_int_equal(sentinel_proxy_config_set(c, "watch", "yes"), 0);
    assert_int_equal(sentinel_proxy_config_check(c), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_proxy_config_set(c, "shared-cache", "auto"), 0);
    assert_int_equal(sentinel_proxy_config_check(c), 0);
    sentinel_proxy_config_free(c);
}

static char *write_file(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/proxy-config-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_file(void **state)
{
    sentinel_proxy_config_t *c = base();
    char *path;

    (void)state;
    path = write_file("# a comment\n\n  master   mymaster  \nsentinel 127.0.0.1:26379\n"
                      "data-password \"with space \"\nmax-clients 10\n");
    assert_int_equal(sentinel_proxy_config_load(c, path), 0);
    assert_string_equal(c->master, "mymaster");
    assert_string_equal(c->data_password, "with space ");
    assert_int_equal(c->max_clients, 10);
    unlink(path);

    path = write_file("master m\nmax-clients ten\n");
    assert_int_equal(sentinel_proxy_config_load(c, path), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_proxy_config_errstr(c), ":2: max-clients"));
    unlink(path);

    path = write_file("config /etc/other\n");
    assert_int_equal(sentinel_proxy_config_load(c, path), SENTINEL_ERR_INVALID_ARGUMENT);
    unlink(path);

    assert_int_equal(sentinel_proxy_config_load(c, "/nonexistent/x.conf"),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    sentinel_proxy_config_free(c);
}

static void test_args(void **state)
{
    sentinel_proxy_config_t *c = base();
    char *path = write_file("master frommfile\nsentinel 127.0.0.1:1\nmax-clients 5\n");
    char cfgarg[80];
    int asked = -1;
    char *argv[] = {"sentinel-proxy", "--max-clients=7", "--config", cfgarg,
                    "--sentinel", "127.0.0.1:9", "--watch", "--shared-cache", "auto", NULL};
    char *help[] = {"sentinel-proxy", "--master", "x", "--help", NULL};
    char *bad[] = {"sentinel-proxy", "--listen", NULL};
    char *stray[] = {"sentinel-proxy", "positional", NULL};

    (void)state;
    snprintf(cfgarg, sizeof(cfgarg), "%s", path);
    assert_int_equal(sentinel_proxy_config_set_env(c, "REDIS_PASSWORD", "from-env"),
                     0);
    assert_int_equal(sentinel_proxy_config_parse_args(c, 9, argv, NULL), SENTINEL_OK);
    assert_string_equal(c->master, "frommfile");      /* from the file */
    assert_int_equal(c->max_clients, 7);               /* a flag beats the file */
    assert_string_equal(c->sentinels, "127.0.0.1:9"); /* flags replace the file's list */
    assert_int_equal(c->watch, 1);
    assert_string_equal(c->data_password, "from-env");
    sentinel_proxy_config_free(c);
    unlink(path);

    c = base();
    assert_int_equal(sentinel_proxy_config_parse_args(c, 4, help, &asked), SENTINEL_OK);
    assert_int_equal(asked, SENTINEL_PROXY_ARGS_HELP);
    assert_int_equal(sentinel_proxy_config_parse_args(c, 2, bad, NULL),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_proxy_config_errstr(c), "needs a value"));
    assert_int_equal(sentinel_proxy_config_parse_args(c, 2, stray, NULL),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    sentinel_proxy_config_free(c);
    assert_non_null(strstr(sentinel_proxy_usage(), "--pause-timeout"));
}

static void test_new_refuses_bad_config(void **state)
{
    sentinel_proxy_config_t *c = base();
    int code = -1;

    (void)state;
    assert_null(sentinel_proxy_new(c, &code));
    assert_int_equal(code, SENTINEL_ERR_INVALID_ARGUMENT);
    assert_true(strlen(sentinel_proxy_config_errstr(c)) > 0);
    sentinel_proxy_config_free(c);
    sentinel_proxy_free(NULL);
    sentinel_proxy_config_free(NULL);
}

/* The embeddable library never reads the process environment (issue 10):
 * passwords from it are the program's to hand over, and then sit between
 * the file and the flags. */
static void test_environment_is_the_programs(void **state)
{
    sentinel_proxy_config_t *c = base();
    char *path = write_file("master m\nsentinel 127.0.0.1:1\nsentinel-password from-file\n"
                            "data-password from-file\n");
    char cfgarg[80];
    char *argv[] = {"sentinel-proxy", "--config", cfgarg, "--data-password", "from-flag", NULL};

    (void)state;
    snprintf(cfgarg, sizeof(cfgarg), "%s", path);
    setenv("SENTINEL_PASSWORD", "from-process-env", 1);
    setenv("REDIS_PASSWORD", "from-process-env", 1);
    assert_int_equal(sentinel_proxy_config_parse_args(c, 3, argv, NULL), SENTINEL_OK);
    assert_string_equal(c->sentinel_password, "from-file"); /* getenv() not called */
    assert_string_equal(c->data_password, "from-file");
    unsetenv("SENTINEL_PASSWORD");
    unsetenv("REDIS_PASSWORD");
    sentinel_proxy_config_free(c);

    c = base();
    assert_int_equal(sentinel_proxy_config_set_env(c, "SENTINEL_PASSWORD", "env"),
                     0);
    assert_int_equal(sentinel_proxy_config_set_env(c, "REDIS_PASSWORD", "env"), 0);
    assert_int_equal(sentinel_proxy_config_parse_args(c, 5, argv, NULL), SENTINEL_OK);
    assert_string_equal(c->sentinel_password, "env"); /* the environment beats the file */
    assert_string_equal(c->data_password, "from-flag"); /* a flag beats both */
    assert_int_equal(sentinel_proxy_config_set_env(c, "HOME", "x"), SENTINEL_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sentinel_proxy_config_errstr(c), "HOME"));
    assert_int_equal(sentinel_proxy_config_set_env(c, "REDIS_PASSWORD", "a\nb"),
                     SENTINEL_ERR_INVALID_ARGUMENT);
    assert_int_equal(sentinel_proxy_config_set_env(c, "REDIS_PASSWORD", NULL), 0);
    assert_null(c->env_data_password);
    sentinel_proxy_config_free(c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_values_refused),
        cmocka_unit_test(test_values_accepted), cmocka_unit_test(test_file),
        cmocka_unit_test(test_args),            cmocka_unit_test(test_new_refuses_bad_config),
        cmocka_unit_test(test_environment_is_the_programs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
