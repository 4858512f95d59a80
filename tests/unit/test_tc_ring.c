/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The test client's virtqueue driver, against a device simulated here. */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/tc_vring.h"

/* --- a minimal device side ------------------------------------------------ */

struct fake_dev {
    struct tc_vq *vq;
    uint16_t last_avail;
    uint16_t used_idx;
};

/* Pops the next published head; false when there is none. */
static bool dev_pop(struct fake_dev *d, uint16_t *head)
{
    uint16_t avail = __atomic_load_n(&d->vq->avail->idx, __ATOMIC_ACQUIRE);
    if (avail == d->last_avail)
        return false;
    *head = d->vq->avail->ring[d->last_avail & (d->vq->num - 1)];
    d->last_avail++;
    return true;
}

static void dev_push(struct fake_dev *d, uint32_t id, uint32_t len)
{
    struct vring_used_elem *e = &d->vq->used->ring[d->used_idx & (d->vq->num - 1)];
    e->id = id;
    e->len = len;
    d->used_idx++;
    __atomic_store_n(&d->vq->used->idx, d->used_idx, __ATOMIC_RELEASE);
}

static uint64_t kicks_pending(struct tc_vq *vq)
{
    uint64_t v = 0;
    if (read(vq->kick_fd, &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

struct ring_fx {
    struct tc_mem *mem;
    struct tc_vq vq;
    struct fake_dev dev;
};

static void setup(struct ring_fx *f, unsigned num, unsigned flags)
{
    g_assert_cmpint(tc_mem_new(4 << 20, 2, &f->mem), ==, 0);
    g_assert_cmpint(tc_vq_init(&f->vq, f->mem, 1, (uint16_t)num, flags), ==, 0);
    f->dev = (struct fake_dev){ .vq = &f->vq };
}

static void teardown(struct ring_fx *f)
{
    tc_vq_done(&f->vq);
    g_assert_cmpuint(tc_mem_free_bytes(f->mem), ==, 4 << 20);
    tc_mem_free(f->mem);
}

/* --- tests ----------------------------------------------------------------- */

static void test_need_event(void)
{
    /* event inside [old, new) modulo 2^16 */
    g_assert_true(tc_vring_need_event(0, 1, 0));
    g_assert_false(tc_vring_need_event(1, 1, 0));
    g_assert_true(tc_vring_need_event(5, 10, 3));
    g_assert_true(tc_vring_need_event(3, 10, 3));
    g_assert_true(tc_vring_need_event(9, 10, 3));
    g_assert_false(tc_vring_need_event(10, 10, 3));
    g_assert_false(tc_vring_need_event(2, 10, 3));
    /* wrapping */
    g_assert_true(tc_vring_need_event(65535, 2, 65530));
    g_assert_true(tc_vring_need_event(0, 2, 65530));
    g_assert_false(tc_vring_need_event(2, 2, 65530));
    g_assert_false(tc_vring_need_event(65529, 2, 65530));
    /* nothing new: never */
    g_assert_false(tc_vring_need_event(7, 7, 7));
    /* agrees with the kernel header's definition everywhere sampled */
    for (unsigned ev = 0; ev < 65536; ev += 251)
        for (unsigned old = 0; old < 65536; old += 4093)
            for (unsigned n = 0; n < 70; n += 7) {
                uint16_t nw = (uint16_t)(old + n);
                g_assert_cmpint(tc_vring_need_event((uint16_t)ev, nw, (uint16_t)old), ==,
                                vring_need_event((uint16_t)ev, nw, (uint16_t)old));
            }
}

static void test_direct_layout(void)
{
    struct ring_fx f;
    setup(&f, 8, TC_VQ_EVENT_IDX);
    struct tc_seg segs[] = {
        { .gpa = TC_GPA_BASE + 0x1000, .len = 40 },
        { .gpa = TC_GPA_BASE + 0x2000, .len = 8 },
        { .gpa = TC_GPA_BASE + 0x3000, .len = 16, .write = true },
    };
    int head = tc_vq_add(&f.vq, segs, 3, &f, 0);
    g_assert_cmpint(head, >=, 0);

    /* nothing visible before publishing */
    uint16_t h = 0;
    g_assert_false(dev_pop(&f.dev, &h));
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 1);
    g_assert_cmpuint(kicks_pending(&f.vq), ==, 1);
    g_assert_true(dev_pop(&f.dev, &h));
    g_assert_cmpuint(h, ==, (unsigned)head);

    uint16_t i = h;
    for (unsigned k = 0; k < 3; k++) {
        const struct vring_desc *d = tc_vq_raw_desc(&f.vq, i);
        g_assert_cmpuint(d->addr, ==, segs[k].gpa);
        g_assert_cmpuint(d->len, ==, segs[k].len);
        g_assert_cmpuint(!!(d->flags & VRING_DESC_F_WRITE), ==, segs[k].write);
        g_assert_cmpuint(!!(d->flags & VRING_DESC_F_NEXT), ==, k < 2);
        g_assert_false(d->flags & VRING_DESC_F_INDIRECT);
        i = d->next;
    }
    g_assert_cmpuint(f.vq.num_free, ==, 5);

    dev_push(&f.dev, h, 16);
    void *tok;
    uint32_t len;
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
    g_assert_true(tok == &f);
    g_assert_cmpuint(len, ==, 16);
    g_assert_cmpuint(f.vq.num_free, ==, 8);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 0);
    teardown(&f);
}

static void check_table(const struct vring_desc *t, const struct tc_seg *segs, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        g_assert_cmpuint(t[k].addr, ==, segs[k].gpa);
        g_assert_cmpuint(t[k].len, ==, segs[k].len);
        g_assert_cmpuint(!!(t[k].flags & VRING_DESC_F_WRITE), ==, segs[k].write);
        g_assert_cmpuint(!!(t[k].flags & VRING_DESC_F_NEXT), ==, k + 1 < n);
        if (k + 1 < n)
            g_assert_cmpuint(t[k].next, ==, k + 1);
    }
}

