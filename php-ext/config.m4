dnl config.m4 for the sentinel extension: PHP bindings for libsentinel.
dnl
dnl libsentinel is found, in this order:
dnl   --with-sentinel=DIR      an installed libsentinel under DIR
dnl   --with-sentinel          pkg-config libsentinel, then /usr/local and /usr
dnl   --with-sentinel=bundled  (or nothing usable found) the copy in lib/,
dnl                            compiled into the extension
dnl Only hiredis is needed from the system (pkg-config hiredis, or -lhiredis).
dnl TLS (sentinel.tls): the bundled copy is built with OpenSSL when
dnl pkg-config finds libssl and libcrypto (--without-sentinel-tls: never);
dnl without it the extension still builds and refuses sentinel.tls=on with
dnl Sentinel\Exception::TLS. An installed libsentinel brings its own choice.

PHP_ARG_WITH([sentinel],
  [for sentinel support],
  [AS_HELP_STRING([[--with-sentinel[=DIR]]],
    [Include sentinel support. DIR is the prefix of an installed libsentinel,
     or "bundled" to always build the copy in lib/])],
  [yes])

PHP_ARG_WITH([sentinel-tls],
  [whether to build the bundled libsentinel with TLS (OpenSSL)],
  [AS_HELP_STRING([--without-sentinel-tls],
    [Build the bundled libsentinel without TLS even when OpenSSL is found])],
  [yes], [no])

