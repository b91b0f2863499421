/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: f8117e703540aa7c5eb52841c1f24e9d3b0a699c */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Sentinel_resolve, 0, 0, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, master, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Sentinel_epoch, 0, 0, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, master, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Sentinel_invalidate, 0, 0, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, master, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, host, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, port, IS_LONG, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Sentinel_report_error, 0, 3, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO(0, host, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, port, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, error, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, master, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Sentinel_stats, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Sentinel_remember, 0, 1, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, settings, IS_ARRAY, 0)
	ZEND_ARG_TYPE_MASK(0, key, MAY_BE_ARRAY|MAY_BE_STRING|MAY_BE_NULL, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_Sentinel_resolve_remembered, 0, 1, MAY_BE_ARRAY|MAY_BE_FALSE)
	ZEND_ARG_TYPE_MASK(0, id, MAY_BE_ARRAY|MAY_BE_LONG|MAY_BE_STRING, NULL)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_Sentinel_epoch_remembered, 0, 1, MAY_BE_LONG|MAY_BE_FALSE)
	ZEND_ARG_TYPE_MASK(0, id, MAY_BE_ARRAY|MAY_BE_LONG|MAY_BE_STRING, NULL)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_Sentinel_cache_options_remembered, 0, 1, MAY_BE_ARRAY|MAY_BE_FALSE)
	ZEND_ARG_TYPE_INFO(0, options, IS_ARRAY, 0)
	ZEND_ARG_INFO_WITH_DEFAULT_VALUE(1, master, "null")
ZEND_END_ARG_INFO()


ZEND_FUNCTION(Sentinel_resolve);
ZEND_FUNCTION(Sentinel_epoch);
ZEND_FUNCTION(Sentinel_invalidate);
ZEND_FUNCTION(Sentinel_report_error);
ZEND_FUNCTION(Sentinel_stats);
ZEND_FUNCTION(Sentinel_remember);
ZEND_FUNCTION(Sentinel_resolve_remembered);
ZEND_FUNCTION(Sentinel_epoch_remembered);
ZEND_FUNCTION(Sentinel_cache_options_remembered);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("Sentinel", resolve, Sentinel_resolve, arginfo_Sentinel_resolve)
	ZEND_NS_FALIAS("Sentinel", epoch, Sentinel_epoch, arginfo_Sentinel_epoch)
	ZEND_NS_FALIAS("Sentinel", invalidate, Sentinel_invalidate, arginfo_Sentinel_invalidate)
	ZEND_NS_FALIAS("Sentinel", report_error, Sentinel_report_error, arginfo_Sentinel_report_error)
	ZEND_NS_FALIAS("Sentinel", stats, Sentinel_stats, arginfo_Sentinel_stats)
	ZEND_NS_FALIAS("Sentinel", remember, Sentinel_remember, arginfo_Sentinel_remember)
	ZEND_NS_FALIAS("Sentinel", resolve_remembered, Sentinel_resolve_remembered, arginfo_Sentinel_resolve_remembered)
	ZEND_NS_FALIAS("Sentinel", epoch_remembered, Sentinel_epoch_remembered, arginfo_Sentinel_epoch_remembered)
	ZEND_NS_FALIAS("Sentinel", cache_options_remembered, Sentinel_cache_options_remembered, arginfo_Sentinel_cache_options_remembered)
	ZEND_FE_END
};


static const zend_function_entry class_Sentinel_Exception_methods[] = {
	ZEND_FE_END
};

