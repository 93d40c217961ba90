/**
 * @file
 * Intrusive doubly linked lists with O(1) append and removal (the shape of BSD's TAILQ,
 * defined here so that every tool that reads our sources, cppcheck included, sees them).
 * Iterate with `for (e = NL_FIRST(h); e != NULL; e = NL_NEXT(e, field))`; save the next
 * element first when the body may remove the current one.
 */
#ifndef SL_NODE_NLIST_H
#define SL_NODE_NLIST_H

#include <stddef.h>

#define NL_HEAD(name, type)                                                                        \
	struct name {                                                                              \
		struct type *first;                                                                \
		struct type **last; /* the last element's next pointer, or &first */               \
	}

#define NL_ENTRY(type)                                                                             \
	struct {                                                                                   \
		struct type *next;                                                                 \
		struct type **prev; /* the previous element's next pointer, or &head->first */     \
	}

#define NL_INIT(h)                                                                                 \
	do {                                                                                       \
		(h)->first = NULL;                                                                 \
		(h)->last = &(h)->first;                                                           \
	} while (0)

#define NL_EMPTY(h) ((h)->first == NULL)
#define NL_FIRST(h) ((h)->first)
#define NL_NEXT(e, field) ((e)->field.next)

#define NL_INSERT_TAIL(h, e, field)                                                                \
	do {                                                                                       \
		(e)->field.next = NULL;                                                            \
		(e)->field.prev = (h)->last;                                                       \
		*(h)->last = (e);                                                                  \
		(h)->last = &(e)->field.next;                                                      \
	} while (0)

#define NL_REMOVE(h, e, field)                                                                     \
	do {                                                                                       \
		if ((e)->field.next != NULL)                                                       \
			(e)->field.next->field.prev = (e)->field.prev;                             \
		else                                                                               \
			(h)->last = (e)->field.prev;                                               \
		*(e)->field.prev = (e)->field.next;                                                \
	} while (0)

#endif /* SL_NODE_NLIST_H */
