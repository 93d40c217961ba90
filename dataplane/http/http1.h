/**
 * @file
 * A strict, incremental, zero-copy HTTP/1.1 request parser (RFC 9112, RFC 9110), EAL-free.
 *
 * The parser is a byte-resumable state machine: the caller feeds it the bytes of a connection
 * in pieces of any size (one TCP segment at a time, or one byte at a time) and gets events
 * back. It never copies and never allocates: what it reports are positions in the byte stream
 * of the current message. Position 0 is the first byte fed after sl_http1_reset() (empty
 * lines before the request line, RFC 9112 2.2, count in it). The caller keeps the bytes from
 * sl_http1_keep_from() onwards and may release everything before it after each call.
 *
 * Events of sl_http1_feed():
 *   SL_HTTP1_MORE  every byte given was used; feed more.
 *   SL_HTTP1_HEAD  the request line and header section are complete and valid: p->req and the
 *                  header index describe them. The framing is decided (body kind, length).
 *   SL_HTTP1_BODY  *body is a run of body bytes (de-chunked) inside the input just given.
 *   SL_HTTP1_DONE  the message ended (its trailer section, if any, is in the index with
 *                  SL_HTTP1_HF_TRAILER). Bytes after it belong to the next request: call
 *                  sl_http1_reset() before feeding them (positions restart at 0).
 * Each call stops after one event; *used says how many input bytes it took (the event's
 * bytes included). An error returns -EBADMSG with p->status (the HTTP status to answer with)
 * and p->error (a static string naming the rule and its RFC section); the connection must
 * then be closed after that answer. Further calls keep returning the same error (taking no
 * bytes) until sl_http1_reset().
 *
 * When DONE comes: a message without a body (no Content-Length nor Transfer-Encoding, or
 * Content-Length: 0) ends right after its head, and one with a Content-Length body after its
 * last BODY: the call after that HEAD or BODY returns DONE with *used 0, whatever it is
 * given (len 0 included). A chunked message ends with the CRLF that closes its trailer
 * section: the call that reads it returns DONE, *used counting it. After DONE every call
 * returns DONE with *used 0 until sl_http1_reset(). A BODY always has len > 0.
 *
 * sl_http1_keep_from(): before the request line, the current position (empty lines need not
 * be kept); in the head, the start of the request line (p->req and the field index point
 * there); in the body, the current position; in the trailer section, its start (the trailer
 * fields point there); after HEAD and after DONE, the position just after the head or the
 * message. The bytes of the head stay in use as long as the caller reads p->req and the
 * fields: that is the caller's business.
 *
 * Strictness (each rule's section is cited at its check in http1.c; docs/http.md has the
 * table): CR LF line ends only (a bare LF or bare CR is 400), exactly one SP between the
 * parts of the request line, a method token of at most 32 bytes (400 beyond, not 501), a
 * request-target of visible ASCII without '#', origin-form or absolute-form
 * ("scheme://authority...") for any method, authority-form (uri-host ":" port) with CONNECT
 * and only there, asterisk-form ("*") with OPTIONS only; no obs-fold, no whitespace before
 * the first field line or before a field's colon, token field names, no NUL or other CTL in
 * values (HTAB allowed, obs-text allowed); exactly one Host in HTTP/1.1 and at most one in
 * HTTP/1.0, its value uri-host [ ":" port ] (RFC 3986 characters, a host before any port),
 * empty only with an origin-form target; Content-Length strict 1*DIGIT of at most 19 digits
 * (identical repeats allowed, lists/signs/hex/inner spaces/differing repeats 400);
 * Content-Length with Transfer-Encoding 400, Transfer-Encoding in HTTP/1.0 400, the codings
 * of all Transfer-Encoding lines one list: empty 400, final coding not chunked 400, chunked
 * twice or with parameters 400, other codings 501; CONNECT with content (Transfer-Encoding or
 * a Content-Length above 0) 400; an Expect other than 100-continue 417 (100-continue is
 * ignored in HTTP/1.0, RFC 9110 10.1.1); versions HTTP/1.0 and HTTP/1.1 (HTTP/1.2..1.9 are
 * taken as 1.1, RFC 9110 2.5; any other well-formed HTTP/D.D is 505; malformed versions 400);
 * chunk sizes 1*HEXDIG of at most 16 significant digits, chunk extensions to the grammar
 * (BWS ";" BWS name [ BWS "=" BWS token / quoted-string ]), CRLF after chunk data. Trailer
 * fields follow the field rules; their names are recognised (id) but they change nothing of
 * the framing, the Host index or the flags (RFC 9110 6.5.1).
 * Limits: head bytes (empty lines before the request line count in them) and field count
 * (431), request-target length (414), body bytes (413: a Content-Length over the limit fails
 * at HEAD time, a chunked body at the chunk-size that crosses it), a chunk line (400), and
 * positions being 32 bits, a message of 4 GiB of stream bytes or more (413).
 */
