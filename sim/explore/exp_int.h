/*
 * exp_int — helpers private to sim/explore/: the library's one growth
 * helper. Out of memory aborts with a message: a report cut short would be
 * a silent lie about the schedules run.
 */
#ifndef EXP_INT_H
#define EXP_INT_H

#include <stddef.h>
#include <stdint.h>

/* Returns p (elements of `elem` bytes, capacity *cap) grown to hold `need`,
 * doubling from 8; aborts on out-of-memory. */
void *exp_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);

#endif
