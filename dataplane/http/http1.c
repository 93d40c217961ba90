/*
 * dataplane/http/http1.c: the strict, incremental HTTP/1.1 request parser of http1.h.
 *
 * One function, sl_http1_feed(), holds the whole state machine: a switch on the saved state
 * resumes it, and from there the states jump to each other with goto while the input lasts,
 * so that a request given whole never goes back through the switch. Runs of ordinary bytes
 * (request-target, field values, field names) are scanned sixteen at a time (SSE2, the
 * x86-64 baseline; eight at a time with SWAR elsewhere) and the other rules use one 256-entry
 * class table. A field name whole in the input is identified at its end by its length and
 * a case-folded compare; one cut by the input is matched byte by byte as it streams in. The
 * few values that change the framing or the connection (Host, Content-Length,
 * Transfer-Encoding, Connection, Expect) go through small resumable sub-machines, fed each
 * run of the value as it comes. Nothing is ever read twice or copied, so a request split
 * anywhere gives the same result as the request whole (tests/fuzz/http1.c checks it).
 *
 * Every rule cites its RFC 9112 / RFC 9110 section at its check and in its error string.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "http1-int.h"
#include "http1.h"
#include "sl_util.h"

/* Limits: defaults and the bounds sl_http1_init() accepts. */
#define DEF_HEAD_BYTES 16384u
#define DEF_URI_BYTES 8192u
#define DEF_FIELDS 100u
#define DEF_BODY_BYTES (16ull << 20)
#define DEF_CHUNK_LINE 4096u
#define MAX_HEAD_BYTES (1u << 20)
#define MAX_URI_BYTES (1u << 20)
#define MAX_FIELDS 4096u
#define METHOD_MAX 32	    /* bytes of a method (400 beyond, RFC 9112 3) */
#define CL_DIGITS_MAX 19    /* digits of a Content-Length (any 19 digits fit 64 bits) */
#define CHUNK_DIGITS_MAX 16 /* significant hex digits of a chunk-size (64 bits) */

/* What a field value is parsed as (p->vk); none in the trailer section. */
enum { VK_NONE = 0, VK_HOST, VK_CL, VK_TE, VK_CONN, VK_EXPECT };

/* Host / authority machine (p->sub), RFC 3986 3.2.2 and 3.2.3. */
enum {
	H_START = 0, /* nothing yet */
	H_REG,	     /* in a reg-name or IPv4address */
	H_PCT1,	     /* after '%' */
	H_PCT2,	     /* after '%' HEXDIG */
	H_LIT0,	     /* after '[' */
	H_LIT,	     /* in an IP-literal */
	H_LITEND,    /* after ']' */
	H_PORT0,     /* after ':' */
	H_PORT,	     /* in the port */
	H_WS,	     /* trailing whitespace of a Host value */
	H_BAD,
};

/* Content-Length machine (p->sub; p->aux counts digits, p->num is the value). */
enum { CL_DIG = 0, CL_WS };

/* Comma-list machine for Transfer-Encoding, Connection and Expect (p->sub; p->aux: token
 * matcher, candidate | index << 8), RFC 9110 5.6.1, 5.6.6. */
enum {
	L_SEP = 0, /* before an element: OWS and empty elements */
	L_TOK,	   /* in the element's token */
	L_TOKWS,   /* whitespace after the token */
	L_PSEP,	   /* after ';' */
	L_PNAME,   /* in a parameter name */
	L_PNWS,	   /* whitespace after a parameter name */
	L_PEQ,	   /* after '=' */
	L_PVAL,	   /* in a parameter value token */
	L_PVWS,	   /* after a parameter value */
	L_Q,	   /* in a quoted-string */
	L_QP,	   /* after '\' in a quoted-string */
	L_DEAD,	   /* Expect already failed: ignore the rest */
};

/* Chunk extension machine (p->sub), RFC 9112 7.1.1. */
enum {
	X_SIZE = 0, /* right after the chunk-size */
	X_BWS1,	    /* BWS before ';' */
	X_BWS2,	    /* after ';' */
	X_NAME,	    /* in an ext-name */
	X_BWS3,	    /* BWS after an ext-name */
	X_BWS4,	    /* after '=' */
	X_VAL,	    /* in a token ext-val */
	X_Q,	    /* in a quoted-string ext-val */
	X_QP,	    /* after '\' */
	X_QEND,	    /* after the closing '"' */
	X_BAD,
};

static const uint16_t cls[256] = {CLS64(0), CLS64(64), CLS64(128), CLS64(192)};

#define LC(c) (uint8_t)(((c) >= 'A' && (c) <= 'Z') ? (c) + 32 : (c))
#define LC4(c) LC(c), LC((c) + 1), LC((c) + 2), LC((c) + 3)
#define LC16(c) LC4(c), LC4((c) + 4), LC4((c) + 8), LC4((c) + 12)
#define LC64(c) LC16(c), LC16((c) + 16), LC16((c) + 32), LC16((c) + 48)
static const uint8_t lc[256] = {LC64(0), LC64(64), LC64(128), LC64(192)};

/* SWAR scans: eight bytes at a time, then byte by byte. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* The high bit of each byte of x below n (n <= 128); the lowest flagged byte is exact. */
#define SWAR_LT(x, n) (((x)-ONES * (n)) & ~(x)&HIGHS)
/* The high bit of each byte of x equal to v; the lowest flagged byte is exact. */
#define SWAR_EQ(x, v) SWAR_LT((x) ^ (ONES * (v)), 1)

static inline uint64_t
load64(const uint8_t *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof(v));
	return v;
}

/*
 * Field names recognised while they stream in (case-insensitively, RFC 9110 5.1), sorted by
 * their bytes: a name's matcher state is (candidate, index), the candidate being the first
 * name of this list that has the bytes read so far as prefix.
 */
static const struct {
	const char *s;
	uint8_t id;
} hnames[] = {
	{"", SL_HTTP1_H_OTHER}, /* 0: no candidate left */
	{"connection", SL_HTTP1_H_CONNECTION},
	{"content-length", SL_HTTP1_H_CONTENT_LENGTH},
	{"expect", SL_HTTP1_H_EXPECT},
	{"host", SL_HTTP1_H_HOST},
	{"keep-alive", SL_HTTP1_H_KEEP_ALIVE},
	{"proxy-connection", SL_HTTP1_H_PROXY_CONNECTION},
	{"te", SL_HTTP1_H_TE},
	{"trailer", SL_HTTP1_H_TRAILER},
	{"transfer-encoding", SL_HTTP1_H_TRANSFER_ENCODING},
	{"upgrade", SL_HTTP1_H_UPGRADE},
	{"x-cocaine-event", SL_HTTP1_H_X_COCAINE_EVENT},
	{"x-cocaine-service", SL_HTTP1_H_X_COCAINE_SERVICE},
	{"x-forwarded-for", SL_HTTP1_H_X_FORWARDED_FOR},
	{"x-request-id", SL_HTTP1_H_X_REQUEST_ID},
	{"x-request-timeout", SL_HTTP1_H_X_REQUEST_TIMEOUT},
};

/* The first candidate for a lowercase first byte. */
static inline unsigned
hname_first(uint8_t l)
{
	switch (l) {
	case 'c':
		return 1;
	case 'e':
		return 3;
	case 'h':
		return 4;
	case 'k':
		return 5;
	case 'p':
		return 6;
	case 't':
		return 7;
	case 'u':
		return 10;
	case 'x':
		return 11;
	default:
		return 0;
	}
}

/* Bytes each name shares with the one before it in hnames. */
static const uint8_t hname_lcp[] = {0, 0, 3, 0, 0, 0, 0, 0, 1, 3, 0, 0, 10, 2, 2, 10};

/* Byte `l` at `idx` differs from candidate `cand`: the next name with the same first `idx`
 * bytes and `l` there, or 0. Names are sorted, so those names follow `cand` and the search
 * only goes forward and stops early. */
