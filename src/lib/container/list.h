/**
 * @file list.h
 * @brief Intrusive circular doubly-linked lists.
 *
 * Embed a chive_list_t in each object and one in the owner as the list
 * head; no allocation, O(1) insert and remove, an object can unlink
 * itself without knowing its list.  A node that is not on a list points
 * at itself (after chive_list_init() or chive_list_remove()), so
 * chive_list_is_linked() is reliable and removing twice is harmless.
 **/
#ifndef CHIVE_LIB_CONTAINER_LIST_H
#define CHIVE_LIB_CONTAINER_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct chive_list_t {
  struct chive_list_t *prev;
  struct chive_list_t *next;
} chive_list_t;

/** Return the object of <b>type</b> whose <b>member</b> is at
 * <b>ptr</b>. */
#define CHIVE_CONTAINER_OF(ptr, type, member) \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/** Make <b>node</b> an empty list head, or an unlinked node. */
static inline void
chive_list_init(chive_list_t *node)
{
  node->prev = node;
  node->next = node;
}

/** Return true iff the list headed by <b>head</b> has no entries. */
static inline bool
chive_list_empty(const chive_list_t *head)
{
  return head->next == head;
}

/** Return true iff <b>node</b> is on some list. */
static inline bool
chive_list_is_linked(const chive_list_t *node)
{
  return node->next != node;
}

/** Insert <b>node</b> (not on any list) right after <b>pos</b>. */
static inline void
chive_list_insert_after(chive_list_t *pos, chive_list_t *node)
{
  node->prev = pos;
  node->next = pos->next;
  pos->next->prev = node;
  pos->next = node;
}

/** Append <b>node</b> at the tail of <b>head</b>'s list. */
static inline void
chive_list_add_tail(chive_list_t *head, chive_list_t *node)
{
  chive_list_insert_after(head->prev, node);
}

/** Prepend <b>node</b> at the head of <b>head</b>'s list. */
static inline void
chive_list_add_head(chive_list_t *head, chive_list_t *node)
{
  chive_list_insert_after(head, node);
}

/** Unlink <b>node</b> from its list (no-op if unlinked). */
static inline void
chive_list_remove(chive_list_t *node)
{
  node->prev->next = node->next;
  node->next->prev = node->prev;
  chive_list_init(node);
}

/** Return the first node of <b>head</b>'s list, or NULL if empty. */
static inline chive_list_t *
chive_list_first(const chive_list_t *head)
{
  return chive_list_empty(head) ? NULL : head->next;
}

/** Return the last node of <b>head</b>'s list, or NULL if empty. */
static inline chive_list_t *
chive_list_last(const chive_list_t *head)
{
  return chive_list_empty(head) ? NULL : head->prev;
}

/** Iterate <b>pos</b> over the nodes of <b>head</b>'s list.  The body
 * MUST NOT unlink pos (use CHIVE_LIST_FOREACH_SAFE). */
#define CHIVE_LIST_FOREACH(pos, head) \
  for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/** As CHIVE_LIST_FOREACH, but the body may unlink (or free) pos. */
#define CHIVE_LIST_FOREACH_SAFE(pos, tmp, head)                    \
  for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
       (pos) = (tmp), (tmp) = (pos)->next)

#endif /* !defined(CHIVE_LIB_CONTAINER_LIST_H) */
