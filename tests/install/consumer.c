/* A minimal consumer of the installed library (see check.sh). */
#include <stdio.h>
#include <string.h>

#include <sentinel/sentinel.h>

int main(void)
{
    sentinel_t *s = sentinel_new("mymaster");

    if (s == NULL || strcmp(sentinel_version(), SENTINEL_VERSION_STRING) != 0)
        return 1;
    printf("libsentinel %s: %s\n", sentinel_version(),
           sentinel_strerror(SENTINEL_ERR_UNKNOWN_MASTER));
    sentinel_free(s);
    return 0;
}
