/* core/crc32c.h -- CRC-32C (Castagnoli), the checksum of evlog records.
 *
 * Uses the SSE4.2 instruction when the CPU has it, a table otherwise; both
 * give the same values (test vectors in tests/unit/core/test_crc32c.c). */
#ifndef SK_CORE_CRC32C_H
#define SK_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC of buf[0..len) continuing from crc (start with 0). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
