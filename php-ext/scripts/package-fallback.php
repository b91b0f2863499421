<?php
/*
 * What `pecl package package.xml` does, for machines without PEAR
 * (scripts/package.sh calls it when `pecl` is missing): a gzipped tar with
 * package.xml at the top, each listed file under sentinel-VERSION/, and an
 * md5sum attribute on every <file> of the packaged package.xml, which
 * `pecl install` checks. Run in php-ext/ after scripts/sync-lib.sh.
 *
 *   php scripts/package-fallback.php     writes sentinel-VERSION.tgz, prints its name
 */
$xml = new DOMDocument();
$xml->preserveWhiteSpace = true;
if (!$xml->load('package.xml')) {
    fwrite(STDERR, "package-fallback: package.xml is not valid XML\n");
    exit(1);
}
$ns = 'http://pear.php.net/dtd/package-2.0';
$name = $xml->getElementsByTagNameNS($ns, 'name')->item(0)->textContent;
$version = $xml->getElementsByTagNameNS($ns, 'release')->item(0)->textContent;
$root = "$name-$version";
$files = [];

$walk = function (DOMElement $dir, string $prefix) use (&$walk, &$files) {
    foreach ($dir->childNodes as $c) {
        if (!$c instanceof DOMElement) {
            continue;
        }
        $n = $c->getAttribute('name');
        if ($c->localName === 'dir') {
            $walk($c, $n === '/' ? '' : $prefix . $n . '/');
        } elseif ($c->localName === 'file') {
            $path = $prefix . $n;
            if (!is_file($path)) {
                fwrite(STDERR, "package-fallback: $path is listed but missing\n");
                exit(1);
            }
            $c->setAttribute('md5sum', md5_file($path));
            $files[] = $path;
        }
    }
};
$contents = $xml->getElementsByTagNameNS($ns, 'contents')->item(0);
foreach ($contents->childNodes as $c) {
    if ($c instanceof DOMElement && $c->localName === 'dir') {
        $walk($c, '');
    }
}

$tar = sys_get_temp_dir() . "/$root-" . getmypid() . '.tar';
@unlink($tar);
@unlink("$tar.gz");
$phar = new PharData($tar);
$phar->addFromString('package.xml', $xml->saveXML());
foreach ($files as $f) {
    $phar->addFile($f, "$root/$f");
}
$phar->compress(Phar::GZ);
unset($phar);
if (!rename("$tar.gz", "$root.tgz")) {
    fwrite(STDERR, "package-fallback: cannot write $root.tgz\n");
    exit(1);
}
@unlink($tar);
echo "$root.tgz\n";
