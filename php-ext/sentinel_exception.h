/* Sentinel\Exception: getCode() is the libsentinel error code. */
#ifndef SENTINEL_EXCEPTION_H
#define SENTINEL_EXCEPTION_H

#include "php.h"

extern zend_class_entry *sn_php_exception_ce;

/* Called from MINIT with the class registered from the arginfo header. */
void sn_php_exception_set_ce(zend_class_entry *ce);
/* Throws Sentinel\Exception with the library's code and a message that
 * names the code, e.g. "UNKNOWN_MASTER: master 'x': ..." */
void sn_php_throw(int code, const char *detail);

#endif