static unsigned
hname_next(unsigned cand, unsigned idx, uint8_t l)
{
	unsigned k;

	if (l < (uint8_t)hnames[cand].s[idx])
		return 0;
	for (k = cand + 1; k < SL_ARRAY_SIZE(hnames) && hname_lcp[k] >= idx; k++) {
		uint8_t h = (uint8_t)hnames[k].s[idx];

		if (h >= l)
			return h == l ? k : 0;
	}
	return 0;
}

/* Case-insensitive equality of a token s[0, n) (tchars) with a lowercase name of n bytes
 * (letters, digits, '-'): b | 0x20 equals such a byte only for that byte in either case, or
 * for a CTL instead of a digit or '-', which is no tchar. */
static inline bool
name_eq(const uint8_t *s, const char *name, size_t n)
{
	const uint8_t *l = (const uint8_t *)name;
	uint32_t a, b, x, y;
	size_t k;

	if (n >= 8) {
		for (k = 0; k + 8 < n; k += 8)
			if ((load64(s + k) | ONES * 0x20) != load64(l + k))
				return false;
		return (load64(s + n - 8) | ONES * 0x20) == load64(l + n - 8);
	}
	if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(&x, l, 4);
		memcpy(&y, l + n - 4, 4);
		return (a | 0x20202020u) == x && (b | 0x20202020u) == y;
	}
	return n == 2 && (s[0] | 0x20) == l[0] && (s[1] | 0x20) == l[1];
}

/* The index in hnames of a whole field name s[0, n), or 0: by length and first byte. */
static inline unsigned
name_lookup(const uint8_t *s, size_t n)
{
	unsigned k;

	switch (n) {
	case 2:
		k = 7; /* te */
		break;
	case 4:
		k = 4; /* host */
		break;
	case 6:
		k = 3; /* expect */
		break;
	case 7:
		k = (s[0] | 0x20) == 't' ? 8 : 10; /* trailer, upgrade */
		break;
	case 10:
		k = (s[0] | 0x20) == 'c' ? 1 : 5; /* connection, keep-alive */
		break;
	case 12:
		k = 14; /* x-request-id */
		break;
	case 14:
		k = 2; /* content-length */
		break;
	case 15:
		k = (s[2] | 0x20) == 'c' ? 11 : 13; /* x-cocaine-event, x-forwarded-for */
		break;
	case 16:
		k = 6; /* proxy-connection */
		break;
	case 17:
		/* transfer-encoding, x-cocaine-service, x-request-timeout */
		k = (s[0] | 0x20) == 't' ? 9 : (s[2] | 0x20) == 'c' ? 12 : 15;
		break;
	default:
		return 0;
	}
	return name_eq(s, hnames[k].s, n) ? k : 0;
}

/* The name matcher (candidate | index << 8) after the bytes s[0, n) of a name. */
static unsigned
name_feed(unsigned aux, const uint8_t *s, size_t n)
{
	unsigned cand = aux & 0xff, idx = aux >> 8;
	size_t j;

	for (j = 0; j < n && cand != 0; j++, idx++)
		if ((uint8_t)hnames[cand].s[idx] != lc[s[j]])
			cand = hname_next(cand, idx, lc[s[j]]);
	return cand | idx << 8;
}

/* List tokens that matter, compared case-insensitively (RFC 9110 7.6.1, 10.1.1; RFC 9112
 * 7). Within one field's list no two share a first byte. */
static const char *const lnames[] = {"",	   "chunked", "close",
				     "keep-alive", "upgrade", "100-continue"};
enum { LN_NONE = 0, LN_CHUNKED, LN_CLOSE, LN_KEEPALIVE, LN_UPGRADE, LN_CONTINUE };

static unsigned
lname_first(unsigned vk, uint8_t l)
{
	switch (vk) {
	case VK_TE:
		return l == 'c' ? LN_CHUNKED : LN_NONE;
	case VK_CONN:
		return l == 'c'	  ? LN_CLOSE
		       : l == 'k' ? LN_KEEPALIVE
		       : l == 'u' ? LN_UPGRADE
				  : LN_NONE;
	default:
		return l == '1' ? LN_CONTINUE : LN_NONE;
	}
}

/* Methods: up to the first 8 bytes packed little-end first, compared with their length. */
#define PK(a, b, c, d, e, f, g)                                                                    \
	((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 | (uint64_t)(d) << 24 |          \
	 (uint64_t)(e) << 32 | (uint64_t)(f) << 40 | (uint64_t)(g) << 48)

static uint8_t
method_id(uint64_t w, uint32_t len)
{
	switch (len) {
	case 3:
		return w == PK('G', 'E', 'T', 0, 0, 0, 0)   ? SL_HTTP1_M_GET
		       : w == PK('P', 'U', 'T', 0, 0, 0, 0) ? SL_HTTP1_M_PUT
							    : SL_HTTP1_M_OTHER;
	case 4:
		return w == PK('P', 'O', 'S', 'T', 0, 0, 0)   ? SL_HTTP1_M_POST
		       : w == PK('H', 'E', 'A', 'D', 0, 0, 0) ? SL_HTTP1_M_HEAD
							      : SL_HTTP1_M_OTHER;
	case 5:
		return w == PK('P', 'A', 'T', 'C', 'H', 0, 0)	? SL_HTTP1_M_PATCH
		       : w == PK('T', 'R', 'A', 'C', 'E', 0, 0) ? SL_HTTP1_M_TRACE
								: SL_HTTP1_M_OTHER;
	case 6:
		return w == PK('D', 'E', 'L', 'E', 'T', 'E', 0) ? SL_HTTP1_M_DELETE
								: SL_HTTP1_M_OTHER;
	case 7:
		return w == PK('O', 'P', 'T', 'I', 'O', 'N', 'S')   ? SL_HTTP1_M_OPTIONS
		       : w == PK('C', 'O', 'N', 'N', 'E', 'C', 'T') ? SL_HTTP1_M_CONNECT
								    : SL_HTTP1_M_OTHER;
	default:
		return SL_HTTP1_M_OTHER;
	}
}

/* First index in [i, end) whose byte is not a plain field-value byte (a CTL, HTAB included,
 * or DEL), or end. */
static inline size_t
scan_value(const uint8_t *b, size_t i, size_t end)
{
#ifdef __SSE2__
	const __m128i ctl = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);

	while (i + 16 <= end) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		__m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v),
					 _mm_cmpeq_epi8(v, del));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i + 8 <= end) {
		uint64_t v = load64(b + i);
		uint64_t m = SWAR_LT(v, 0x20) | SWAR_EQ(v, 0x7f);

		if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (size_t)(__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < end && b[i] >= 0x20 && b[i] != 0x7f)
		i++;
	return i;
}

/* First index in [i, end) whose byte is not a request-target byte (C_URI), or end. */
static inline size_t
scan_uri(const uint8_t *b, size_t i, size_t end)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
		      hash = _mm_set1_epi8('#');

	while (i + 16 <= end) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		__m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, sp), v),
					 _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, del), v),
						      _mm_cmpeq_epi8(v, hash)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	while (i + 8 <= end) {
		uint64_t v = load64(b + i);
		uint64_t m = SWAR_LT(v, 0x21) | (v & HIGHS) | SWAR_EQ(v, 0x7f) | SWAR_EQ(v, '#');

		if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (size_t)(__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < end && (cls[b[i]] & C_URI))
		i++;
	return i;
}

/* First index in [i, end) whose byte is not a tchar, or end. */
static inline size_t
scan_token(const uint8_t *b, size_t i, size_t end)
{
	while (i + 4 <= end &&
	       (cls[b[i]] & cls[b[i + 1]] & cls[b[i + 2]] & cls[b[i + 3]] & C_TCHAR))
		i += 4;
	while (i < end && (cls[b[i]] & C_TCHAR))
		i++;
	return i;
}

