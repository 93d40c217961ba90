/*
 * dataplane/http/http1-int.h: what the request parser (http1.c) and the response parser
 * (http1_resp.c) share inside the library: private flags, error strings, byte classes and
 * the hooks the shared state machine calls for a response. Not an interface.
 */
#ifndef SL_HTTP1_INT_H
#define SL_HTTP1_INT_H

#include <stddef.h>
#include <stdint.h>

#include "http1.h"

/* States of the machine (p->st). The field states serve the trailer section too. */
enum {
	ST_LEAD = 0,	 /* before the request line: empty lines (RFC 9112 2.2) */
	ST_LEAD_LF,	 /* CR of an empty line seen */
	ST_METHOD,	 /* in the method */
	ST_TARGET0,	 /* first byte of the request-target */
	ST_TARGET,	 /* in an origin-form or absolute-form target */
	ST_STAR,	 /* after "*" */
	ST_SCHEME,	 /* in the scheme of an absolute-form */
	ST_SLASH1,	 /* after "scheme:" */
	ST_SLASH2,	 /* after "scheme:/" */
	ST_AUTH0,	 /* after "scheme://" */
	ST_CONNECT,	 /* in an authority-form target (p->sub: host machine) */
	ST_VERSION,	 /* in HTTP-version (p->sub: bytes read) */
	ST_STATUS,	 /* response: in the status line (p->sub: sl_http1_resp_line) */
	ST_FIELD_FIRST,	 /* start of the first field line of a section */
	ST_FIELD,	 /* start of a field line */
	ST_NAME,	 /* in a field name (p->aux: name matcher) */
	ST_OWS,		 /* after the colon */
	ST_VALUE,	 /* in a field value */
	ST_VAL_LF,	 /* CR after a field value seen */
	ST_END_LF,	 /* CR of the empty line ending a section seen */
	ST_BODY_LEN,	 /* Content-Length body */
	ST_CHUNK_SIZE0,	 /* first byte of a chunk-size */
	ST_CHUNK_SIZE,	 /* in a chunk-size (p->num, p->aux: significant digits) */
	ST_CHUNK_EXT,	 /* after a chunk-size (p->sub: extension machine) */
	ST_CHUNK_LF,	 /* CR of a chunk line seen */
	ST_CHUNK_DATA,	 /* in chunk data */
	ST_CHUNK_DCR,	 /* after chunk data: CR expected */
	ST_CHUNK_DLF,	 /* after chunk data and CR: LF expected */
	ST_BODY_EOF,	 /* response: close-delimited body */
	ST_DONE_PENDING, /* the body ended: the next call returns DONE */
	ST_DONE,	 /* DONE returned: nothing more until reset */
};

/* Private flags (p->pf). */
#define PF_HOST 0x0001	     /* a Host field line was seen */
#define PF_HOST_EMPTY 0x0002 /* its value is empty */
#define PF_CL 0x0004	     /* a Content-Length was seen (p->req.content_length) */
#define PF_TE 0x0008	     /* a Transfer-Encoding field line was seen */
#define PF_TE_ANY 0x0010     /* ... with at least one coding */
#define PF_TE_CHUNKED 0x0020 /* chunked was listed */
#define PF_TE_TWICE 0x0040   /* chunked was listed twice */
#define PF_TE_LAST 0x0080    /* the last coding so far is chunked */
#define PF_TE_OTHER 0x0100   /* another coding was listed */
#define PF_EXPECT_BAD 0x0200 /* an expectation other than 100-continue */
#define PF_PARAMS 0x0400     /* the current list element has parameters */
#define PF_TRAILER 0x0800    /* in the trailer section */
#define PF_BODY 0x1000	     /* between HEAD and DONE */

