#!/bin/sh
# Release check (APCu's checkrel.sh habit): exit 1 unless
#   - package.xml lists every file of php-ext/ that the tarball needs
#     (everything git sees here except scripts/ and .gitignore, plus the
#     lib/ copy that scripts/sync-lib.sh makes) and nothing
#     that does not exist, each with a role;
#   - lib/ is an exact copy of libsentinel/ (scripts/sync-lib.sh --check);
#   - sentinel_arginfo.h was generated from the current sentinel.stub.php;
#   - package.xml's release version is PHP_SENTINEL_VERSION.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Files package.xml lists, with their roles.
php -r '
$x = simplexml_load_file("package.xml");
if ($x === false) { fwrite(STDERR, "package.xml is not valid XML\n"); exit(1); }
$walk = function ($dir, $prefix) use (&$walk) {
    foreach ($dir->children() as $c) {
        $name = (string)$c["name"];
        if ($c->getName() === "dir") {
            $walk($c, $name === "/" ? "" : $prefix . $name . "/");
        } elseif ($c->getName() === "file") {
            $role = (string)$c["role"];
            echo $prefix, $name, " ", $role === "" ? "-" : $role, "\n";
        }
    }
};
$walk($x->contents->dir, "");
' > "$tmp/listed" || exit 1
awk '$2 == "-" { print "checkrel: package.xml: " $1 " has no role"; bad = 1 } END { exit bad }' "$tmp/listed" || status=1
cut -d' ' -f1 "$tmp/listed" | LC_ALL=C sort > "$tmp/listed.names"

# Files that exist (git's view, so build artifacts in .gitignore are skipped).
if git -C "$here" rev-parse >/dev/null 2>&1; then
    # lib/ is a build artifact (ignored by git) that the tarball must ship.
    { git -C "$here" ls-files -co --exclude-standard . ; [ -d lib ] && find lib -type f; } \
        | grep -v '^scripts/' | grep -v -x -e '.gitignore' -e 'package.xml' \
        | LC_ALL=C sort -u > "$tmp/present"
else
    find . -type f ! -path './scripts/*' ! -name .gitignore ! -name package.xml | sed 's|^\./||' | LC_ALL=C sort > "$tmp/present"
fi

missing=$(comm -13 "$tmp/listed.names" "$tmp/present")
extra=$(comm -23 "$tmp/listed.names" "$tmp/present")
if [ -n "$missing" ]; then
    echo "checkrel: not in package.xml:"; echo "$missing" | sed 's/^/  /'; status=1
fi
if [ -n "$extra" ]; then
    echo "checkrel: in package.xml but missing:"; echo "$extra" | sed 's/^/  /'; status=1
fi

# Roles: tests are "test", docs "doc", everything else "src".
while read -r name role; do
    case $name in
    tests/*) want=test ;;
    *.md) want=doc ;;
    *) want=src ;;
    esac
    if [ "$role" != "$want" ]; then
        echo "checkrel: $name has role $role, expected $want"; status=1
    fi
done < "$tmp/listed"

# The bundled library matches libsentinel/ (skipped outside the repository).
if [ -d "$here/../libsentinel/src" ]; then
    sh "$here/scripts/sync-lib.sh" --check || status=1
fi

# The arginfo header belongs to this stub.
want=$(php -r 'echo sha1(str_replace("\r\n", "\n", file_get_contents("sentinel.stub.php")));')
have=$(sed -n 's/.*Stub hash: \([0-9a-f]*\).*/\1/p' sentinel_arginfo.h)
if [ "$want" != "$have" ]; then
    echo "checkrel: sentinel_arginfo.h is stale (run scripts/gen-arginfo.sh)"; status=1
fi

# One version everywhere.
v_h=$(sed -n 's/#define PHP_SENTINEL_VERSION "\(.*\)"/\1/p' php_sentinel.h)
v_x=$(php -r '$x = simplexml_load_file("package.xml"); echo $x->version->release;')
if [ "$v_h" != "$v_x" ]; then
    echo "checkrel: php_sentinel.h says $v_h, package.xml says $v_x"; status=1
fi

[ $status -eq 0 ] && echo "checkrel: OK ($(wc -l < "$tmp/listed") files in package.xml)"
exit $status