/* First index in [i, end) whose byte is not a tchar, or end: letters, digits and '-' sixteen
 * at a time, the other tchars one by one. */
static inline size_t
scan_name(const uint8_t *b, size_t i, size_t end)
{
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128(), x20 = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a'),
		      n25 = _mm_set1_epi8(25), d0 = _mm_set1_epi8('0'), n9 = _mm_set1_epi8(9),
		      dash = _mm_set1_epi8('-');

	while (i + 16 <= end) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		__m128i al = _mm_cmpeq_epi8(
			_mm_subs_epu8(_mm_sub_epi8(_mm_or_si128(v, x20), a), n25), zero);
		__m128i dg = _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(v, d0), n9), zero);
		unsigned mask = ~(unsigned)_mm_movemask_epi8(_mm_or_si128(
					_mm_or_si128(al, dg), _mm_cmpeq_epi8(v, dash))) &
				0xffffu;

		if (mask == 0) {
			i += 16;
			continue;
		}
		i += (size_t)__builtin_ctz(mask);
		if (!(cls[b[i]] & C_TCHAR))
			return i;
		i++;
	}
#endif
	return scan_token(b, i, end);
}

/* One byte of a uri-host [ ":" port ] (RFC 3986 3.2.2, 3.2.3): the next H_* state. */
static unsigned
host_step(unsigned s, uint8_t c)
{
	uint16_t k = cls[c];

	switch (s) {
	case H_START:
		if (c == '[')
			return H_LIT0;
		if (k & C_HOST)
			return H_REG;
		return c == '%' ? H_PCT1 : H_BAD;
	case H_REG:
		if (k & C_HOST)
			return H_REG;
		if (c == '%')
			return H_PCT1;
		return c == ':' ? H_PORT0 : H_BAD;
	case H_PCT1:
		return (k & C_HEX) ? H_PCT2 : H_BAD;
	case H_PCT2:
		return (k & C_HEX) ? H_REG : H_BAD;
	case H_LIT0:
	case H_LIT:
		/* IPv6address / IPvFuture: HEXDIG, ':', '.', 'v', unreserved, sub-delims */
		if ((k & C_HOST) || c == ':')
			return H_LIT;
		return (c == ']' && s == H_LIT) ? H_LITEND : H_BAD;
	case H_LITEND:
		return c == ':' ? H_PORT0 : H_BAD;
	case H_PORT0:
	case H_PORT:
		return (k & C_DIGIT) ? H_PORT : H_BAD;
	default:
		return H_BAD;
	}
}

/* Whether a host machine may stop in state s: a Host value (empty or with an empty port
 * allowed, RFC 3986 3.2.3), or an authority-form target (uri-host ":" port, RFC 9112 3.2.3). */
static inline bool
host_end_ok(unsigned s, bool authority)
{
	if (authority)
		return s == H_PORT;
	return s == H_START || s == H_REG || s == H_LITEND || s == H_PORT0 || s == H_PORT ||
	       s == H_WS;
}

/* One byte of a chunk line after the chunk-size (RFC 9112 7.1.1 chunk-ext, BWS = SP/HTAB):
 * the next X_* state. */
static unsigned
ext_step(unsigned s, uint8_t c)
{
	uint16_t k = cls[c];

	switch (s) {
	case X_SIZE:
	case X_VAL:
	case X_QEND:
		if (c == ';')
			return X_BWS2;
		if (IS_WS(c))
			return X_BWS1;
		return (s == X_VAL && (k & C_TCHAR)) ? X_VAL : X_BAD;
	case X_BWS1:
		if (IS_WS(c))
			return X_BWS1;
		return c == ';' ? X_BWS2 : X_BAD;
	case X_BWS2:
		if (IS_WS(c))
			return X_BWS2;
		return (k & C_TCHAR) ? X_NAME : X_BAD;
	case X_NAME:
	case X_BWS3:
		if (s == X_NAME && (k & C_TCHAR))
			return X_NAME;
		if (IS_WS(c))
			return X_BWS3;
		if (c == '=')
			return X_BWS4;
		return c == ';' ? X_BWS2 : X_BAD;
	case X_BWS4:
		if (IS_WS(c))
			return X_BWS4;
		if (k & C_TCHAR)
			return X_VAL;
		return c == '"' ? X_Q : X_BAD;
	case X_Q:
		if (c == '"')
			return X_QEND;
		if (c == '\\')
			return X_QP;
		return (k & C_QD) ? X_Q : X_BAD;
	case X_QP:
		/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) (RFC 9110 5.6.4) */
		return (c == '\t' || (c >= 0x20 && c != 0x7f)) ? X_Q : X_BAD;
	default:
		return X_BAD;
	}
}

/* A list element ended (RFC 9110 5.6.1): apply it. */
static void
list_elem_end(struct sl_http1_parser *p)
{
	unsigned cand = p->aux & 0xff, idx = p->aux >> 8;
	bool match = cand != LN_NONE && lnames[cand][idx] == '\0' && !(p->pf & PF_PARAMS);

	switch (p->vk) {
	case VK_TE:
		/* RFC 9112 6.1: the codings of all Transfer-Encoding lines form one list */
		p->pf |= PF_TE_ANY;
		if (match) {
			if (p->pf & PF_TE_CHUNKED)
				p->pf |= PF_TE_TWICE;
			p->pf |= PF_TE_CHUNKED | PF_TE_LAST;
		} else {
			p->pf = (p->pf | PF_TE_OTHER) & ~(uint32_t)PF_TE_LAST;
		}
		break;
	case VK_CONN:
		/* RFC 9110 7.6.1, RFC 9112 9.3 */
		if (!match)
			p->req.flags |= SL_HTTP1_R_CONN_OTHER;
		else if (cand == LN_CLOSE)
			p->req.flags |= SL_HTTP1_R_CONN_CLOSE;
		else if (cand == LN_KEEPALIVE)
			p->req.flags |= SL_HTTP1_R_CONN_KEEPALIVE;
		else
			p->req.flags |= SL_HTTP1_R_CONN_UPGRADE;
		break;
	default:
		/* RFC 9110 10.1.1: 100-continue, ignored in an HTTP/1.0 request */
		if (!match)
			p->pf |= PF_EXPECT_BAD;
		else if (p->req.minor == 1)
			p->req.flags |= SL_HTTP1_R_EXPECT_CONTINUE;
		break;
	}
}

/* A list broke its grammar: 400 for Transfer-Encoding and Connection, and for Expect an
 * expectation we do not know (417 at the end of the head). */
static const char *
list_bad(struct sl_http1_parser *p)
{
	if (p->vk == VK_TE)
		return E_TE_SYNTAX; /* RFC 9112 6.1 transfer-coding list */
	if (p->vk == VK_CONN)
		return E_CONN; /* RFC 9110 7.6.1 connection-option = token */
	p->pf |= PF_EXPECT_BAD;
	p->sub = L_DEAD;
	return NULL;
}

/* ',' or ';' after a token or a parameter value. */
static const char *
list_delim(struct sl_http1_parser *p, uint8_t c)
{
	if (c == ',') {
		list_elem_end(p);
		p->sub = L_SEP;
		return NULL;
	}
	if (c != ';')
		return list_bad(p);
	if (p->sub == L_TOK || p->sub == L_TOKWS) {
		/* transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 7) */
		if (p->vk != VK_TE)
			return list_bad(p);
		if ((p->aux & 0xff) == LN_CHUNKED && lnames[LN_CHUNKED][p->aux >> 8] == '\0')
			return E_TE_PARAMS; /* RFC 9112 7.1: chunked has no parameters */
		p->pf |= PF_PARAMS;
	}
	p->sub = L_PSEP;
	return NULL;
}

/* One byte of a Transfer-Encoding, Connection or Expect value (RFC 9110 5.6.1 lists of
 * tokens with optional parameters, quoted-string values). */