/* Error strings: the rule and its section. */
#define E_BARE_LF "bare LF (RFC 9112 2.2)"
#define E_BARE_CR "bare CR (RFC 9112 2.2)"
#define E_LEAD "request line does not start with a method token (RFC 9112 3)"
#define E_METHOD "method is not a token (RFC 9110 9.1)"
#define E_METHOD_LONG "method longer than 32 bytes (RFC 9112 3)"
#define E_SP "request line parts not separated by exactly one SP (RFC 9112 3)"
#define E_TARGET "invalid byte in request-target (RFC 9112 3.2)"
#define E_FRAGMENT "fragment in request-target (RFC 9112 3.2)"
#define E_FORM "request-target is neither origin-form nor absolute-form (RFC 9112 3.2)"
#define E_STAR "asterisk-form only with OPTIONS (RFC 9112 3.2.4)"
#define E_STAR_ONLY "asterisk-form is a lone \"*\" (RFC 9112 3.2.4)"
#define E_CONNECT "CONNECT needs an authority-form uri-host:port (RFC 9112 3.2.3)"
#define E_AUTHORITY "absolute-form with an empty authority (RFC 9112 3.2.2, RFC 9110 4.2.1)"
#define E_URI_LONG "request-target longer than the limit (RFC 9112 3)"
#define E_VERSION "malformed HTTP-version (RFC 9112 2.3)"
#define E_VERSION_505 "HTTP major version not supported (RFC 9112 2.3, RFC 9110 15.6.6)"
#define E_HEAD_BIG "header section larger than the limit (RFC 9110 5.4)"
#define E_TRAILER_BIG "trailer section larger than the limit (RFC 9110 5.4)"
#define E_FIELDS "more field lines than the limit (RFC 9110 5.4)"
#define E_NAME_LONG "field name longer than 65535 bytes (RFC 9110 5.4)"
#define E_WS_FIRST "whitespace before the first field line (RFC 9112 2.2)"
#define E_OBS_FOLD "obsolete line folding (RFC 9112 5.2)"
#define E_NAME "field name is not a token (RFC 9110 5.1)"
#define E_NAME_EMPTY "empty field name (RFC 9110 5.1)"
#define E_NAME_WS "whitespace between field name and colon (RFC 9112 5.1)"
#define E_NO_COLON "field line without a colon (RFC 9112 5)"
#define E_VALUE_NUL "NUL in a field value (RFC 9110 5.5)"
#define E_VALUE_CTL "control character in a field value (RFC 9110 5.5)"
#define E_HOST_MISSING "HTTP/1.1 request without Host (RFC 9112 3.2)"
#define E_HOST_TWICE "more than one Host field line (RFC 9112 3.2)"
#define E_HOST_BAD "Host is not uri-host [ \":\" port ] (RFC 9112 3.2, RFC 3986 3.2.2)"
#define E_HOST_EMPTY "empty Host with a target that has an authority (RFC 9110 7.2)"
#define E_CL "Content-Length is not 1*DIGIT (RFC 9110 8.6)"
#define E_CL_BIG "Content-Length longer than 19 digits (RFC 9110 8.6)"
#define E_CL_DIFF "differing Content-Length values (RFC 9112 6.3)"
#define E_CL_LIMIT "Content-Length over the body limit (RFC 9110 15.5.14)"
#define E_TE_CL "Transfer-Encoding with Content-Length (RFC 9112 6.1)"
#define E_CONNECT_BODY "CONNECT with content (RFC 9110 9.3.6)"
#define E_TE_10 "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1)"
#define E_TE_SYNTAX "malformed Transfer-Encoding list (RFC 9112 6.1)"
#define E_TE_EMPTY "empty Transfer-Encoding (RFC 9112 6.1)"
#define E_TE_FINAL "final transfer coding is not chunked (RFC 9112 6.3)"
#define E_TE_TWICE "chunked applied more than once (RFC 9112 6.1)"
#define E_TE_PARAMS "chunked with parameters (RFC 9112 7.1)"
#define E_TE_UNKNOWN "transfer coding not implemented (RFC 9112 6.1)"
#define E_CONN "Connection is not a list of tokens (RFC 9110 7.6.1)"
#define E_EXPECT "unsupported expectation (RFC 9110 10.1.1)"
#define E_CHUNK_SIZE "chunk-size is not 1*HEXDIG (RFC 9112 7.1)"
#define E_CHUNK_BIG "chunk-size overflow (RFC 9112 7.1)"
#define E_CHUNK_LIMIT "chunked body over the body limit (RFC 9110 15.5.14)"
#define E_CHUNK_EXT "malformed chunk extension (RFC 9112 7.1.1)"
#define E_CHUNK_WS "whitespace not followed by ';' in a chunk line (RFC 9112 7.1.1)"
#define E_CHUNK_LINE "chunk line longer than the limit (RFC 9112 7.1.1)"
#define E_CHUNK_CRLF "chunk data not followed by CRLF (RFC 9112 7.1)"
#define E_EOF_LIMIT "close-delimited body over the body limit (RFC 9110 15.5.14)"
#define E_STATUS_LINE "status line does not start with HTTP-version (RFC 9112 4)"
#define E_STATUS_SP "status line parts not separated by exactly one SP (RFC 9112 4)"
#define E_STATUS_CODE "status-code is not 3DIGIT (RFC 9112 4)"
#define E_STATUS_RANGE "status-code outside 100..599 (RFC 9110 15)"
#define E_STATUS_101 "101 Switching Protocols: no upgrade was asked for (RFC 9110 15.2.2)"
#define E_REASON "control character in the reason-phrase (RFC 9112 4)"
#define E_VERSION_MAJOR "response HTTP major version is not 1 (RFC 9112 2.3)"
#define E_CONNECT_2XX "2xx response to CONNECT: tunnels are not supported (RFC 9112 6.3)"
#define E_RESP_TE_CL "Transfer-Encoding with Content-Length in a response (RFC 9112 6.3)"
#define E_RESP_TE_10 "Transfer-Encoding in an HTTP/1.0 response (RFC 9112 6.1)"
#define E_EOF_NONE "connection closed before a response (RFC 9112 8)"
#define E_EOF_SHORT "connection closed inside a response (RFC 9112 8)"
#define E_TOO_LONG "message longer than 4 GiB of stream positions (RFC 9110 15.5.14)"

