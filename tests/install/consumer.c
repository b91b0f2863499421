/* A minimal consumer of the installed library (see check.sh): the core
 * API, and the header-only hiredis conveniences compiled against the
 * consumer's own hiredis. */
#include <stdio.h>
#include <string.h>

#include <sentinel/hiredis.h>
#include <sentinel/sentinel.h>

int main(void)
{
    redisContext *(*connect_fn)(sentinel_t *, int *) = sentinel_connect_master;
    int code = -1;
    sentinel_t *s = sentinel_new("mymaster", &code);
    redisReply readonly = {.type = REDIS_REPLY_ERROR, .str = "READONLY You can't write"};

    if (s == NULL || code != SENTINEL_OK ||
        strcmp(sentinel_version(), SENTINEL_VERSION_STRING) != 0)
        return 1;
    /* Not connected: the wrapper reports without touching the network. */
    if (connect_fn == NULL || sentinel_report(s, NULL, &readonly) != 1 ||
        sentinel_report(s, NULL, NULL) != 0)
        return 1;
    if (sentinel_new("", &code) != NULL || code != SENTINEL_ERR_INVALID_ARGUMENT)
        return 1;
    printf("libsentinel %s: %s\n", sentinel_version(),
           sentinel_strerror(SENTINEL_ERR_UNKNOWN_MASTER));
    sentinel_free(s);
    return 0;
}
