/*
 * gai_gate: getaddrinfo() of the name "localhost" blocks while the file
 * named by $GAI_GATE exists (at most 60 s), standing for a slow or dead DNS
 * server. On blocking, it creates "$GAI_GATE.entered", so a test knows a
 * thread is inside the lookup. Other names, and every name without
 * $GAI_GATE, resolve at once, and so does a lookup with AI_NUMERICHOST
 * (a literal address only, which never asks a DNS server). Preloaded into
 * sentinel-proxy-dyn by test_proxy_dns.sh; never
 * built with the sanitizers. The library's own lookup thread
 * (name_lookup.c) calls getaddrinfo() through this symbol too.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    const char *gate = getenv("GAI_GATE");

    *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    if (real == NULL)
        return EAI_SYSTEM;
    if (gate != NULL && node != NULL && strcmp(node, "localhost") == 0 &&
        (hints == NULL || !(hints->ai_flags & AI_NUMERICHOST)) && access(gate, F_OK) == 0) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        char entered[4096];
        int fd;

        snprintf(entered, sizeof(entered), "%s.entered", gate);
        if ((fd = open(entered, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
            close(fd);
        for (int i = 0; i < 6000 && access(gate, F_OK) == 0; i++)
            nanosleep(&ts, NULL);
    }
    return real(node, service, hints, res);
}
