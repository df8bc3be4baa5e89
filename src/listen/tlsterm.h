/* listen/tlsterm.h -- finishing a bot's TLS handshake, so the request inside
 * can be logged.
 *
 * OpenSSL 3 over memory BIOs: the listener reads the socket itself (it has
 * already seen the ClientHello to sniff it and take its fingerprints),
 * feeds the ciphertext here, reads back plaintext, and sends whatever
 * ciphertext this module has queued. No socket, no blocking, no callbacks;
 * one struct tlsterm per connection, used by one thread at a time.
 *
 * The certificate is given as PEM files, or generated at start: two
 * self-signed certificates for the configured common name, valid from a
 * day before start for ten years, one with an EC P-256 key and one with
 * an RSA-2048 key for the oldest clients, which know RSA key exchange
 * only (no elliptic curves); OpenSSL picks the one that fits the
 * negotiated suite. Many bots do not check either. */
#ifndef SK_LISTEN_TLSTERM_H
#define SK_LISTEN_TLSTERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tlsterm_ctx;
struct tlsterm;

#define TLSTERM_CLOSED (-1) /* the client sent close_notify */
#define TLSTERM_ERROR  (-2) /* handshake or record error: close the connection */

/* A server context with cert_file (PEM, the certificate then its chain)
 * and key_file (PEM, unencrypted; NULL: the key is in cert_file too), or
 * with the two certificates generated for cn when both are NULL (cn: at
 * most 64 characters; a host name or address literal also goes into
 * subjectAltName; the RSA key takes 0.1 to 1 s to make, once per process:
 * every generated RSA certificate shares it).
 * TLS 1.0 to 1.3 are accepted, at security level 0 (bots are old); no
 * tickets, no session cache, no renegotiation.
 * Returns 0 and *out, or a negative code with a message naming the file
 * and OpenSSL's reason in err[0..errlen): SK_ERR(errno) when a file cannot
 * be read, SK_ERR(ENOMEM), or SK_EINVAL (bad PEM, key not matching the
 * certificate, bad cn). Read-only once made: worker threads share it.
 * Free it with tlsterm_ctx_free(); sessions keep it alive as needed. */
int tlsterm_ctx_new(const char *cert_file, const char *key_file, const char *cn,
                    struct tlsterm_ctx **out /* OUT */, char *err, size_t errlen);
void tlsterm_ctx_free(struct tlsterm_ctx *ctx);

/* One server-side session; NULL if out of memory. It allocates nothing
 * beyond OpenSSL's own session and its two memory buffers. Free it with
 * tlsterm_free() (NULL is fine). */
struct tlsterm *tlsterm_new(struct tlsterm_ctx *ctx);
void tlsterm_free(struct tlsterm *t);

/* Hand ciphertext read from the client to the session (copied). Returns
 * 0, or SK_ERR(ENOMEM). */
int tlsterm_feed(struct tlsterm *t, const uint8_t *p, size_t len);

/* Advance the handshake and read decrypted bytes into out[0..cap).
 * Returns the number of bytes (> 0), 0 if none are available yet (feed
 * more; there may be ciphertext to send first), TLSTERM_CLOSED or
 * TLSTERM_ERROR. Call it until it returns <= 0: a record may hold more
 * than cap bytes. Before the handshake is done it returns 0 or
 * TLSTERM_ERROR only; the call that completes it may already return the
 * first bytes. With cap 0 it only advances the handshake. After
 * TLSTERM_ERROR the session may have queued an alert for the client. */
ssize_t tlsterm_read(struct tlsterm *t, uint8_t *out, size_t cap);

/* Encrypt p[0..len) for the client; the records are queued at once (see
 * tlsterm_take_output). Only after the handshake is done: before, and
 * after a fatal error, returns TLSTERM_ERROR. Returns 0 otherwise. */
int tlsterm_write(struct tlsterm *t, const uint8_t *p, size_t len);

/* Queue a close_notify, once. Does nothing if the handshake is not done
 * or the session has failed. */
void tlsterm_shutdown(struct tlsterm *t);

/* Ciphertext waiting to be sent: copies up to cap bytes into out and
 * removes them from the session. Returns how many. */
size_t tlsterm_take_output(struct tlsterm *t, uint8_t *out, size_t cap);
size_t tlsterm_pending_output(const struct tlsterm *t);

/* Whether the handshake has completed and the session has not failed
 * since. */
bool tlsterm_handshake_done(const struct tlsterm *t);

/* After TLSTERM_ERROR: a short reason ("no shared cipher", "http
 * request", ...), the first the session failed for; a static string,
 * never NULL. A session that has returned TLSTERM_ERROR from any call
 * stays failed: every later read and write returns it again. */
const char *tlsterm_last_error(const struct tlsterm *t);

#endif