static void test_indirect_layout(void)
{
    struct ring_fx f;
    setup(&f, 64, TC_VQ_INDIRECT);
    uint64_t free_before = tc_mem_free_bytes(f.mem);

    /* a short chain uses the preallocated table of its head */
    struct tc_seg segs[3] = {
        { .gpa = TC_GPA_BASE, .len = 1 },
        { .gpa = TC_GPA_BASE + 64, .len = 2 },
        { .gpa = TC_GPA_BASE + 128, .len = 3, .write = true },
    };
    int head = tc_vq_add(&f.vq, segs, 3, NULL, TC_VQ_ADD_INDIRECT);
    g_assert_cmpint(head, >=, 0);
    g_assert_cmpuint(f.vq.num_free, ==, 63);
    const struct vring_desc *d = tc_vq_raw_desc(&f.vq, (uint16_t)head);
    g_assert_cmpuint(d->flags, ==, VRING_DESC_F_INDIRECT);
    g_assert_cmpuint(d->len, ==, 3 * sizeof(struct vring_desc));
    const struct vring_desc *t = tc_mem_ptr(f.mem, d->addr, d->len);
    g_assert_nonnull(t);
    check_table(t, segs, 3);
    g_assert_cmpuint(tc_mem_free_bytes(f.mem), ==, free_before);

    /* a long one gets a table from guest memory for its lifetime */
    enum { LONG = TC_VQ_INDIRECT_PREALLOC + 9 };
    struct tc_seg many[LONG];
    for (unsigned k = 0; k < LONG; k++)
        many[k] = (struct tc_seg){ .gpa = TC_GPA_BASE + 4096 * k, .len = k + 1, .write = k > 3 };
    int head2 = tc_vq_add(&f.vq, many, LONG, NULL, TC_VQ_ADD_INDIRECT);
    g_assert_cmpint(head2, >=, 0);
    d = tc_vq_raw_desc(&f.vq, (uint16_t)head2);
    g_assert_cmpuint(d->len, ==, LONG * sizeof(struct vring_desc));
    check_table(tc_mem_ptr(f.mem, d->addr, d->len), many, LONG);
    g_assert_cmpuint(tc_mem_free_bytes(f.mem), <, free_before);

    /* more entries than the queue size are not allowed in a table */
    struct tc_seg *huge = g_new0(struct tc_seg, 65);
    g_assert_cmpint(tc_vq_add(&f.vq, huge, 65, NULL, TC_VQ_ADD_INDIRECT), ==, -EINVAL);
    g_free(huge);

    tc_vq_publish(&f.vq);
    uint16_t h = 0;
    void *tok;
    uint32_t len;
    while (dev_pop(&f.dev, &h))
        dev_push(&f.dev, h, 0);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
    g_assert_cmpuint(tc_mem_free_bytes(f.mem), ==, free_before);
    g_assert_cmpuint(f.vq.num_free, ==, 64);
    teardown(&f);
}