static const char *
list_byte(struct sl_http1_parser *p, uint8_t c, bool ws)
{
	uint16_t k = cls[c];
	unsigned cand, idx;

	switch (p->sub) {
	case L_SEP:
		if (ws || c == ',')
			return NULL; /* empty elements are ignored (RFC 9110 5.6.1) */
		if (!(k & C_TCHAR))
			return list_bad(p);
		p->aux = lname_first(p->vk, lc[c]) | 1u << 8;
		p->pf &= ~(uint32_t)PF_PARAMS;
		p->sub = L_TOK;
		return NULL;
	case L_TOK:
		if (k & C_TCHAR) {
			cand = p->aux & 0xff;
			idx = p->aux >> 8;
			if (cand != LN_NONE && (uint8_t)lnames[cand][idx] == lc[c])
				p->aux = cand | (idx + 1) << 8;
			else
				p->aux = LN_NONE;
			return NULL;
		}
		if (ws) {
			p->sub = L_TOKWS;
			return NULL;
		}
		return list_delim(p, c);
	case L_TOKWS:
	case L_PVWS:
		return ws ? NULL : list_delim(p, c);
	case L_PVAL:
		if (k & C_TCHAR)
			return NULL;
		if (ws) {
			p->sub = L_PVWS;
			return NULL;
		}
		return list_delim(p, c);
	case L_PSEP:
		if (ws)
			return NULL;
		if (!(k & C_TCHAR))
			return list_bad(p);
		p->sub = L_PNAME;
		return NULL;
	case L_PNAME:
	case L_PNWS:
		if (p->sub == L_PNAME && (k & C_TCHAR))
			return NULL;
		if (ws) {
			p->sub = L_PNWS;
			return NULL;
		}
		if (c != '=')
			return list_bad(p);
		p->sub = L_PEQ;
		return NULL;
	case L_PEQ:
		if (ws)
			return NULL;
		if (k & C_TCHAR)
			p->sub = L_PVAL;
		else if (c == '"')
			p->sub = L_Q;
		else
			return list_bad(p);
		return NULL;
	case L_Q:
		if (c == '"')
			p->sub = L_PVWS;
		else if (c == '\\')
			p->sub = L_QP;
		else if (!(k & C_QD))
			return list_bad(p);
		return NULL;
	case L_QP:
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return list_bad(p);
		p->sub = L_Q;
		return NULL;
	default: /* L_DEAD */
		return NULL;
	}
}

/* One byte (not CR) of a value that matters; NULL or the rule it breaks. */
static const char *
value_byte(struct sl_http1_parser *p, uint8_t c)
{
	bool ws = IS_WS(c);

	switch (p->vk) {
	case VK_HOST:
		/* Host = uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2) */
		if (ws) {
			if (!host_end_ok(p->sub, false))
				return E_HOST_BAD;
			p->sub = H_WS;
			return NULL;
		}
		p->sub = (uint16_t)host_step(p->sub, c);
		return p->sub == H_BAD ? E_HOST_BAD : NULL;
	case VK_CL:
		/* Content-Length = 1*DIGIT (RFC 9110 8.6): no sign, list or inner space */
		if (IS_DIGIT(c)) {
			if (p->sub == CL_WS)
				return E_CL;
			if (++p->aux > CL_DIGITS_MAX)
				return E_CL_BIG;
			p->num = p->num * 10 + (uint64_t)(c - '0');
			return NULL;
		}
		if (!ws)
			return E_CL;
		p->sub = CL_WS;
		return NULL;
	default:
		return list_byte(p, c, ws);
	}
}

/* The bytes s[0, n) of a value that matters (field-value bytes, no CR; `ended`: the byte
 * after them is known and is no tchar): NULL, or the rule broken at s[*at]. Reg-names and
 * tokens are taken in tight loops. */
static const char *
value_run(struct sl_http1_parser *p, const uint8_t *s, size_t n, bool ended, size_t *at)
{
	const char *e;
	size_t j = 0;

	while (j < n) {
		if (p->vk == VK_HOST && p->sub == H_REG) {
			while (j < n && (cls[s[j]] & C_HOST))
				j++;
			if (j == n)
				break;
		} else if (p->vk >= VK_TE && p->sub == L_SEP && (cls[s[j]] & C_TCHAR)) {
			/* a token whole in the run: compared at once, as list_byte() would */
			size_t t = scan_token(s, j + 1, n);
			unsigned cand = lname_first(p->vk, lc[s[j]]);

			if (t < n || ended) {
				if (cand != LN_NONE && strlen(lnames[cand]) == t - j &&
				    name_eq(s + j, lnames[cand], t - j))
					p->aux = cand | (unsigned)(t - j) << 8;
				else
					p->aux = LN_NONE;
				p->pf &= ~(uint32_t)PF_PARAMS;
				p->sub = L_TOK;
				j = t;
				continue;
			}
		} else if (p->vk >= VK_TE && p->sub == L_TOK && (p->aux & 0xff) == LN_NONE) {
			while (j < n && (cls[s[j]] & C_TCHAR))
				j++;
			if (j == n)
				break;
		}
		e = value_byte(p, s[j]);
		if (SL_UNLIKELY(e != NULL)) {
			*at = j;
			return e;
		}
		j++;
	}
	return NULL;
}

/* The value that matters ended; NULL or the rule it breaks (400). */
static const char *
value_end(struct sl_http1_parser *p)
{
	switch (p->vk) {
	case VK_HOST:
		if (!host_end_ok(p->sub, false))
			return E_HOST_BAD;
		if (p->sub == H_START)
			p->pf |= PF_HOST_EMPTY;
		return NULL;
	case VK_CL:
		if (p->aux == 0)
			return E_CL;
		/* RFC 9112 6.3 (5): identical repeats may be taken as one, differing ones not */
		if ((p->pf & PF_CL) && p->num != p->req.content_length)
			return E_CL_DIFF;
		p->pf |= PF_CL;
		p->req.content_length = p->num;
		return NULL;
	default:
		switch (p->sub) {
		case L_SEP:
		case L_DEAD:
			return NULL;
		case L_TOK:
		case L_TOKWS:
		case L_PVAL:
		case L_PVWS:
			list_elem_end(p);
			return NULL;
		default:
			return list_bad(p);
		}
	}
}

/* The header section is complete: decide the framing. NULL or the rule broken, *status. */
static const char *
head_end(struct sl_http1_parser *p, int *status)
{
	struct sl_http1_req *r = &p->req;
	uint32_t pf = p->pf;

	if (p->mode != SL_HTTP1_MODE_REQ) {
		*status = 502;
		return sl_http1_resp_head_end(p);
	}
	*status = 400;
	/* RFC 9112 3.2: an HTTP/1.1 request has exactly one Host */
	if (r->minor == 1 && !(pf & PF_HOST))
		return E_HOST_MISSING;
	/* RFC 9110 7.2: an empty Host only when the target has no authority */
	if ((pf & PF_HOST_EMPTY) && r->form != SL_HTTP1_F_ORIGIN)
		return E_HOST_EMPTY;
	/* RFC 9110 9.3.6: a CONNECT request has no content; what follows its head is the tunnel */
	if (r->method_id == SL_HTTP1_M_CONNECT &&
	    ((pf & PF_TE) || ((pf & PF_CL) && r->content_length != 0)))
		return E_CONNECT_BODY;
	if (pf & PF_TE) {
		if (pf & PF_CL)
			return E_TE_CL; /* RFC 9112 6.1: may reject, we do (smuggling) */
		if (r->minor == 0)
			return E_TE_10; /* RFC 9112 6.1: faulty framing in HTTP/1.0 */
		if (!(pf & PF_TE_ANY))
			return E_TE_EMPTY; /* RFC 9112 6.1: 1#transfer-coding */
		if (!(pf & PF_TE_LAST))
			return E_TE_FINAL; /* RFC 9112 6.3 (4) */
		if (pf & PF_TE_TWICE)
			return E_TE_TWICE; /* RFC 9112 6.1 */
		if (pf & PF_TE_OTHER) {
			*status = 501; /* RFC 9112 6.1: a coding we do not implement */
			return E_TE_UNKNOWN;
		}
		r->body = SL_HTTP1_B_CHUNKED;
	} else if (pf & PF_CL) {
		if (r->content_length > p->lim.body_bytes) {
			*status = 413; /* RFC 9110 15.5.14 */
			return E_CL_LIMIT;
		}
		r->body = r->content_length != 0 ? SL_HTTP1_B_LENGTH : SL_HTTP1_B_NONE;
	}
	if (pf & PF_EXPECT_BAD) {
		*status = 417; /* RFC 9110 10.1.1 */
		return E_EXPECT;
	}
	/* RFC 9112 9.3: persistent unless "close"; HTTP/1.0 only with "keep-alive" */
	if (!(r->flags & SL_HTTP1_R_CONN_CLOSE) &&
	    (r->minor == 1 || (r->flags & SL_HTTP1_R_CONN_KEEPALIVE)))
		r->flags |= SL_HTTP1_R_KEEP_ALIVE;
	return NULL;
}

