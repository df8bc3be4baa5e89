/* core/err.c -- names for the error codes of core/err.h. */
#include "core/err.h"

#include <string.h>

const char *sk_strerror(int err)
{
    switch (err) {
    case SK_OK:
        return "success";
    case SK_EPROTO:
        return "malformed protocol data";
    case SK_EINVAL:
        return "invalid argument";
    case SK_ENOSPACE:
        return "no space in buffer";
    case SK_EFULL:
        return "queue full";
    case SK_ENOTFOUND:
        return "not found";
    case SK_EEXIST:
        return "already exists";
    case SK_ECONFIG:
        return "configuration error";
    case SK_ECORRUPT:
        return "corrupt data";
    }
    if (err < 0 && err > SK_EBASE)
        return strerror(-err);
    return "unknown error";
}