static void test_full_ring_out_of_order(void)
{
    struct ring_fx f;
    setup(&f, 8, 0);
    struct tc_seg seg = { .gpa = TC_GPA_BASE, .len = 8 };
    long tokens[8];

    for (long i = 0; i < 4; i++) {
        tokens[i] = i;
        struct tc_seg two[2] = { seg, seg };
        g_assert_cmpint(tc_vq_add(&f.vq, two, 2, &tokens[i], 0), >=, 0);
    }
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), ==, -ENOSPC);
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 1);

    uint16_t heads[4];
    for (unsigned i = 0; i < 4; i++)
        g_assert_true(dev_pop(&f.dev, &heads[i]));
    /* completions in reverse order */
    for (int i = 3; i >= 0; i--)
        dev_push(&f.dev, heads[i], (uint32_t)i);
    for (int i = 3; i >= 0; i--) {
        void *tok;
        uint32_t len;
        g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
        g_assert_true(tok == &tokens[i]);
        g_assert_cmpuint(len, ==, (uint32_t)i);
    }
    g_assert_cmpuint(f.vq.num_free, ==, 8);
    g_assert_cmpuint(f.vq.inflight, ==, 0);
    /* all eight descriptors are usable again as one chain */
    struct tc_seg eight[8];
    for (unsigned i = 0; i < 8; i++)
        eight[i] = seg;
    g_assert_cmpint(tc_vq_add(&f.vq, eight, 8, NULL, 0), >=, 0);
    teardown(&f);
}

static void test_wraparound(void)
{
    struct ring_fx f;
    setup(&f, 4, TC_VQ_EVENT_IDX);
    struct tc_seg seg = { .gpa = TC_GPA_BASE, .len = 8, .write = true };

    /* more than 2^16 round trips, a few in flight at a time */
    for (unsigned round = 0; round < 70000 / 3; round++) {
        for (unsigned k = 0; k < 3; k++)
            g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, GUINT_TO_POINTER(round * 3 + k + 1), 0), >=, 0);
        tc_vq_kick(&f.vq);
        uint16_t h = 0;
        while (dev_pop(&f.dev, &h))
            dev_push(&f.dev, h, 8);
        for (unsigned k = 0; k < 3; k++) {
            void *tok;
            uint32_t len;
            g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
            g_assert_cmpuint(GPOINTER_TO_UINT(tok), ==, round * 3 + k + 1);
        }
    }
    g_assert_cmpuint(f.vq.last_used, ==, (uint16_t)(70000 / 3 * 3));
    g_assert_cmpuint(*tc_vq_used_event(&f.vq), ==, f.vq.last_used);
    teardown(&f);
}

static void test_kick_event_idx(void)
{
    struct ring_fx f;
    setup(&f, 16, TC_VQ_EVENT_IDX);
    struct tc_seg seg = { .gpa = TC_GPA_BASE, .len = 8 };

    /* the device wants to hear about entry 0 (initial avail_event) */
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), >=, 0);
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 1);
    /* it has not moved avail_event: entries 1 and 2 need no kick */
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), >=, 0);
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 0);
    /* device asks for a kick once entry 4 shows up */
    *tc_vq_avail_event(&f.vq) = 4;
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), >=, 0);
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 0);  /* idx 3 */
    for (int i = 0; i < 3; i++)
        g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), >=, 0);
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 1);  /* batch 3..5 covers 4 */
    g_assert_cmpuint(f.vq.kicks, ==, 2);
    g_assert_cmpuint(f.vq.kicks_suppressed, ==, 2);
    g_assert_cmpuint(kicks_pending(&f.vq), ==, 2);
    /* an empty kick never notifies */
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 0);
    teardown(&f);
}

static void test_kick_no_notify(void)
{
    struct ring_fx f;
    setup(&f, 16, 0);
    struct tc_seg seg = { .gpa = TC_GPA_BASE, .len = 8 };

    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), >=, 0);
    f.vq.used->flags = VRING_USED_F_NO_NOTIFY;
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 0);
    f.vq.used->flags = 0;
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), >=, 0);
    g_assert_cmpint(tc_vq_kick(&f.vq), ==, 1);
    g_assert_cmpuint(f.vq.avail->idx, ==, 2);
    g_assert_cmpint(tc_vq_notify(&f.vq), ==, 0);
    g_assert_cmpuint(kicks_pending(&f.vq), ==, 2);
    teardown(&f);
}