#ifndef SL_HTTP1_H
#define SL_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sl_http1_ev {
	SL_HTTP1_MORE = 0,
	SL_HTTP1_HEAD,
	SL_HTTP1_BODY,
	SL_HTTP1_DONE,
};

/** Well-known methods (RFC 9110 9.3 and PATCH); others are SL_HTTP1_M_OTHER (any token). */
enum sl_http1_method {
	SL_HTTP1_M_OTHER = 0,
	SL_HTTP1_M_GET,
	SL_HTTP1_M_HEAD,
	SL_HTTP1_M_POST,
	SL_HTTP1_M_PUT,
	SL_HTTP1_M_DELETE,
	SL_HTTP1_M_CONNECT,
	SL_HTTP1_M_OPTIONS,
	SL_HTTP1_M_TRACE,
	SL_HTTP1_M_PATCH,
};

/** RFC 9112 3.2 request-target forms. */
enum sl_http1_form {
	SL_HTTP1_F_ORIGIN = 0, /* "/path?query" */
	SL_HTTP1_F_ABSOLUTE,   /* "http://host/path" (any scheme "alpha *(alpha/digit/+-.)") */
	SL_HTTP1_F_AUTHORITY,  /* "host:port", only with CONNECT */
	SL_HTTP1_F_ASTERISK,   /* "*", only with OPTIONS */
};

/** Field names the parser recognises (case-insensitively) while it scans them. */
enum sl_http1_hid {
	SL_HTTP1_H_OTHER = 0,
	SL_HTTP1_H_HOST,
	SL_HTTP1_H_CONTENT_LENGTH,
	SL_HTTP1_H_TRANSFER_ENCODING,
	SL_HTTP1_H_CONNECTION,
	SL_HTTP1_H_EXPECT,
	SL_HTTP1_H_KEEP_ALIVE,
	SL_HTTP1_H_PROXY_CONNECTION,
	SL_HTTP1_H_TE,
	SL_HTTP1_H_UPGRADE,
	SL_HTTP1_H_TRAILER,
	SL_HTTP1_H_X_FORWARDED_FOR,
	SL_HTTP1_H_X_REQUEST_ID,
	SL_HTTP1_H_X_REQUEST_TIMEOUT,
	SL_HTTP1_H_X_COCAINE_SERVICE,
	SL_HTTP1_H_X_COCAINE_EVENT,
	SL_HTTP1_H_COUNT,
};

/** A run of bytes of the message stream: [off, off + len). */
struct sl_http1_span {
	uint32_t off;
	uint32_t len;
};

#define SL_HTTP1_HF_TRAILER 0x1 /* a field of the trailer section (RFC 9112 7.1.2) */

/** One field line. The value excludes leading and trailing whitespace (RFC 9112 5.1). */
struct sl_http1_hdr {
	uint32_t name_off;
	uint32_t val_off;
	uint32_t val_len;
	uint16_t name_len;
	uint8_t id;    /* enum sl_http1_hid */
	uint8_t flags; /* SL_HTTP1_HF_* */
};

enum sl_http1_body {
	SL_HTTP1_B_NONE = 0, /* no body (no Content-Length, no Transfer-Encoding, or CL 0) */
	SL_HTTP1_B_LENGTH,   /* Content-Length bytes */
	SL_HTTP1_B_CHUNKED,  /* chunked */
	SL_HTTP1_B_EOF,	     /* response: until the connection closes (sl_http1_resp_eof) */
};

