/*
 * dataplane/http/http1_resp.c: the response side of the HTTP/1.1 parser (http1.h): the
 * status line (RFC 9112 4), the framing of a response (RFC 9112 6.3) and the end of a
 * close-delimited body. The field lines, chunked bodies, trailers, limits and the resumable
 * machine itself are the request parser's (http1.c), run with p->mode SL_HTTP1_MODE_RESP.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http1-int.h"
#include "http1.h"

/* Status-line machine (p->sub): "HTTP/" is 0..4, then: */
enum {
	S_MAJOR = 5, /* major DIGIT */
	S_DOT,	     /* '.' */
	S_MINOR,     /* minor DIGIT */
	S_SP1,	     /* SP after HTTP-version */
	S_CODE,	     /* 3DIGIT: S_CODE .. S_CODE + 2 */
	S_SP2 = S_CODE + 3,
	S_REASON, /* reason-phrase, until CR */
	S_LF,	  /* LF after CR */
};

/* The status-line byte c in state s breaks msg; a LF out of place is a bare LF. */
static inline const char *
line_bad(uint8_t c, const char *msg)
{
	return c == '\n' ? E_BARE_LF : msg; /* RFC 9112 2.2 */
}

const char *
sl_http1_resp_line(struct sl_http1_parser *p, const uint8_t *b, uint32_t base, size_t *i,
		   size_t end, int *done)
{
	size_t j = *i;
	unsigned s = p->sub;
	const char *e = NULL;
	uint8_t c;

	*done = 0;
	for (; j < end; j++) {
		c = b[j];
		if (s < S_MAJOR) {
			/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3) */
			if (c != (uint8_t) "HTTP/"[s]) {
				e = line_bad(c, s == 0 ? E_STATUS_LINE : E_VERSION);
				break;
			}
			s++;
			continue;
		}
		switch (s) {
		case S_MAJOR:
		case S_MINOR:
			if (!IS_DIGIT(c)) {
				e = line_bad(c, E_VERSION);
				goto out;
			}
			p->aux = s == S_MAJOR ? (unsigned)(c - '0') << 4
					      : p->aux | (unsigned)(c - '0');
			break;
		case S_DOT:
			if (c != '.') {
				e = line_bad(c, E_VERSION);
				goto out;
			}
			break;
		case S_SP1:
			if (c != ' ') {
				e = line_bad(c, IS_DIGIT(c) ? E_VERSION : E_STATUS_SP);
				goto out;
			}
			/* RFC 9110 2.5: 1.x; a higher minor is taken as 1.1 */
			if ((p->aux >> 4) != 1) {
				e = E_VERSION_MAJOR;
				goto out;
			}
			p->req.minor = (p->aux & 0xf) != 0;
			p->resp.minor = p->req.minor;
			p->num = 0;
			break;
		case S_CODE:
		case S_CODE + 1:
		case S_CODE + 2:
			/* status-code = 3DIGIT (RFC 9112 4) */
			if (!IS_DIGIT(c)) {
				e = line_bad(c,
					     c == ' ' && s == S_CODE ? E_STATUS_SP : E_STATUS_CODE);
				goto out;
			}
			p->num = p->num * 10 + (uint64_t)(c - '0');
			break;
		case S_SP2:
			/* the SP is there even with an empty reason-phrase (RFC 9112 4) */
			if (c != ' ') {
				e = line_bad(c, IS_DIGIT(c) ? E_STATUS_CODE : E_STATUS_SP);
				goto out;
			}
			if (p->num < 100 || p->num > 599) {
				e = E_STATUS_RANGE; /* RFC 9110 15: 100..599 */
				goto out;
			}
			if (p->num == 101) {
				e = E_STATUS_101; /* RFC 9110 15.2.2: we never ask to upgrade */
				goto out;
			}
			p->resp.status = (uint16_t)p->num;
			p->mark = base + (uint32_t)j + 1;
			break;
		case S_REASON:
			/* reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (RFC 9112 4) */
			while (j < end && IS_VAL(b[j]))
				j++;
			if (j == end)
				goto out;
			c = b[j];
			if (c != '\r') {
				e = line_bad(c, E_REASON);
				goto out;
			}
			p->resp.reason.off = p->mark;
			p->resp.reason.len = base + (uint32_t)j - p->mark;
			break;
		default: /* S_LF */
			if (c != '\n') {
				e = E_BARE_CR; /* RFC 9112 2.2 */
				goto out;
			}
			*done = 1;
			j++;
			goto out;
		}
		s++;
	}