/* The head (or trailer) bytes this call may still read before the budget is spent. */
static inline size_t
head_room(const struct sl_http1_parser *p, uint32_t base, size_t n)
{
	uint64_t end = (uint64_t)p->sect + p->lim.head_bytes;

	if (end <= base)
		return 0;
	return end - base < n ? (size_t)(end - base) : n;
}

int
sl_http1_init(struct sl_http1_parser *p, const struct sl_http1_limits *lim,
	      struct sl_http1_hdr *hdrs)
{
	struct sl_http1_limits l = {0};

	if (p == NULL || hdrs == NULL)
		return -EINVAL;
	if (lim != NULL)
		l = *lim;
	if (l.head_bytes == 0)
		l.head_bytes = DEF_HEAD_BYTES;
	if (l.uri_bytes == 0)
		l.uri_bytes = DEF_URI_BYTES;
	if (l.fields == 0)
		l.fields = DEF_FIELDS;
	if (l.body_bytes == 0)
		l.body_bytes = DEF_BODY_BYTES;
	if (l.chunk_line == 0)
		l.chunk_line = DEF_CHUNK_LINE;
	if (l.head_bytes > MAX_HEAD_BYTES || l.uri_bytes > MAX_URI_BYTES || l.fields > MAX_FIELDS)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->lim = l;
	p->hdrs = hdrs;
	sl_http1_reset(p);
	return 0;
}

void
sl_http1_reset(struct sl_http1_parser *p)
{
	p->n_hdrs = 0;
	memset(&p->req, 0, sizeof(p->req));
	memset(&p->resp, 0, sizeof(p->resp));
	p->req.host = -1;
	p->status = 0;
	p->error = NULL;
	memset(&p->pos, 0, sizeof(*p) - offsetof(struct sl_http1_parser, pos));
	p->st = ST_LEAD;
}

bool
sl_http1_in_body(const struct sl_http1_parser *p)
{
	return p->status == 0 && (p->pf & PF_BODY) != 0;
}

bool
sl_http1_idle(const struct sl_http1_parser *p)
{
	return p->status == 0 && (p->st == ST_LEAD || p->st == ST_LEAD_LF);
}

/* The next head byte into c; at the end of the input save the state and ask for more; past
 * the section's budget 431 (RFC 9110 5.4). */
#define HEAD_NEXT(state)                                                                           \
	do {                                                                                       \
		if (SL_UNLIKELY(i >= nh)) {                                                        \
			if (i >= n) {                                                              \
				st = (state);                                                      \
				goto more;                                                         \
			}                                                                          \
			goto e_head_big;                                                           \
		}                                                                                  \
		c = b[i];                                                                          \
	} while (0)

/* The next body byte into c, or save the state and ask for more. */
#define BODY_NEXT(state)                                                                           \
	do {                                                                                       \
		if (SL_UNLIKELY(i >= n)) {                                                         \
			st = (state);                                                              \
			goto more;                                                                 \
		}                                                                                  \
		c = b[i];                                                                          \
	} while (0)

#define FAIL(code, msg)                                                                            \
	do {                                                                                       \
		status = (code);                                                                   \
		emsg = (msg);                                                                      \
		goto fail;                                                                         \
	} while (0)

/* The byte c breaks rule msg, unless it is a LF out of place: that is a bare LF. */
#define FAIL_BYTE(msg)                                                                             \
	do {                                                                                       \
		emsg = (msg);                                                                      \
		goto fail_byte;                                                                    \
	} while (0)

#define POS ((uint32_t)(base + i))

int
sl_http1_feed(struct sl_http1_parser *p, const uint8_t *in, size_t len, size_t *used,
	      struct sl_http1_span *body)
{
	const uint8_t *b = in;
	const uint32_t base = p->pos;
	const char *emsg;
	size_t i = 0, n = len, nh, lim, start;
	unsigned st = p->st, cand, idx, v;
	struct sl_http1_hdr *h = &p->hdrs[p->n_hdrs];
	uint8_t hflag = (p->pf & PF_TRAILER) ? SL_HTTP1_HF_TRAILER : 0, hid;
	uint32_t vend = p->vend;
	uint64_t k;
	int status, ev;
	bool over = false;
	uint8_t c = 0;

	if (SL_UNLIKELY(p->status != 0)) {
		*used = 0;
		return -EBADMSG; /* sticky */
	}
	if (st >= ST_DONE_PENDING) {
		if (st == ST_DONE_PENDING) {
			p->st = ST_DONE;
			p->pf &= ~(uint32_t)PF_BODY;
			p->keep = p->pos;
		}
		*used = 0;
		return SL_HTTP1_DONE;
	}
	if (SL_UNLIKELY(n == 0)) {
		*used = 0;
		return SL_HTTP1_MORE;
	}
	if (SL_UNLIKELY(n > UINT32_MAX - base)) {
		n = UINT32_MAX - base; /* positions are 32 bits: 413 at the end of this input */
		over = true;
	}
	nh = head_room(p, base, n);

	switch (st) {
	case ST_LEAD:
		if (p->mode != SL_HTTP1_MODE_REQ)
			goto s_status;
		goto s_lead;
	case ST_STATUS:
		goto s_status;
	case ST_BODY_EOF:
		goto s_body_eof;
	case ST_LEAD_LF:
		goto s_lead_lf;
	case ST_METHOD:
		goto s_method;
	case ST_TARGET0:
		goto s_target0;
	case ST_TARGET:
		goto s_target;
	case ST_STAR:
		goto s_star;
	case ST_SCHEME:
		goto s_scheme;
	case ST_SLASH1:
		goto s_slash1;
	case ST_SLASH2:
		goto s_slash2;
	case ST_AUTH0:
		goto s_auth0;
	case ST_CONNECT:
		goto s_connect;
	case ST_VERSION:
		goto s_version;
	case ST_FIELD_FIRST:
		goto s_field_first;
	case ST_FIELD:
		goto s_field;
	case ST_NAME:
		goto s_name;
	case ST_OWS:
		goto s_ows;
	case ST_VALUE:
		goto s_value;
	case ST_VAL_LF:
		goto s_val_lf;
	case ST_END_LF:
		goto s_end_lf;
	case ST_BODY_LEN:
		goto s_body_len;
	case ST_CHUNK_SIZE0:
		goto s_chunk_size0;
	case ST_CHUNK_SIZE:
		goto s_chunk_size;
	case ST_CHUNK_EXT:
		goto s_chunk_ext;
	case ST_CHUNK_LF:
		goto s_chunk_lf;
	case ST_CHUNK_DATA:
		goto s_chunk_data;
	case ST_CHUNK_DCR:
		goto s_chunk_dcr;
	default:
		goto s_chunk_dlf;
	}