/* Flags of struct sl_http1_req */
#define SL_HTTP1_R_KEEP_ALIVE 0x01	/* persistent after this message (RFC 9112 9.3) */
#define SL_HTTP1_R_CONN_CLOSE 0x02	/* Connection: close was sent */
#define SL_HTTP1_R_CONN_KEEPALIVE 0x04	/* Connection: keep-alive was sent */
#define SL_HTTP1_R_CONN_UPGRADE 0x08	/* Connection: upgrade was sent */
#define SL_HTTP1_R_CONN_OTHER 0x10	/* Connection names other fields (hop-by-hop too) */
#define SL_HTTP1_R_EXPECT_CONTINUE 0x20 /* Expect: 100-continue (RFC 9110 10.1.1) */
#define SL_HTTP1_R_TE_CODED 0x40	/* response: codings besides chunked (body still coded) */

/** What the head said, valid from SL_HTTP1_HEAD until reset. */
struct sl_http1_req {
	struct sl_http1_span method;
	struct sl_http1_span target;
	uint8_t method_id; /* enum sl_http1_method */
	uint8_t form;	   /* enum sl_http1_form */
	uint8_t minor;	   /* 0 or 1 (the version answered with; 1.2..1.9 become 1) */
	uint8_t body;	   /* enum sl_http1_body */
	uint32_t flags;	   /* SL_HTTP1_R_* */
	uint64_t content_length;
	int host;	   /* index of the Host field in hdrs, or -1 */
	uint32_t head_len; /* bytes of the head, from the request line to the empty line */
};

/** What a response head said (sl_http1_resp_init() parsers), valid from SL_HTTP1_HEAD until
 * reset. */
struct sl_http1_resp {
	struct sl_http1_span reason; /* the reason-phrase, possibly empty */
	uint16_t status;	     /* 100..599 (101 is an error) */
	uint8_t minor;		     /* 0 or 1 (1.2..1.9 become 1) */
	uint8_t body;		     /* enum sl_http1_body: NONE, LENGTH, CHUNKED or EOF */
	uint32_t flags;		     /* SL_HTTP1_R_*: KEEP_ALIVE, CONN_*, TE_CODED */
	uint64_t content_length;     /* with SL_HTTP1_B_LENGTH */
	uint32_t head_len;	     /* bytes of the head, from the status line to the empty line */
};

/** Limits; a zero field takes the default in brackets. */
struct sl_http1_limits {
	uint32_t head_bytes; /* request line + fields + final CRLF, and again for trailers
			      * [16384] -> 431 */
	uint32_t uri_bytes;  /* request-target [8192] -> 414 */
	uint16_t fields;     /* field lines, trailers included [100] -> 431 */
	uint64_t body_bytes; /* de-chunked body [16777216] -> 413 */
	uint32_t chunk_line; /* a chunk-size line with its extensions [4096] -> 400 */
};

/** A parser; one per connection. The caller provides the field index (`hdrs`, room for
 * limits.fields entries, kept across resets). */
struct sl_http1_parser {
	struct sl_http1_limits lim;
	struct sl_http1_hdr *hdrs;
	uint16_t n_hdrs;
	struct sl_http1_req req;   /* request parsers */
	struct sl_http1_resp resp; /* response parsers */
	int status;		   /* on error: 400, 413, 414, 417, 431, 501 or 505; 502 for a
				    * response parser, whatever the rule */
	const char *error;	   /* on error: the rule broken, e.g. "bare LF (RFC 9112 2.2)" */
	/* private state below: the implementation owns these fields */
	uint8_t mode;	    /* request or response parser (kept by reset) */
	uint8_t req_method; /* response parser: the request's method (kept by reset) */
	uint32_t pos;	    /* stream position of the next byte */
	uint32_t keep;	    /* sl_http1_keep_from() */
	uint32_t mark;	    /* start of the request-target, or of the chunk line */
	uint32_t sect;	    /* start of the section (head, trailers) head_bytes counts from */
	uint32_t vend;	    /* end of the field value so far, trailing whitespace excluded */
	uint32_t pf;	    /* private flags */
	uint64_t remain;    /* body or chunk bytes left */
	uint64_t body_seen; /* body bytes reported */
	uint64_t num;	    /* number being read: method bytes, Content-Length, chunk-size */
	uint32_t aux;	    /* name or token matcher, digit count, version digits */
	uint16_t st;	    /* state */
	uint16_t sub;	    /* sub-state of a field value, authority or chunk extension */
	uint8_t vk;	    /* what the current field value is parsed as */
};

