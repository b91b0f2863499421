<?php
/*
 * Writes ../sentinel_arginfo.h for ../sentinel.stub.php in the exact format
 * of PHP 8.2's gen_stub.php, for machines without nikic/PHP-Parser (which
 * gen_stub.php needs and would otherwise download). It knows this stub's
 * shape only: namespaced functions with scalar/array/bool types and one
 * exception class with int constants (@cvalue). gen-arginfo.sh prefers the
 * real gen_stub.php whenever PHP-Parser is available; checkrel.sh checks the
 * stub hash either way.
 */
$dir = dirname(__DIR__);
$stub = file_get_contents("$dir/sentinel.stub.php");
$hash = sha1(str_replace("\r\n", "\n", $stub));

/* Functions: name => [required args, return type code, [[name, type, nullable, default]...]] */
preg_match_all('/^\s*function (\w+)\((.*)\): (\w+) \{\}/m', $stub, $fm, PREG_SET_ORDER);
$types = ['string' => 'IS_STRING', 'int' => 'IS_LONG', 'array' => 'IS_ARRAY', 'bool' => '_IS_BOOL'];
$code = "/* This is a generated file, edit the .stub.php file instead.\n * Stub hash: $hash */\n";
$funcs = [];
foreach ($fm as $i => $m) {
    [$all, $name, $params, $ret] = $m;
    $args = [];
    $required = 0;
    foreach (array_filter(array_map('trim', explode(',', $params))) as $p) {
        if (!preg_match('/^(\??)(\w+) \$(\w+)(?: = (\w+))?$/', $p, $pm)) {
            fwrite(STDERR, "unsupported parameter: $p\n");
            exit(1);
        }
        $args[] = [$pm[3], $types[$pm[2]], $pm[1] === '?' ? 1 : 0, $pm[4] ?? null];
        if (!isset($pm[4])) {
            $required++;
        }
    }
    $funcs[] = $name;
    $code .= "ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Sentinel_$name, 0, $required, {$types[$ret]}, 0)\n";
    foreach ($args as [$an, $at, $nullable, $def]) {
        $code .= $def === null
            ? "\tZEND_ARG_TYPE_INFO(0, $an, $at, $nullable)\n"
            : "\tZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, $an, $at, $nullable, \"$def\")\n";
    }
    $code .= "ZEND_END_ARG_INFO()\n" . ($i + 1 < count($fm) ? "\n" : "");
}
$code .= "\n\n";
foreach ($funcs as $f) {
    $code .= "ZEND_FUNCTION(Sentinel_$f);\n";
}
$code .= "\n\nstatic const zend_function_entry ext_functions[] = {\n";
foreach ($funcs as $f) {
    $code .= "\tZEND_NS_FALIAS(\"Sentinel\", $f, Sentinel_$f, arginfo_Sentinel_$f)\n";
}
$code .= "\tZEND_FE_END\n};\n\n\nstatic const zend_function_entry class_Sentinel_Exception_methods[] = {\n\tZEND_FE_END\n};\n";
$code .= "\nstatic zend_class_entry *register_class_Sentinel_Exception(zend_class_entry *class_entry_RuntimeException)\n{\n"
    . "\tzend_class_entry ce, *class_entry;\n\n"
    . "\tINIT_NS_CLASS_ENTRY(ce, \"Sentinel\", \"Exception\", class_Sentinel_Exception_methods);\n"
    . "\tclass_entry = zend_register_internal_class_ex(&ce, class_entry_RuntimeException);\n";
preg_match_all('/@cvalue (\w+)\s*\*\/\s*public const (\w+) = UNKNOWN;/', $stub, $cm, PREG_SET_ORDER);
foreach ($cm as [$all, $cvalue, $c]) {
    $code .= "\n\tzval const_{$c}_value;\n\tZVAL_LONG(&const_{$c}_value, $cvalue);\n"
        . "\tzend_string *const_{$c}_name = zend_string_init_interned(\"$c\", sizeof(\"$c\") - 1, 1);\n"
        . "\tzend_declare_class_constant_ex(class_entry, const_{$c}_name, &const_{$c}_value, ZEND_ACC_PUBLIC, NULL);\n"
        . "\tzend_string_release(const_{$c}_name);\n";
}
$code .= "\n\treturn class_entry;\n}\n";
file_put_contents("$dir/sentinel_arginfo.h", $code);
echo "wrote sentinel_arginfo.h (fallback generator, stub hash $hash)\n";