	/* ---- request line (RFC 9112 3) ---- */
s_lead:
	/* RFC 9112 2.2: at least one empty line (CRLF) before the request line is ignored */
	HEAD_NEXT(ST_LEAD);
	if (c == '\r') {
		i++;
		goto s_lead_lf;
	}
	if (SL_UNLIKELY(!(cls[c] & C_TCHAR)))
		FAIL_BYTE(E_LEAD); /* RFC 9112 3: method first */
	p->keep = POS;
	p->num = 0;
	goto s_method;
s_lead_lf:
	HEAD_NEXT(ST_LEAD_LF);
	if (SL_UNLIKELY(c != '\n'))
		FAIL(400, E_BARE_CR); /* RFC 9112 2.2 */
	i++;
	goto s_lead;

s_method:
	/* method = token (RFC 9110 9.1, 5.6.2), packed for the well-known ones */
	for (;;) {
		HEAD_NEXT(ST_METHOD);
		if (!(cls[c] & C_TCHAR))
			break;
		v = POS - p->keep;
		if (SL_UNLIKELY(v >= METHOD_MAX))
			FAIL(400, E_METHOD_LONG); /* RFC 9112 3: we answer 400, not 501 */
		if (v < 8)
			p->num |= (uint64_t)c << (8 * v);
		i++;
	}
	if (SL_UNLIKELY(c != ' '))
		FAIL_BYTE(E_METHOD); /* RFC 9110 9.1 */
	p->req.method.off = p->keep;
	p->req.method.len = POS - p->keep;
	p->req.method_id = method_id(p->num, p->req.method.len);
	i++;
	p->mark = POS;
	goto s_target0;

s_target0:
	/* RFC 9112 3.2: the form follows from the first bytes and the method */
	HEAD_NEXT(ST_TARGET0);
	if (p->req.method_id == SL_HTTP1_M_CONNECT) {
		/* RFC 9112 3.2.3: CONNECT takes the authority-form, and only it */
		p->req.form = SL_HTTP1_F_AUTHORITY;
		p->sub = H_START;
		goto s_connect;
	}
	if (SL_LIKELY(c == '/')) {
		p->req.form = SL_HTTP1_F_ORIGIN; /* RFC 9112 3.2.1 */
		i++;
		goto s_target;
	}
	if (c == '*') {
		/* RFC 9112 3.2.4: asterisk-form only for a server-wide OPTIONS */
		if (p->req.method_id != SL_HTTP1_M_OPTIONS)
			FAIL(400, E_STAR);
		p->req.form = SL_HTTP1_F_ASTERISK;
		i++;
		goto s_star;
	}
	if (cls[c] & C_ALPHA) {
		p->req.form = SL_HTTP1_F_ABSOLUTE; /* RFC 9112 3.2.2 */
		i++;
		goto s_scheme;
	}
	if (c == ' ')
		FAIL(400, E_SP);			 /* RFC 9112 3 */
	FAIL_BYTE((cls[c] & C_URI) ? E_FORM : E_TARGET); /* RFC 9112 3.2 */

/* Room for one more target byte, or 414 (RFC 9112 3). */
#define URI_ROOM()                                                                                 \
	do {                                                                                       \
		if (SL_UNLIKELY(POS - p->mark >= p->lim.uri_bytes))                                \
			FAIL(414, E_URI_LONG);                                                     \
	} while (0)

s_scheme:
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 3.1) */
	for (;;) {
		HEAD_NEXT(ST_SCHEME);
		if (!(cls[c] & C_SCHEME))
			break;
		URI_ROOM();
		i++;
	}
	if (c != ':')
		FAIL_BYTE(c == ' ' || (cls[c] & C_URI) ? E_FORM : E_TARGET); /* RFC 9112 3.2 */
	URI_ROOM();
	i++;
s_slash1:
	/* absolute-form with an authority: "scheme://"; authority-form only for CONNECT */
	HEAD_NEXT(ST_SLASH1);
	if (c != '/')
		FAIL_BYTE(E_FORM); /* RFC 9112 3.2 */
	URI_ROOM();
	i++;
s_slash2:
	HEAD_NEXT(ST_SLASH2);
	if (c != '/')
		FAIL_BYTE(E_FORM); /* RFC 9112 3.2 */
	URI_ROOM();
	i++;
s_auth0:
	HEAD_NEXT(ST_AUTH0);
	if (c == '/' || c == '?' || c == ' ')
		FAIL(400, E_AUTHORITY); /* RFC 9110 4.2.1: no empty host */
	if (!(cls[c] & C_URI))
		FAIL_BYTE(c == '#' ? E_FRAGMENT : E_TARGET); /* RFC 9112 3.2 */
	URI_ROOM();
	i++;
	goto s_target;

s_target:
	/* request-target bytes: visible ASCII, no fragment (RFC 9112 3.2, RFC 3986 3.5) */
	lim = (size_t)(p->mark + p->lim.uri_bytes - base);
	i = scan_uri(b, i, lim < nh ? lim : nh);
	if (i >= n) {
		st = ST_TARGET;
		goto more;
	}
	if (SL_UNLIKELY(i >= nh))
		goto e_head_big;
	c = b[i];
	if (SL_UNLIKELY(c != ' ')) {
		if (cls[c] & C_URI)
			FAIL(414, E_URI_LONG); /* RFC 9112 3 */
		FAIL_BYTE(c == '#' ? E_FRAGMENT : E_TARGET);
	}
	goto target_end;

s_star:
	HEAD_NEXT(ST_STAR);
	if (c != ' ')
		FAIL_BYTE(E_STAR_ONLY); /* RFC 9112 3.2.4 */
	goto target_end;

s_connect:
	/* authority-form = uri-host ":" port (RFC 9112 3.2.3) */
	for (;;) {
		HEAD_NEXT(ST_CONNECT);
		if (c == ' ')
			break;
		URI_ROOM();
		p->sub = (uint16_t)host_step(p->sub, c);
		if (p->sub == H_BAD)
			FAIL_BYTE(E_CONNECT);
		i++;
	}
	if (!host_end_ok(p->sub, true))
		FAIL(400, E_CONNECT);
	goto target_end;

target_end:
	p->req.target.off = p->mark;
	p->req.target.len = POS - p->mark;
	i++;
	p->sub = 0;
	goto s_version;

s_version:
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3), then CRLF */
	if (p->sub == 0 && nh - i >= 10 && memcmp(b + i, "HTTP/1.", 7) == 0 && IS_DIGIT(b[i + 7]) &&
	    b[i + 8] == '\r' && b[i + 9] == '\n') {
		p->aux = 0x10 | (unsigned)(b[i + 7] - '0');
		i += 10;
		goto version_end;
	}
	for (;;) {
		HEAD_NEXT(ST_VERSION);
		switch (p->sub) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			if (c != (uint8_t) "HTTP/"[p->sub])
				FAIL_BYTE(c == ' ' && p->sub == 0 ? E_SP : E_VERSION);
			break;
		case 5:
		case 7:
			if (!IS_DIGIT(c))
				FAIL_BYTE(E_VERSION);
			p->aux = p->sub == 5 ? (unsigned)(c - '0') << 4
					     : p->aux | (unsigned)(c - '0');
			break;
		case 6:
			if (c != '.')
				FAIL_BYTE(E_VERSION);
			break;
		case 8:
			if (c != '\r')
				FAIL_BYTE(E_VERSION); /* "HTTP/1.10", trailing SP... */
			break;
		default:
			if (c != '\n')
				FAIL(400, E_BARE_CR); /* RFC 9112 2.2 */
			i++;
			goto version_end;
		}
		p->sub++;
		i++;
	}
