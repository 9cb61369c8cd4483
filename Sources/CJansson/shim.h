#ifndef OM_CJANSSON_SHIM_H
#define OM_CJANSSON_SHIM_H
#include <jansson.h>
/* json_incref/json_decref are inline in jansson.h; wrap them so Swift sees
 * plain functions whatever the header's inline style. */
static inline json_t *omj_incref(json_t *j) { return json_incref(j); }
static inline void omj_decref(json_t *j) { json_decref(j); }
static inline int omj_typeof(const json_t *j) { return (int)json_typeof(j); }
#endif
