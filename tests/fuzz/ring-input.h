/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring's input as a ring file (ring-input.c). The input's encoding is
 * described at the top of fuzz_ring.c; the separators are in ring-input.c
 * (FUZZ_SEP, FUZZ_AT) and here (the update's).
 */
#ifndef UEV_FUZZ_RING_INPUT_H
#define UEV_FUZZ_RING_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define RING_INPUT_LATER "--uev-fuzz-later--"

/* The memfd the files are built in, once per process: 0, -1 (errno). */
int ring_input_init(void);
/* Its path, for the reader (/proc/self/fd/N). */
const char *ring_input_path(void);
/* The file an input describes (up to, not with, its update): 0, or -1
 * for an input that describes none. */
int ring_input_build(const uint8_t *data, size_t size);
/* The update after RING_INPUT_LATER: segments written over the file. */
void ring_input_update(const uint8_t *data, size_t size);
/* A copy of the file at @to (FUZZ_RING_SAVE). */
void ring_input_save(const char *to);

#endif