s_status:
	/* response: status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4) */
	emsg = sl_http1_resp_line(p, b, base, &i, nh, &ev);
	if (SL_UNLIKELY(emsg != NULL))
		FAIL(502, emsg);
	if (ev != 0)
		goto s_field_first;
	if (i >= n) {
		st = ST_STATUS;
		goto more;
	}
	goto e_head_big;

version_end:
	/* RFC 9110 2.5: a 1.x recipient takes a higher minor as the highest it knows (1.1);
	 * other majors (0.9, 2.0...) are well-formed but not ours: 505 */
	if ((p->aux >> 4) != 1)
		FAIL(505, E_VERSION_505);
	p->req.minor = (p->aux & 0xf) != 0;
	goto s_field_first;

	/* ---- field lines (RFC 9112 5), header and trailer sections ---- */
s_field_first:
	HEAD_NEXT(ST_FIELD_FIRST);
	if (SL_UNLIKELY(IS_WS(c)))
		FAIL(400, E_WS_FIRST); /* RFC 9112 2.2 */
	goto field_start;
s_field:
	HEAD_NEXT(ST_FIELD);
field_start:
	if (SL_UNLIKELY(!(cls[c] & C_TCHAR))) {
		if (c == '\r') {
			i++;
			goto s_end_lf;
		}
		if (IS_WS(c))
			FAIL(400, E_OBS_FOLD);		     /* RFC 9112 5.2 */
		FAIL_BYTE(c == ':' ? E_NAME_EMPTY : E_NAME); /* RFC 9110 5.1 */
	}
	if (SL_UNLIKELY(p->n_hdrs >= p->lim.fields))
		FAIL(431, E_FIELDS); /* RFC 9110 5.4 */
	h->name_off = POS;
	h->flags = hflag;
	/* field-name = token (RFC 9110 5.1); a name whole in this input is looked up at its
	 * end, one cut by the input is matched byte by byte as it comes */
	start = i;
	i = scan_name(b, i + 1, nh);
	if (SL_LIKELY(i < nh)) {
		c = b[i];
		hid = hnames[name_lookup(b + start, i - start)].id;
		v = (unsigned)(i - start);
		goto name_end;
	}
	p->aux = name_feed(hname_first(lc[c]) | 1u << 8, b + start + 1, i - start - 1);
	goto name_out;
s_name:
	start = i;
	i = scan_name(b, i, nh);
	p->aux = name_feed(p->aux, b + start, i - start);
	if (SL_UNLIKELY(i >= nh))
		goto name_out;
	c = b[i];
	cand = p->aux & 0xff;
	idx = p->aux >> 8;
	hid = (cand != 0 && hnames[cand].s[idx] == '\0') ? hnames[cand].id : SL_HTTP1_H_OTHER;
	v = POS - h->name_off;
name_end:
	if (SL_UNLIKELY(c != ':')) {
		if (IS_WS(c))
			FAIL(400, E_NAME_WS);		    /* RFC 9112 5.1 */
		FAIL_BYTE(c == '\r' ? E_NO_COLON : E_NAME); /* RFC 9112 5, RFC 9110 5.1 */
	}
	if (SL_UNLIKELY(v > UINT16_MAX))
		FAIL(431, E_NAME_LONG); /* RFC 9110 5.4 */
	h->name_len = (uint16_t)v;
	h->id = hid;
	p->vk = VK_NONE;
	if (SL_UNLIKELY(hid != SL_HTTP1_H_OTHER) && hflag == 0) {
		/* trailers never change the framing or the connection (RFC 9110 6.5.1) */
		p->sub = 0;
		p->aux = 0;
		p->num = 0;
		switch (hid) {
		case SL_HTTP1_H_HOST:
			if (p->mode != SL_HTTP1_MODE_REQ)
				break; /* a response's Host is just a field */
			if (p->pf & PF_HOST)
				FAIL(400, E_HOST_TWICE); /* RFC 9112 3.2 */
			p->pf |= PF_HOST;
			p->req.host = p->n_hdrs;
			p->vk = VK_HOST;
			break;
		case SL_HTTP1_H_CONTENT_LENGTH:
			p->vk = VK_CL;
			break;
		case SL_HTTP1_H_TRANSFER_ENCODING:
			p->pf |= PF_TE;
			p->vk = VK_TE;
			break;
		case SL_HTTP1_H_CONNECTION:
			p->vk = VK_CONN;
			break;
		case SL_HTTP1_H_EXPECT:
			if (p->mode == SL_HTTP1_MODE_REQ)
				p->vk = VK_EXPECT; /* a request field (RFC 9110 10.1.1) */
			break;
		default:
			break;
		}
	}
	i++;
	goto s_ows;
name_out:
	if (i >= n) {
		st = ST_NAME;
		goto more;
	}
	goto e_head_big;

s_ows:
	/* field-line = field-name ":" OWS field-value OWS (RFC 9112 5) */
	if (SL_LIKELY(i < nh) && b[i] == ' ')
		i++; /* the usual single SP */
	while (i < nh && (cls[b[i]] & C_WS))
		i++;
	if (SL_UNLIKELY(i >= nh)) {
		if (i >= n) {
			st = ST_OWS;
			goto more;
		}
		goto e_head_big;
	}
	c = b[i];
	h->val_off = POS;
	vend = POS;
	if (c == '\r') {
		h->val_len = 0;
		i++;
		goto s_val_lf;
	}
s_value:
	/* field-value bytes: VCHAR, SP, HTAB, obs-text (RFC 9110 5.5); trailing OWS is not
	 * part of the value (RFC 9112 5.1) */
	start = i;
	for (;;) {
		i = scan_value(b, i, nh);
		if (SL_UNLIKELY(i >= nh))
			break;
		c = b[i];
		if (c != '\t')
			break;
		i++;
	}
	if (SL_UNLIKELY(p->vk != VK_NONE)) {
		/* a value that matters: its machine over the run, first error first */
		emsg = value_run(p, b + start, i - start, i < nh, &lim);
		if (SL_UNLIKELY(emsg != NULL)) {
			i = start + lim;
			FAIL(400, emsg);
		}
	}
	/* drop the trailing whitespace of what this input held of the value */
	for (lim = i; lim > start && (cls[b[lim - 1]] & C_WS); lim--)
		;
	if (lim > start)
		vend = (uint32_t)(base + lim);
	if (SL_UNLIKELY(i >= nh)) {
		if (i >= n) {
			p->vend = vend;
			st = ST_VALUE;
			goto more;
		}
		goto e_head_big;
	}
	if (SL_UNLIKELY(c != '\r'))
		FAIL_BYTE(c == 0 ? E_VALUE_NUL : E_VALUE_CTL); /* RFC 9110 5.5 */
	h->val_len = vend - h->val_off;
	i++;
s_val_lf:
	HEAD_NEXT(ST_VAL_LF);
	if (SL_UNLIKELY(c != '\n'))
		FAIL(400, E_BARE_CR); /* RFC 9112 2.2 */
	if (SL_UNLIKELY(p->vk != VK_NONE)) {
		emsg = value_end(p);
		if (emsg != NULL)
			FAIL(400, emsg);
	}
	p->n_hdrs++;
	h++;
	i++;
	goto s_field;