/* Character classes, one 256-entry table computed at compile time. */
#define C_TCHAR 0x001  /* tchar (RFC 9110 5.6.2) */
#define C_VAL 0x002    /* field-vchar, SP, HTAB (RFC 9110 5.5) */
#define C_URI 0x004    /* request-target byte: 0x21-0x7E but '#' */
#define C_HOST 0x008   /* unreserved / sub-delims (RFC 3986 2.2, 2.3) */
#define C_HEX 0x010    /* HEXDIG */
#define C_DIGIT 0x020  /* DIGIT */
#define C_SCHEME 0x040 /* ALPHA / DIGIT / "+" / "-" / "." (RFC 3986 3.1) */
#define C_QD 0x080     /* qdtext (RFC 9110 5.6.4) */
#define C_ALPHA 0x100  /* ALPHA */
#define C_WS 0x200     /* SP, HTAB */

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define IS_TCHAR(c)                                                                                \
	(IS_DIGIT(c) || IS_ALPHA(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' ||     \
	 (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' ||      \
	 (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
#define IS_VAL(c) (((c) >= 0x20 && (c) != 0x7f) || (c) == '\t')
#define IS_URI(c) ((c) > 0x20 && (c) < 0x7f && (c) != '#')
#define IS_SUBDELIM(c)                                                                             \
	((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' ||      \
	 (c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=')
#define IS_HOST(c)                                                                                 \
	(IS_DIGIT(c) || IS_ALPHA(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' ||     \
	 IS_SUBDELIM(c))
#define IS_HEX(c) (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define IS_SCHEME(c) (IS_DIGIT(c) || IS_ALPHA(c) || (c) == '+' || (c) == '-' || (c) == '.')
#define IS_QD(c)                                                                                   \
	((c) == '\t' || (c) == ' ' || (c) == 0x21 || ((c) >= 0x23 && (c) <= 0x5b) ||               \
	 ((c) >= 0x5d && (c) <= 0x7e) || (c) >= 0x80)
#define CLS(c)                                                                                     \
	(uint16_t)((IS_TCHAR(c) ? C_TCHAR : 0) | (IS_VAL(c) ? C_VAL : 0) |                         \
		   (IS_URI(c) ? C_URI : 0) | (IS_HOST(c) ? C_HOST : 0) | (IS_HEX(c) ? C_HEX : 0) | \
		   (IS_DIGIT(c) ? C_DIGIT : 0) | (IS_SCHEME(c) ? C_SCHEME : 0) |                   \
		   (IS_QD(c) ? C_QD : 0) | (IS_ALPHA(c) ? C_ALPHA : 0) |                           \
		   ((c) == ' ' || (c) == '\t' ? C_WS : 0))
#define CLS4(c) CLS(c), CLS((c) + 1), CLS((c) + 2), CLS((c) + 3)
#define CLS16(c) CLS4(c), CLS4((c) + 4), CLS4((c) + 8), CLS4((c) + 12)
#define CLS64(c) CLS16(c), CLS16((c) + 16), CLS16((c) + 32), CLS16((c) + 48)
#define IS_WS(c) ((c) == ' ' || (c) == '\t')

/* Parser modes (p->mode). */
enum { SL_HTTP1_MODE_REQ = 0, SL_HTTP1_MODE_RESP };

/*
 * Response hooks of the shared machine (http1_resp.c).
 * sl_http1_resp_line(): the status-line bytes b[*i, end), b[0] at stream position base
 * (p->sub: the machine's state);
 * advances *i; returns NULL with *done set when the line's LF was taken, NULL with *done
 * clear when it needs more, or the rule broken by b[*i].
 * sl_http1_resp_head_end(): the header section is complete: the framing of RFC 9112 6.3,
 * the flags, p->resp; NULL or the rule broken.
 */
const char *sl_http1_resp_line(struct sl_http1_parser *p, const uint8_t *b, uint32_t base,
			       size_t *i, size_t end, int *done);
const char *sl_http1_resp_head_end(struct sl_http1_parser *p);

#endif /* SL_HTTP1_INT_H */