static void test_interrupt_suppression(void)
{
    struct ring_fx f;
    struct tc_seg seg = { .gpa = TC_GPA_BASE, .len = 8 };
    uint16_t h = 0;

    setup(&f, 8, TC_VQ_EVENT_IDX);
    for (int i = 0; i < 3; i++)
        g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), >=, 0);
    tc_vq_kick(&f.vq);
    while (dev_pop(&f.dev, &h))
        dev_push(&f.dev, h, 0);
    void *tok;
    uint32_t len;
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
    /* after each reap the device is asked to signal the next entry */
    g_assert_cmpuint(*tc_vq_used_event(&f.vq), ==, 1);
    tc_vq_set_interrupts(&f.vq, false);
    g_assert_cmpuint(*tc_vq_used_event(&f.vq), ==, 0); /* already passed */
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
    g_assert_cmpuint(*tc_vq_used_event(&f.vq), ==, 0);
    tc_vq_set_interrupts(&f.vq, true);
    g_assert_cmpuint(*tc_vq_used_event(&f.vq), ==, 2);
    teardown(&f);

    setup(&f, 8, 0);
    tc_vq_set_interrupts(&f.vq, false);
    g_assert_cmpuint(f.vq.avail->flags, ==, VRING_AVAIL_F_NO_INTERRUPT);
    /* waiting re-enables them for the time of the wait */
    g_assert_cmpint(tc_vq_wait(&f.vq, 1), ==, -ETIMEDOUT);
    g_assert_cmpuint(f.vq.avail->flags, ==, VRING_AVAIL_F_NO_INTERRUPT);
    tc_vq_set_interrupts(&f.vq, true);
    g_assert_cmpuint(f.vq.avail->flags, ==, 0);
    teardown(&f);
}

static gpointer late_completion(gpointer data)
{
    struct ring_fx *f = data;
    uint16_t h = 0;
    g_usleep(20000);
    while (!dev_pop(&f->dev, &h))
        g_usleep(1000);
    dev_push(&f->dev, h, 5);
    /* the EVENT_IDX rule, device side: signal if used_event was passed */
    uint16_t ev = __atomic_load_n(tc_vq_used_event(f->dev.vq), __ATOMIC_SEQ_CST);
    if (tc_vring_need_event(ev, f->dev.used_idx, (uint16_t)(f->dev.used_idx - 1))) {
        uint64_t one = 1;
        g_assert_cmpint(write(f->vq.call_fd, &one, sizeof(one)), ==, sizeof(one));
    }
    return NULL;
}

static void test_wait(void)
{
    struct ring_fx f;
    struct tc_seg seg = { .gpa = TC_GPA_BASE, .len = 8 };
    void *tok;
    uint32_t len;

    setup(&f, 8, TC_VQ_EVENT_IDX);
    g_assert_cmpint(tc_vq_wait(&f.vq, 10), ==, -ETIMEDOUT);
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, &f, 0), >=, 0);
    tc_vq_kick(&f.vq);
    GThread *t = g_thread_new("dev", late_completion, &f);
    g_assert_cmpint(tc_vq_wait(&f.vq, 5000), ==, 0);
    g_thread_join(t);
    g_assert_cmpuint(f.vq.calls, ==, 1);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
    g_assert_cmpuint(len, ==, 5);
    /* pending entry: no sleep at all */
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, &f, 0), >=, 0);
    tc_vq_kick(&f.vq);
    uint16_t h = 0;
    g_assert_true(dev_pop(&f.dev, &h));
    dev_push(&f.dev, h, 1);
    g_assert_cmpint(tc_vq_wait(&f.vq, 0), ==, 0);
    teardown(&f);
}

static void test_bad_used(void)
{
    struct ring_fx f;
    struct tc_seg seg = { .gpa = TC_GPA_BASE, .len = 8 };
    void *tok;
    uint32_t len;

    /* a head that is not in flight */
    setup(&f, 8, 0);
    int head = tc_vq_add(&f.vq, &seg, 1, NULL, 0);
    tc_vq_kick(&f.vq);
    dev_push(&f.dev, (uint32_t)head + 1, 0);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, -EIO);
    g_assert_true(f.vq.broken);
    g_assert_cmpint(tc_vq_add(&f.vq, &seg, 1, NULL, 0), ==, -EIO);
    g_assert_cmpint(tc_vq_wait(&f.vq, 0), ==, -EIO);
    teardown(&f);

    /* an id beyond the table */
    setup(&f, 8, 0);
    tc_vq_add(&f.vq, &seg, 1, NULL, 0);
    dev_push(&f.dev, 4096, 0);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, -EIO);
    teardown(&f);

    /* the same head used twice */
    setup(&f, 8, 0);
    head = tc_vq_add(&f.vq, &seg, 1, NULL, 0);
    dev_push(&f.dev, (uint32_t)head, 0);
    dev_push(&f.dev, (uint32_t)head, 0);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, 1);
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, -EIO);
    teardown(&f);

    /* used->idx running more than a ring ahead */
    setup(&f, 8, 0);
    tc_vq_add(&f.vq, &seg, 1, NULL, 0);
    f.vq.used->idx = 9;
    g_assert_cmpint(tc_vq_get_used(&f.vq, &tok, &len), ==, -EIO);
    teardown(&f);
}