/**
 * Set up a parser with `lim` (NULL: defaults) and a field index of `lim->fields` entries.
 * @return 0, or -EINVAL (hdrs NULL, or a limit out of range: head_bytes or uri_bytes over
 *         1 MiB, fields over 4096).
 */
int sl_http1_init(struct sl_http1_parser *p, const struct sl_http1_limits *lim,
		  struct sl_http1_hdr *hdrs);

/** Forget the current message (and an error); positions restart at 0 for the next byte fed.
 * The limits and the field index stay. */
void sl_http1_reset(struct sl_http1_parser *p);

/**
 * Feed bytes. @return an enum sl_http1_ev, or -EBADMSG (p->status, p->error set).
 * @param used  out: the input bytes taken (all of them for SL_HTTP1_MORE)
 * @param body  out, for SL_HTTP1_BODY: the body run, as a position in the message stream
 *              (it lies inside the input given to this call); not NULL
 * `in` may be NULL when len is 0.
 */
int sl_http1_feed(struct sl_http1_parser *p, const uint8_t *in, size_t len, size_t *used,
		  struct sl_http1_span *body);

/** The first position the caller must still keep (the head or trailer section being read,
 * or the current position). */
static inline uint32_t
sl_http1_keep_from(const struct sl_http1_parser *p)
{
	return p->keep;
}

/** True between SL_HTTP1_HEAD and SL_HTTP1_DONE. */
bool sl_http1_in_body(const struct sl_http1_parser *p);

/** True when nothing of a message was fed since the last reset (idle connection), empty
 * lines before a request line excepted (also half of one, its CR). False after an error. */
bool sl_http1_idle(const struct sl_http1_parser *p);

/*
 * The response parser (http1_resp.c): the same machine, events, spans, field index, limits
 * (but uri_bytes) and resumability, for the responses of an upstream (RFC 9112 4, 6.3).
 * Feed it with sl_http1_feed(); p->resp describes the status line and the framing, the
 * field index is p->hdrs as for requests, p->req is not used. Every error is -EBADMSG with
 * p->status 502 (what a proxy answers its client) and p->error naming the rule.
 *
 * A 1xx interim response (100 Continue, 103 Early Hints...) is a message of its own: HEAD,
 * then DONE; sl_http1_reset() and feed what follows (the final response, or another 1xx).
 * 101 Switching Protocols is an error (no upgrades). A close-delimited body
 * (SL_HTTP1_B_EOF: no Content-Length nor chunked) ends when the connection does: call
 * sl_http1_resp_eof(), which returns DONE. Such a response, and any HTTP/1.0 one without
 * keep-alive, is not SL_HTTP1_R_KEEP_ALIVE.
 */

/**
 * Set up a response parser, as sl_http1_init(). @return 0 or -EINVAL.
 */
int sl_http1_resp_init(struct sl_http1_parser *p, const struct sl_http1_limits *lim,
		       struct sl_http1_hdr *hdrs);

/** sl_http1_reset() for the response to a request of method `m` (HEAD: no body, RFC 9112
 * 6.3; CONNECT is refused: the parser does not tunnel). sl_http1_reset() keeps the method,
 * for the final response after a 1xx. */
void sl_http1_resp_reset(struct sl_http1_parser *p, enum sl_http1_method m);

/**
 * The upstream closed the connection (RFC 9112 6.3 rule 8, 8). @return SL_HTTP1_DONE when
 * that ends the message (a close-delimited body, or the message already ended), or
 * -EBADMSG (p->error: an incomplete message, or nothing received at all); an error is
 * sticky until reset.
 */
int sl_http1_resp_eof(struct sl_http1_parser *p);

/** The reason phrase of a status (RFC 9110 15), "" for unknown codes. */
const char *sl_http1_reason(int status);

/** The name of a method id, NULL for SL_HTTP1_M_OTHER. */
const char *sl_http1_method_name(enum sl_http1_method m);

#endif /* SL_HTTP1_H */
