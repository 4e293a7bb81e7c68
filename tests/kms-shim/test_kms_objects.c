/* SPDX-License-Identifier: MIT */
/* Unit tests of uev-kms-shim's object tracking (kms-objects.c): kinds per
 * (fd, id), and the per-thread view of atomic requests built with adds,
 * rewinds, gaps, overflow and requests of other threads. The cursor passed
 * to kms_req_add() is what drmModeAtomicAddProperty() returns: the item
 * count after the add. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "kms-objects.h"

static const uint32_t crtcs[] = { 31, 32 }, conns[] = { 40, 41 }, planes[] = { 50, 51, 52 };

static void learn(int fd)
{
	kms_objects_learn(fd, crtcs, 2, KMS_KIND_CRTC);
	kms_objects_learn(fd, conns, 2, KMS_KIND_CONNECTOR);
	kms_objects_learn(fd, planes, 3, KMS_KIND_PLANE);
}

static void setup(void)
{
	kms_objects_reset();
}

static void expect(const void *req, int fd, int cursor, uint32_t objects, uint32_t planes_,
		   uint32_t crtc, uint32_t conn)
{
	struct kms_req_summary s;

	kms_req_summarize(req, fd, cursor, &s);
	ck_assert_uint_eq(s.objects, objects);
	ck_assert_uint_eq(s.planes, planes_);
	ck_assert_uint_eq(s.crtc, crtc);
	ck_assert_uint_eq(s.connector, conn);
}

START_TEST(t_kinds)
{
	static const uint32_t zero = 0;

	learn(7);
	ck_assert_int_eq(kms_objects_kind(7, 31), KMS_KIND_CRTC);
	ck_assert_int_eq(kms_objects_kind(7, 41), KMS_KIND_CONNECTOR);
	ck_assert_int_eq(kms_objects_kind(7, 52), KMS_KIND_PLANE);
	ck_assert_int_eq(kms_objects_kind(7, 33), KMS_KIND_UNKNOWN);
	/* per fd: the same id on another device is not known */
	ck_assert_int_eq(kms_objects_kind(8, 31), KMS_KIND_UNKNOWN);
	/* learnt again with another kind (another device behind fd 7) */
	kms_objects_learn(7, crtcs, 1, KMS_KIND_PLANE);
	ck_assert_int_eq(kms_objects_kind(7, 31), KMS_KIND_PLANE);
	ck_assert_int_eq(kms_objects_kind(7, 32), KMS_KIND_CRTC);
	/* ignored: id 0, bad fds */
	kms_objects_learn(7, &zero, 1, KMS_KIND_CRTC);
	kms_objects_learn(-1, crtcs, 2, KMS_KIND_CRTC);
	kms_objects_learn(1 << 24, crtcs, 2, KMS_KIND_CRTC);
	ck_assert_int_eq(kms_objects_kind(7, 0), KMS_KIND_UNKNOWN);
	ck_assert_int_eq(kms_objects_kind(-1, 31), KMS_KIND_UNKNOWN);
	ck_assert_int_eq(kms_objects_kind(1 << 24, 31), KMS_KIND_UNKNOWN);
}
END_TEST

/* A full table keeps what it has and learns nothing more; lookups of
 * unknown ids end (they probe at most the whole table). */
START_TEST(t_kinds_full)
{
	uint32_t *ids = malloc(KMS_OBJECTS_MAX * 2 * sizeof(*ids));

	ck_assert_ptr_nonnull(ids);
	for (uint32_t i = 0; i < KMS_OBJECTS_MAX * 2; i++)
		ids[i] = 1000 + i;
	kms_objects_learn(3, ids, KMS_OBJECTS_MAX * 2, KMS_KIND_PLANE);
	ck_assert_int_eq(kms_objects_kind(3, 1000), KMS_KIND_PLANE);
	ck_assert_int_eq(kms_objects_kind(3, 1000 + KMS_OBJECTS_MAX - 1), KMS_KIND_PLANE);
	ck_assert_int_eq(kms_objects_kind(3, 1000 + KMS_OBJECTS_MAX), KMS_KIND_UNKNOWN);
	ck_assert_int_eq(kms_objects_kind(4, 1000), KMS_KIND_UNKNOWN);
	free(ids);
}
END_TEST