out:
	p->sub = (uint16_t)s;
	*i = j;
	return e;
}

const char *
sl_http1_resp_head_end(struct sl_http1_parser *p)
{
	struct sl_http1_resp *r = &p->resp;
	uint32_t pf = p->pf;
	unsigned s = r->status;

	r->flags = p->req.flags;
	r->content_length = (pf & PF_CL) ? p->req.content_length : 0;
	/* RFC 9112 6.3 rule 2: a 2xx to CONNECT starts a tunnel; we do not tunnel */
	if (p->req_method == SL_HTTP1_M_CONNECT && s / 100 == 2)
		return E_CONNECT_2XX;
	if (pf & PF_TE) {
		/* RFC 9112 6.3 rule 3: both ought to be handled as an error (response
		 * splitting); a proxy that forwards them would desynchronise */
		if (pf & PF_CL)
			return E_RESP_TE_CL;
		if (r->minor == 0)
			return E_RESP_TE_10; /* RFC 9112 6.1: faulty framing in HTTP/1.0 */
		if (!(pf & PF_TE_ANY))
			return E_TE_EMPTY; /* RFC 9112 6.1: 1#transfer-coding */
		if (pf & PF_TE_TWICE)
			return E_TE_TWICE; /* RFC 9112 6.1 */
	}
	if (p->req_method == SL_HTTP1_M_HEAD || s < 200 || s == 204 || s == 304) {
		/* RFC 9112 6.3 rule 1: no body, whatever the fields say */
		r->body = SL_HTTP1_B_NONE;
	} else if (pf & PF_TE) {
		/* RFC 9112 6.3 rule 4: chunked last, else until the connection closes */
		if (pf & PF_TE_OTHER)
			r->flags |= SL_HTTP1_R_TE_CODED;
		r->body = (pf & PF_TE_LAST) ? SL_HTTP1_B_CHUNKED : SL_HTTP1_B_EOF;
	} else if (pf & PF_CL) {
		/* RFC 9112 6.3 rule 6 (rule 5, invalid or differing values, failed earlier) */
		if (r->content_length > p->lim.body_bytes)
			return E_CL_LIMIT; /* RFC 9110 15.5.14 */
		r->body = r->content_length != 0 ? SL_HTTP1_B_LENGTH : SL_HTTP1_B_NONE;
	} else {
		r->body = SL_HTTP1_B_EOF; /* RFC 9112 6.3 rule 8 */
	}
	/* RFC 9112 9.3: persistent unless "close"; HTTP/1.0 only with "keep-alive"; never
	 * after a body that only the close ends (RFC 9112 9.8) */
	if (!(r->flags & SL_HTTP1_R_CONN_CLOSE) &&
	    (r->minor == 1 || (r->flags & SL_HTTP1_R_CONN_KEEPALIVE)) && r->body != SL_HTTP1_B_EOF)
		r->flags |= SL_HTTP1_R_KEEP_ALIVE;
	p->req.body = r->body;
	p->req.content_length = r->content_length;
	return NULL;
}

int
sl_http1_resp_init(struct sl_http1_parser *p, const struct sl_http1_limits *lim,
		   struct sl_http1_hdr *hdrs)
{
	int rc = sl_http1_init(p, lim, hdrs);

	if (rc == 0)
		p->mode = SL_HTTP1_MODE_RESP;
	return rc;
}

void
sl_http1_resp_reset(struct sl_http1_parser *p, enum sl_http1_method m)
{
	sl_http1_reset(p);
	p->req_method = (uint8_t)m;
}

int
sl_http1_resp_eof(struct sl_http1_parser *p)
{
	if (p->status != 0)
		return -EBADMSG; /* sticky */
	if (p->st == ST_BODY_EOF || p->st >= ST_DONE_PENDING) {
		/* RFC 9112 6.3 rule 8: the close ends a close-delimited body */
		p->st = ST_DONE;
		p->pf &= ~(uint32_t)PF_BODY;
		p->keep = p->pos;
		return SL_HTTP1_DONE;
	}
	/* RFC 9112 8: a message cut by the close is incomplete */
	p->status = 502;
	p->error = p->st == ST_LEAD ? E_EOF_NONE : E_EOF_SHORT;
	p->pf &= ~(uint32_t)PF_BODY;
	return -EBADMSG;
}
