/*
 * Loads a sentinel-proxy config file and frees the configuration: run by
 * test_config_secrets.sh under tests/php/secrets/free_scan.c (LD_PRELOAD),
 * which scans every block freed, libc's own included (fclose() frees the
 * stdio buffer), for the passwords in that file.
 *
 *   proxy_config_secrets FILE     prints "loaded" when the file was taken
 */
#include <stdio.h>

#include <sentinel/proxy.h>

int main(int argc, char **argv)
{
    sentinel_proxy_config_t *c;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    if ((c = sentinel_proxy_config_new()) == NULL)
        return 1;
    rc = sentinel_proxy_config_load(c, argv[1]);
    if (rc != SENTINEL_OK)
        fprintf(stderr, "%s\n", sentinel_proxy_config_errstr(c));
    else
        printf("loaded\n");
    sentinel_proxy_config_free(c);
    return rc == SENTINEL_OK ? 0 : 1;
}