s_end_lf:
	HEAD_NEXT(ST_END_LF);
	if (SL_UNLIKELY(c != '\n'))
		FAIL(400, E_BARE_CR); /* RFC 9112 2.2 */
	i++;
	if (p->pf & PF_TRAILER) {
		/* RFC 9112 7.1.2: the trailer section ends the message */
		p->pf &= ~(uint32_t)PF_BODY;
		st = ST_DONE;
		ev = SL_HTTP1_DONE;
		goto event;
	}
	emsg = head_end(p, &status);
	if (emsg != NULL)
		goto fail;
	p->req.head_len = POS - p->keep;
	p->resp.head_len = p->req.head_len;
	p->pf |= PF_BODY;
	if (p->req.body == SL_HTTP1_B_LENGTH) {
		p->remain = p->req.content_length;
		st = ST_BODY_LEN;
	} else if (p->req.body == SL_HTTP1_B_CHUNKED) {
		p->mark = POS;
		p->num = 0;
		p->aux = 0;
		st = ST_CHUNK_SIZE0;
	} else if (p->req.body == SL_HTTP1_B_EOF) {
		st = ST_BODY_EOF;
	} else {
		st = ST_DONE_PENDING;
	}
	ev = SL_HTTP1_HEAD;
	goto event;

	/* ---- body (RFC 9112 6.3, 7.1) ---- */
s_body_len:
	k = n - i;
	if (k > p->remain)
		k = p->remain;
	if (k == 0) {
		st = ST_BODY_LEN;
		goto more;
	}
	body->off = POS;
	body->len = (uint32_t)k;
	i += (size_t)k;
	p->remain -= k;
	p->body_seen += k;
	st = p->remain != 0 ? ST_BODY_LEN : ST_DONE_PENDING;
	ev = SL_HTTP1_BODY;
	goto event;

s_body_eof:
	/* response: a close-delimited body, every byte until the connection closes (RFC 9112
	 * 6.3 rule 8), within the body limit */
	k = n - i;
	if (k == 0) {
		st = ST_BODY_EOF;
		goto more;
	}
	if (k > p->lim.body_bytes - p->body_seen) {
		k = p->lim.body_bytes - p->body_seen;
		if (k == 0)
			FAIL(502, E_EOF_LIMIT); /* RFC 9110 15.5.14 */
	}
	body->off = POS;
	body->len = (uint32_t)k;
	i += (size_t)k;
	p->body_seen += k;
	st = ST_BODY_EOF;
	ev = SL_HTTP1_BODY;
	goto event;

/* Room for one more byte of the chunk line (RFC 9112 7.1.1: extensions are bounded). */
#define LINE_ROOM()                                                                                \
	do {                                                                                       \
		if (SL_UNLIKELY(POS - p->mark >= p->lim.chunk_line))                               \
			FAIL(400, E_CHUNK_LINE);                                                   \
	} while (0)

s_chunk_size0:
	/* chunk-size = 1*HEXDIG (RFC 9112 7.1): no sign, no "0x", no leading whitespace */
	BODY_NEXT(ST_CHUNK_SIZE0);
	if (SL_UNLIKELY(!(cls[c] & C_HEX)))
		FAIL_BYTE(E_CHUNK_SIZE);
	goto chunk_digit;
s_chunk_size:
	for (;;) {
		BODY_NEXT(ST_CHUNK_SIZE);
		if (!(cls[c] & C_HEX))
			break;
	chunk_digit:
		LINE_ROOM();
		v = IS_DIGIT(c) ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
		if (p->num != 0 || v != 0) {
			if (SL_UNLIKELY(++p->aux > CHUNK_DIGITS_MAX))
				FAIL(400, E_CHUNK_BIG); /* RFC 9112 7.1: overflow */
		}
		p->num = p->num << 4 | v;
		i++;
	}
	if (SL_UNLIKELY(p->num > p->lim.body_bytes - p->body_seen))
		FAIL(413, E_CHUNK_LIMIT); /* RFC 9110 15.5.14 */
	p->sub = X_SIZE;
	goto chunk_ext_byte;
s_chunk_ext:
	/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 7.1.1) */
	for (;;) {
		BODY_NEXT(ST_CHUNK_EXT);
	chunk_ext_byte:
		if (c == '\r') {
			if (p->sub == X_BWS1)
				FAIL(400, E_CHUNK_WS);
			if (p->sub != X_SIZE && p->sub != X_NAME && p->sub != X_VAL &&
			    p->sub != X_QEND)
				FAIL(400, E_CHUNK_EXT);
			break;
		}
		LINE_ROOM();
		v = ext_step(p->sub, c);
		if (SL_UNLIKELY(v == X_BAD))
			FAIL_BYTE(p->sub == X_SIZE ? E_CHUNK_SIZE : E_CHUNK_EXT);
		p->sub = (uint16_t)v;
		i++;
	}
	i++;
s_chunk_lf:
	BODY_NEXT(ST_CHUNK_LF);
	if (SL_UNLIKELY(c != '\n'))
		FAIL(400, E_BARE_CR); /* RFC 9112 2.2 */
	i++;
	if (p->num == 0) {
		/* last-chunk: the trailer section follows, with a budget of its own */
		p->pf |= PF_TRAILER;
		hflag = SL_HTTP1_HF_TRAILER;
		p->sect = POS;
		p->keep = POS;
		nh = head_room(p, base, n);
		goto s_field_first;
	}
	p->remain = p->num;
s_chunk_data:
	k = n - i;
	if (k > p->remain)
		k = p->remain;
	if (k == 0) {
		st = ST_CHUNK_DATA;
		goto more;
	}
	body->off = POS;
	body->len = (uint32_t)k;
	i += (size_t)k;
	p->remain -= k;
	p->body_seen += k;
	st = p->remain != 0 ? ST_CHUNK_DATA : ST_CHUNK_DCR;
	ev = SL_HTTP1_BODY;
	goto event;
s_chunk_dcr:
	BODY_NEXT(ST_CHUNK_DCR);
	if (SL_UNLIKELY(c != '\r'))
		FAIL_BYTE(E_CHUNK_CRLF); /* RFC 9112 7.1 */
	i++;
s_chunk_dlf:
	BODY_NEXT(ST_CHUNK_DLF);
	if (SL_UNLIKELY(c != '\n'))
		FAIL(400, E_CHUNK_CRLF); /* RFC 9112 7.1 */
	i++;
	p->mark = POS;
	p->num = 0;
	p->aux = 0;
	goto s_chunk_size0;

	/* ---- exits ---- */
more:
	if (SL_UNLIKELY(over))
		FAIL(413, E_TOO_LONG);
	p->st = (uint16_t)st;
	p->pos = POS;
	if (st <= ST_LEAD_LF || st >= ST_BODY_LEN)
		p->keep = p->pos; /* before the request line, or in the body */
	*used = i;
	return SL_HTTP1_MORE;
event:
	p->st = (uint16_t)st;
	p->pos = POS;
	p->keep = p->pos; /* the body start, the position in the body, or the message end */
	*used = i;
	return ev;
e_head_big:
	FAIL(431, (p->pf & PF_TRAILER) ? E_TRAILER_BIG : E_HEAD_BIG); /* RFC 9110 5.4 */
fail_byte:
	status = 400;
	if (c == '\n')
		emsg = E_BARE_LF; /* RFC 9112 2.2 */
fail:
	if (p->mode != SL_HTTP1_MODE_REQ)
		status = 502; /* what a proxy answers for a bad upstream response */
	p->status = status;
	p->error = emsg;
	p->pos = POS;
	p->pf &= ~(uint32_t)PF_BODY;
	*used = i;
	return -EBADMSG;
}

const char *
sl_http1_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "";
	}
}

const char *
sl_http1_method_name(enum sl_http1_method m)
{
	static const char *const names[] = {
		[SL_HTTP1_M_GET] = "GET",	  [SL_HTTP1_M_HEAD] = "HEAD",
		[SL_HTTP1_M_POST] = "POST",	  [SL_HTTP1_M_PUT] = "PUT",
		[SL_HTTP1_M_DELETE] = "DELETE",	  [SL_HTTP1_M_CONNECT] = "CONNECT",
		[SL_HTTP1_M_OPTIONS] = "OPTIONS", [SL_HTTP1_M_TRACE] = "TRACE",
		[SL_HTTP1_M_PATCH] = "PATCH",
	};

	if ((unsigned)m >= SL_ARRAY_SIZE(names))
		return NULL;
	return names[m];
}