START_TEST(t_request)
{
	int req;

	learn(5);
	kms_req_add(&req, 50, 1);       /* plane first: the CRTC is still the first CRTC */
	kms_req_add(&req, 31, 2);
	kms_req_add(&req, 31, 3);
	kms_req_add(&req, 40, 4);
	kms_req_add(&req, 32, 5);       /* a second CRTC */
	kms_req_add(&req, 51, 6);
	kms_req_add(&req, 50, 7);       /* again, not adjacent */
	expect(&req, 5, 7, 5, 2, 31, 40);
	/* on another fd the ids are not known, the count is */
	expect(&req, 6, 7, 5, 0, 0, 0);
	/* a cursor beyond what was seen: items added unseen, not known */
	expect(&req, 5, 8, 0, 0, 0, 0);
	/* rewound (drmModeAtomicSetCursor) without adds: only items below it */
	expect(&req, 5, 2, 2, 1, 31, 0);
	expect(&req, 5, 0, 0, 0, 0, 0);
	kms_req_forget(&req);
	expect(&req, 5, 7, 0, 0, 0, 0);
}
END_TEST

START_TEST(t_rewind)
{
	int req;

	learn(5);
	kms_req_add(&req, 31, 1);
	kms_req_add(&req, 40, 2);
	kms_req_add(&req, 50, 3);
	kms_req_add(&req, 51, 4);
	/* SetCursor(req, 2), then 51 and 52: 50 is no longer in it */
	kms_req_add(&req, 51, 3);
	kms_req_add(&req, 52, 4);
	expect(&req, 5, 4, 4, 2, 31, 40);
	/* SetCursor(req, 0): starts over, also after a gap */
	kms_req_add(&req, 41, 1);
	expect(&req, 5, 1, 1, 0, 0, 41);
}
END_TEST

START_TEST(t_gap_and_overflow)
{
	int a, b;

	learn(5);
	/* tracking started at item 2 (the event was enabled late): not known */
	kms_req_add(&a, 31, 3);
	kms_req_add(&a, 40, 4);
	expect(&a, 5, 4, 0, 0, 0, 0);
	/* a new request at the same address starts at item 0: known again */
	kms_req_add(&a, 31, 1);
	expect(&a, 5, 1, 1, 0, 31, 0);
	/* a gap in the middle */
	kms_req_add(&a, 40, 3);
	expect(&a, 5, 3, 0, 0, 0, 0);
	/* one object more than a slot holds */
	for (int i = 0; i <= KMS_REQ_OBJECTS; i++)
		kms_req_add(&b, 100 + (uint32_t)i, i + 1);
	expect(&b, 5, KMS_REQ_OBJECTS + 1, 0, 0, 0, 0);
	/* exactly as many as it holds */
	for (int i = 0; i < KMS_REQ_OBJECTS; i++)
		kms_req_add(&b, 100 + (uint32_t)i, i + 1);
	expect(&b, 5, KMS_REQ_OBJECTS, KMS_REQ_OBJECTS, 0, 0, 0);
	/* NULL and bad cursors are ignored */
	kms_req_add(NULL, 31, 1);
	kms_req_add(&b, 31, 0);
	kms_req_add(&b, 31, -22);
	expect(NULL, 5, 1, 0, 0, 0, 0);
	expect(&b, 5, KMS_REQ_OBJECTS, KMS_REQ_OBJECTS, 0, 0, 0);
}
END_TEST

/* More requests than slots: the least recently added to is dropped. */
START_TEST(t_slots)
{
	int req[KMS_REQ_SLOTS + 1];

	learn(5);
	for (int i = 0; i <= KMS_REQ_SLOTS; i++)
		kms_req_add(&req[i], 31, 1);
	expect(&req[0], 5, 1, 0, 0, 0, 0);
	for (int i = 1; i <= KMS_REQ_SLOTS; i++)
		expect(&req[i], 5, 1, 1, 0, 31, 0);
	/* adding to the oldest keeps it over the next newcomer */
	kms_req_add(&req[1], 40, 2);
	kms_req_add(&req[0], 31, 1);
	expect(&req[1], 5, 2, 2, 0, 31, 40);
	expect(&req[2], 5, 1, 0, 0, 0, 0);
}
END_TEST

static int shared_req;

static void *commit_elsewhere(void *arg)
{
	struct kms_req_summary *s = arg;

	kms_req_summarize(&shared_req, 5, 2, s);
	return NULL;
}

/* A request built on one thread and committed on another is not known
 * there (and the builder's view is untouched). */
START_TEST(t_other_thread)
{
	struct kms_req_summary s = { 1, 1, 1, 1 };
	pthread_t t;

	learn(5);
	kms_req_add(&shared_req, 31, 1);
	kms_req_add(&shared_req, 40, 2);
	ck_assert_int_eq(pthread_create(&t, NULL, commit_elsewhere, &s), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(s.objects, 0);
	ck_assert_uint_eq(s.crtc, 0);
	expect(&shared_req, 5, 2, 2, 0, 31, 40);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kms-objects");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, t_kinds);
	tcase_add_test(tc, t_kinds_full);
	tcase_add_test(tc, t_request);
	tcase_add_test(tc, t_rewind);
	tcase_add_test(tc, t_gap_and_overflow);
	tcase_add_test(tc, t_slots);
	tcase_add_test(tc, t_other_thread);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