static void test_raw(void)
{
    struct ring_fx f;
    setup(&f, 8, 0);
    uint16_t ids[3];
    uint32_t id, len;

    /* a hand-written loop: 0 -> 1 -> 2 -> 0 */
    g_assert_cmpint(tc_vq_raw_take(&f.vq, 3, ids), ==, 0);
    g_assert_cmpuint(f.vq.num_free, ==, 5);
    for (unsigned k = 0; k < 3; k++)
        *tc_vq_raw_desc(&f.vq, ids[k]) = (struct vring_desc){
            .addr = TC_GPA_BASE, .len = 8, .flags = VRING_DESC_F_NEXT, .next = ids[(k + 1) % 3],
        };
    tc_vq_raw_submit(&f.vq, ids[0], ids, 3, &f);
    /* and a head past the table */
    tc_vq_raw_submit(&f.vq, 8, NULL, 0, NULL);
    tc_vq_publish(&f.vq);
    uint16_t h = 0;
    g_assert_true(dev_pop(&f.dev, &h));
    g_assert_cmpuint(h, ==, ids[0]);
    g_assert_true(dev_pop(&f.dev, &h));
    g_assert_cmpuint(h, ==, 8);

    /* a device that rejects both still returns them; raw reaping takes it */
    dev_push(&f.dev, ids[0], 0);
    dev_push(&f.dev, 8, 0);
    g_assert_cmpint(tc_vq_raw_get_used(&f.vq, &id, &len), ==, 1);
    g_assert_cmpuint(id, ==, ids[0]);
    g_assert_cmpuint(f.vq.num_free, ==, 8);
    g_assert_cmpint(tc_vq_raw_get_used(&f.vq, &id, &len), ==, 1);
    g_assert_cmpuint(id, ==, 8);
    g_assert_cmpint(tc_vq_raw_get_used(&f.vq, &id, &len), ==, 0);

    /* descriptors taken and not used go back */
    g_assert_cmpint(tc_vq_raw_take(&f.vq, 2, ids), ==, 0);
    tc_vq_raw_put(&f.vq, ids, 2);
    g_assert_cmpuint(f.vq.num_free, ==, 8);

    /* avail->idx can be set to anything */
    tc_vq_raw_set_avail_idx(&f.vq, 1000);
    g_assert_cmpuint(f.vq.avail->idx, ==, 1000);
    teardown(&f);
}

static void test_reset(void)
{
    struct ring_fx f;
    setup(&f, 64, TC_VQ_INDIRECT);
    struct tc_seg segs[TC_VQ_INDIRECT_PREALLOC + 1] = { { .gpa = TC_GPA_BASE, .len = 1 } };
    g_assert_cmpint(tc_vq_add(&f.vq, segs, G_N_ELEMENTS(segs), NULL, TC_VQ_ADD_INDIRECT), >=, 0);
    g_assert_cmpint(tc_vq_add(&f.vq, segs, 3, NULL, 0), >=, 0);
    tc_vq_kick(&f.vq);
    tc_vq_reset(&f.vq);
    g_assert_cmpuint(f.vq.num_free, ==, 64);
    g_assert_cmpuint(f.vq.avail->idx, ==, 0);
    g_assert_cmpuint(f.vq.inflight, ==, 0);
    teardown(&f); /* checks the indirect table went back too */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tc_ring/need_event", test_need_event);
    g_test_add_func("/tc_ring/direct_layout", test_direct_layout);
    g_test_add_func("/tc_ring/indirect_layout", test_indirect_layout);
    g_test_add_func("/tc_ring/full_ring_out_of_order", test_full_ring_out_of_order);
    g_test_add_func("/tc_ring/wraparound", test_wraparound);
    g_test_add_func("/tc_ring/kick_event_idx", test_kick_event_idx);
    g_test_add_func("/tc_ring/kick_no_notify", test_kick_no_notify);
    g_test_add_func("/tc_ring/interrupt_suppression", test_interrupt_suppression);
    g_test_add_func("/tc_ring/wait", test_wait);
    g_test_add_func("/tc_ring/bad_used", test_bad_used);
    g_test_add_func("/tc_ring/raw", test_raw);
    g_test_add_func("/tc_ring/reset", test_reset);
    return g_test_run();
}
