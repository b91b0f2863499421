/* Sentinel\Exception, registered from the stub's generated class entry. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "php.h"
#include "zend_exceptions.h"

#include "sentinel/sentinel.h"

#include "sentinel_exception.h"

zend_class_entry *sn_php_exception_ce;

void sn_php_exception_set_ce(zend_class_entry *ce)
{
    sn_php_exception_ce = ce;
}

void sn_php_throw(int code, const char *detail)
{
    const char *name = sentinel_code_name(code);

    /* "SENTINEL_ERR_TIMEOUT" -> "TIMEOUT", the Exception constant's name. */
    if (strncmp(name, "SENTINEL_ERR_", 13) == 0)
        name += 13;
    zend_throw_exception_ex(sn_php_exception_ce, code, "%s: %s", name,
                            (detail && *detail) ? detail : sentinel_strerror(code));
}