static zend_class_entry *register_class_Sentinel_Exception(zend_class_entry *class_entry_RuntimeException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Sentinel", "Exception", class_Sentinel_Exception_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_RuntimeException);

	zval const_INVALID_ARGUMENT_value;
	ZVAL_LONG(&const_INVALID_ARGUMENT_value, SENTINEL_ERR_INVALID_ARGUMENT);
	zend_string *const_INVALID_ARGUMENT_name = zend_string_init_interned("INVALID_ARGUMENT", sizeof("INVALID_ARGUMENT") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_INVALID_ARGUMENT_name, &const_INVALID_ARGUMENT_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_INVALID_ARGUMENT_name);

	zval const_NO_MEMORY_value;
	ZVAL_LONG(&const_NO_MEMORY_value, SENTINEL_ERR_NO_MEMORY);
	zend_string *const_NO_MEMORY_name = zend_string_init_interned("NO_MEMORY", sizeof("NO_MEMORY") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_NO_MEMORY_name, &const_NO_MEMORY_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_NO_MEMORY_name);

	zval const_NO_SENTINEL_REACHABLE_value;
	ZVAL_LONG(&const_NO_SENTINEL_REACHABLE_value, SENTINEL_ERR_NO_SENTINEL_REACHABLE);
	zend_string *const_NO_SENTINEL_REACHABLE_name = zend_string_init_interned("NO_SENTINEL_REACHABLE", sizeof("NO_SENTINEL_REACHABLE") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_NO_SENTINEL_REACHABLE_name, &const_NO_SENTINEL_REACHABLE_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_NO_SENTINEL_REACHABLE_name);

	zval const_UNKNOWN_MASTER_value;
	ZVAL_LONG(&const_UNKNOWN_MASTER_value, SENTINEL_ERR_UNKNOWN_MASTER);
	zend_string *const_UNKNOWN_MASTER_name = zend_string_init_interned("UNKNOWN_MASTER", sizeof("UNKNOWN_MASTER") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_UNKNOWN_MASTER_name, &const_UNKNOWN_MASTER_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_UNKNOWN_MASTER_name);

	zval const_AUTH_value;
	ZVAL_LONG(&const_AUTH_value, SENTINEL_ERR_AUTH);
	zend_string *const_AUTH_name = zend_string_init_interned("AUTH", sizeof("AUTH") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_AUTH_name, &const_AUTH_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_AUTH_name);

	zval const_NOT_MASTER_value;
	ZVAL_LONG(&const_NOT_MASTER_value, SENTINEL_ERR_NOT_MASTER);
	zend_string *const_NOT_MASTER_name = zend_string_init_interned("NOT_MASTER", sizeof("NOT_MASTER") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_NOT_MASTER_name, &const_NOT_MASTER_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_NOT_MASTER_name);

	zval const_TIMEOUT_value;
	ZVAL_LONG(&const_TIMEOUT_value, SENTINEL_ERR_TIMEOUT);
	zend_string *const_TIMEOUT_name = zend_string_init_interned("TIMEOUT", sizeof("TIMEOUT") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_TIMEOUT_name, &const_TIMEOUT_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_TIMEOUT_name);

	zval const_PROTOCOL_value;
	ZVAL_LONG(&const_PROTOCOL_value, SENTINEL_ERR_PROTOCOL);
	zend_string *const_PROTOCOL_name = zend_string_init_interned("PROTOCOL", sizeof("PROTOCOL") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_PROTOCOL_name, &const_PROTOCOL_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_PROTOCOL_name);

	zval const_HOST_UNRESOLVED_value;
	ZVAL_LONG(&const_HOST_UNRESOLVED_value, SENTINEL_ERR_HOST_UNRESOLVED);
	zend_string *const_HOST_UNRESOLVED_name = zend_string_init_interned("HOST_UNRESOLVED", sizeof("HOST_UNRESOLVED") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_HOST_UNRESOLVED_name, &const_HOST_UNRESOLVED_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_HOST_UNRESOLVED_name);

	zval const_MASTER_UNREACHABLE_value;
	ZVAL_LONG(&const_MASTER_UNREACHABLE_value, SENTINEL_ERR_MASTER_UNREACHABLE);
	zend_string *const_MASTER_UNREACHABLE_name = zend_string_init_interned("MASTER_UNREACHABLE", sizeof("MASTER_UNREACHABLE") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_MASTER_UNREACHABLE_name, &const_MASTER_UNREACHABLE_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_MASTER_UNREACHABLE_name);

	zval const_NO_QUORUM_value;
	ZVAL_LONG(&const_NO_QUORUM_value, SENTINEL_ERR_NO_QUORUM);
	zend_string *const_NO_QUORUM_name = zend_string_init_interned("NO_QUORUM", sizeof("NO_QUORUM") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_NO_QUORUM_name, &const_NO_QUORUM_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_NO_QUORUM_name);

	zval const_SYSTEM_value;
	ZVAL_LONG(&const_SYSTEM_value, SENTINEL_ERR_SYSTEM);
	zend_string *const_SYSTEM_name = zend_string_init_interned("SYSTEM", sizeof("SYSTEM") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_SYSTEM_name, &const_SYSTEM_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_SYSTEM_name);

	zval const_TLS_value;
	ZVAL_LONG(&const_TLS_value, SENTINEL_ERR_TLS);
	zend_string *const_TLS_name = zend_string_init_interned("TLS", sizeof("TLS") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_TLS_name, &const_TLS_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_TLS_name);

	return class_entry;
}
