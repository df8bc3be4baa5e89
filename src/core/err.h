/* core/err.h -- error codes shared by every module.
 *
 * Functions return 0 on success and a negative code on failure. System
 * errors are the negated errno (SK_ERR(errno) at the point of the call);
 * the project's own codes live below SK_EBASE so the two never collide.
 * sk_strerror() names either kind. */
#ifndef SK_CORE_ERR_H
#define SK_CORE_ERR_H

#define SK_OK     0
#define SK_ERR(e) (-(e))

#define SK_EBASE     (-10000)
#define SK_EPROTO    (SK_EBASE - 1) /* malformed protocol input */
#define SK_EINVAL    (SK_EBASE - 2) /* bad argument or value */
#define SK_ENOSPACE  (SK_EBASE - 3) /* output buffer too small */
#define SK_EFULL     (SK_EBASE - 4) /* queue full: item dropped */
#define SK_ENOTFOUND (SK_EBASE - 5)
#define SK_EEXIST    (SK_EBASE - 6) /* duplicate */
#define SK_ECONFIG   (SK_EBASE - 7) /* configuration error, already reported */
#define SK_ECORRUPT  (SK_EBASE - 8) /* corrupt stored data */

/* Returns a static string describing err (0, SK_E* or -errno). */
const char *sk_strerror(int err);

#endif
