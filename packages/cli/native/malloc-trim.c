/*
 * mallocTrim(): glibc's malloc_trim(0), which hands the free pages between live heap chunks back
 * to the OS. After a bulk transfer the freed packet buffers sit between long-lived allocations,
 * where glibc's own trimming (top of the heap only) never reaches them (bench/README.md, Memory).
 * Elsewhere (macOS, musl) it does nothing and returns false.
 */
#include <stdlib.h>
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value MallocTrim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#if defined(__GLIBC__)
  released = malloc_trim(0);
#endif
  napi_value result;
  napi_get_boolean(env, released != 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "mallocTrim", NAPI_AUTO_LENGTH, MallocTrim, NULL, &fn);
  napi_set_named_property(env, exports, "mallocTrim", fn);
  return exports;
}