if test "$PHP_SENTINEL" != "no"; then
  SENTINEL_MIN_VERSION=0.1.0
  sentinel_src=PHP_EXT_SRCDIR(sentinel)
  sentinel_found=no
  SENTINEL_EXTRA_CFLAGS="-DZEND_ENABLE_STATIC_TSRMLS_CACHE=1"

  dnl ---- hiredis (the one system dependency) ---------------------------
  PKG_CHECK_MODULES([HIREDIS], [hiredis >= 0.14], [
    PHP_EVAL_INCLINE([$HIREDIS_CFLAGS])
    PHP_EVAL_LIBLINE([$HIREDIS_LIBS], SENTINEL_SHARED_LIBADD)
  ], [
    AC_MSG_CHECKING([for hiredis in default path])
    HIREDIS_DIR=
    for i in /usr/local /usr; do
      if test -r "$i/include/hiredis/hiredis.h"; then
        HIREDIS_DIR=$i
        break
      fi
    done
    if test -z "$HIREDIS_DIR"; then
      AC_MSG_RESULT([not found])
      AC_MSG_ERROR([hiredis not found: install libhiredis-dev (or hiredis-devel)])
    fi
    AC_MSG_RESULT([$HIREDIS_DIR])
    PHP_ADD_INCLUDE([$HIREDIS_DIR/include])
    PHP_ADD_LIBRARY_WITH_PATH(hiredis, [$HIREDIS_DIR/$PHP_LIBDIR], SENTINEL_SHARED_LIBADD)
  ])

  dnl ---- an installed libsentinel --------------------------------------
  if test "$PHP_SENTINEL" != "bundled"; then
    if test "$PHP_SENTINEL" = "yes"; then
      PKG_CHECK_MODULES([LIBSENTINEL], [libsentinel >= $SENTINEL_MIN_VERSION],
        [sentinel_found=pkgconfig], [sentinel_found=no])
      if test "$sentinel_found" = "no"; then
        AC_MSG_CHECKING([for libsentinel in default path])
        for i in /usr/local /usr; do
          if test -r "$i/include/sentinel/shared_cache.h"; then
            SENTINEL_DIR=$i
            sentinel_found=dir
            break
          fi
        done
        AC_MSG_RESULT([${SENTINEL_DIR:-not found}])
      fi
    else
      if test -r "$PHP_SENTINEL/include/sentinel/shared_cache.h"; then
        SENTINEL_DIR=$PHP_SENTINEL
        sentinel_found=dir
      else
        AC_MSG_ERROR([no libsentinel headers in $PHP_SENTINEL/include/sentinel])
      fi
    fi

    if test "$sentinel_found" = "pkgconfig"; then
      sentinel_check_libs="$LIBSENTINEL_LIBS"
    elif test "$sentinel_found" = "dir"; then
      sentinel_check_libs="-L$SENTINEL_DIR/$PHP_LIBDIR -lsentinel"
    fi

    dnl An older libsentinel without the shared cache is not enough.
    if test "$sentinel_found" != "no"; then
      old_LIBS=$LIBS
      LIBS="$sentinel_check_libs $HIREDIS_LIBS -lhiredis -lpthread $LIBS"
      AC_MSG_CHECKING([whether the installed libsentinel has sentinel_resolve_shared])
      AC_LINK_IFELSE([AC_LANG_CALL([], [sentinel_resolve_shared])],
        [AC_MSG_RESULT([yes])],
        [AC_MSG_RESULT([no, using the bundled copy]); sentinel_found=no])
      LIBS=$old_LIBS
    fi
  fi

  sentinel_sources="sentinel.c sentinel_ini.c sentinel_registry.c sentinel_key.c sentinel_keycopy.c sentinel_ready.c sentinel_shm.c sentinel_follow.c sentinel_resolve.c sentinel_fast.c sentinel_functions.c sentinel_exception.c"

  if test "$sentinel_found" = "pkgconfig"; then
    AC_MSG_NOTICE([using libsentinel from pkg-config])
    PHP_EVAL_INCLINE([$LIBSENTINEL_CFLAGS])
    PHP_EVAL_LIBLINE([$LIBSENTINEL_LIBS], SENTINEL_SHARED_LIBADD)
  elif test "$sentinel_found" = "dir"; then
    AC_MSG_NOTICE([using libsentinel from $SENTINEL_DIR])
    PHP_ADD_INCLUDE([$SENTINEL_DIR/include])
    PHP_ADD_LIBRARY_WITH_PATH(sentinel, [$SENTINEL_DIR/$PHP_LIBDIR], SENTINEL_SHARED_LIBADD)
  else
    dnl ---- the bundled copy ------------------------------------------------
    dnl In the source tree lib/ is not committed: copy it from ../libsentinel
    dnl (always, so it is never stale). A pecl tarball ships lib/ instead.
    if test -r "$sentinel_src/../libsentinel/include/sentinel/sentinel.h"; then
      AC_MSG_NOTICE([copying libsentinel sources from ../libsentinel into lib/])
      sh "$sentinel_src/scripts/sync-lib.sh" || AC_MSG_ERROR([scripts/sync-lib.sh failed])
    fi
    if test ! -r "$sentinel_src/lib/include/sentinel/sentinel.h"; then
      AC_MSG_ERROR([no libsentinel found and no bundled copy in $sentinel_src/lib (run scripts/sync-lib.sh)])
    fi
    AC_MSG_NOTICE([building the bundled libsentinel from lib/])
    sentinel_lib_sources=`cd "$sentinel_src" && echo lib/src/*.c`
    sentinel_sources="$sentinel_sources $sentinel_lib_sources"
    AC_DEFINE([SENTINEL_BUNDLED], [1], [libsentinel is compiled into the extension])
    dnl Static, hidden: the library's symbols stay inside sentinel.so.
    SENTINEL_EXTRA_CFLAGS="$SENTINEL_EXTRA_CFLAGS -DSENTINEL_STATIC -fvisibility=hidden"
    PHP_ADD_INCLUDE([$sentinel_src/lib/include])
    PHP_ADD_INCLUDE([$sentinel_src/lib/src])
    sentinel_bundled=yes

    dnl ---- TLS for the bundled copy (OpenSSL) ------------------------------
    AC_MSG_CHECKING([whether to build the bundled libsentinel with TLS])
    if test "$PHP_SENTINEL_TLS" = "no"; then
      AC_MSG_RESULT([no (--without-sentinel-tls)])
    else
      AC_MSG_RESULT([if OpenSSL is found])
      PKG_CHECK_MODULES([SENTINEL_OPENSSL], [libssl libcrypto], [
        PHP_EVAL_INCLINE([$SENTINEL_OPENSSL_CFLAGS])
        PHP_EVAL_LIBLINE([$SENTINEL_OPENSSL_LIBS], SENTINEL_SHARED_LIBADD)
        SENTINEL_EXTRA_CFLAGS="$SENTINEL_EXTRA_CFLAGS -DSENTINEL_HAVE_TLS=1"
        AC_MSG_NOTICE([TLS: on (OpenSSL from pkg-config)])
      ], [
        AC_MSG_NOTICE([TLS: not built (no libssl/libcrypto found by pkg-config; install libssl-dev)])
      ])
    fi
  fi

  PHP_ADD_LIBRARY(pthread, , SENTINEL_SHARED_LIBADD)
  PHP_NEW_EXTENSION(sentinel, $sentinel_sources, $ext_shared, , $SENTINEL_EXTRA_CFLAGS)
  if test "$sentinel_bundled" = "yes"; then
    PHP_ADD_BUILD_DIR([$ext_builddir/lib/src])
  fi
  PHP_SUBST(SENTINEL_SHARED_LIBADD)
fi
