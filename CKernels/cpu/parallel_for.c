/*
 * parallel_for.c — ck_cpu_parallel_for on a persistent pool of worker threads (started on first use, kept
 * for the life of the process). After a job a worker keeps polling for the next one for a short while
 * (CK_SPIN_US, ~0.3 ms) before it sleeps on a condition variable, so the back-to-back splits of a training
 * step (a GEMM, a cell update, a GEMM...) cost about a microsecond each instead of a futex wake-up; an idle
 * program's workers sleep. OpenBLAS runs single-threaded inside (cpu_backend.c): this pool is the only one,
 * so no second pool spins against it.
 *
 *     static void scale_range(void *ctx, int begin, int end) { float *x = ctx; for (int i = begin; i < end; i++) x[i] *= 2; }
 *     ck_cpu_parallel_for(n, 4096, scale_range, x);   // [0, n) in contiguous ranges, one per thread
 *
 * The ranges are contiguous and depend only on n, min_chunk and the thread count; each item is computed by one
 * thread from start to end, so results are the same whatever the thread count as long as items are independent.
 * One job runs at a time (callers from several threads take turns); a call made from inside a job runs inline.
 */
#include "cpu_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define CK_PAUSE() __asm__ __volatile__("yield")
#else
#define CK_PAUSE() ((void)0)
#endif

enum { MAX_PARALLEL = 64 };
#define CK_SPIN_US 300

typedef struct range_task {
    ck_cpu_range_fn fn;
    void *ctx;
    int begin, end;
} range_task;

static pthread_mutex_t job_turn = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static range_task pool_tasks[MAX_PARALLEL]; /* the current job; task 0 is the caller's */
static int pool_task_count = 0;             /* tasks of the current job; workers past it only acknowledge */
static atomic_int pool_pending = 0;          /* workers that have not acknowledged the current job yet */
static atomic_ulong pool_generation = 0;     /* bumped once per job (after its tasks are written) */
static atomic_int pool_sleepers = 0;         /* workers blocked (or about to block) on pool_wake */
static int pool_workers = 0;                 /* workers started; worker i runs task i (1...pool_workers) */
static unsigned long worker_start_generation[MAX_PARALLEL]; /* the last job before worker i started */
static _Thread_local int inside_job = 0;

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

/* Waits until the generation moves past `seen`: polls for CK_SPIN_US, then sleeps. Returns the new one. */
static unsigned long wait_for_job(unsigned long seen) {
    double deadline = 0;
    for (unsigned spins = 0;; spins++) {
        unsigned long g = atomic_load_explicit(&pool_generation, memory_order_acquire);
        if (g != seen) return g;
        CK_PAUSE();
        if ((spins & 63) != 63) continue;
        double t = now_us();
        if (deadline == 0) deadline = t + CK_SPIN_US;
        else if (t > deadline) break;
    }
    pthread_mutex_lock(&pool_lock);
    atomic_fetch_add(&pool_sleepers, 1); /* seq_cst: the caller either sees a sleeper or we see its job */
    unsigned long g;
    while ((g = atomic_load(&pool_generation)) == seen) pthread_cond_wait(&pool_wake, &pool_lock);
    atomic_fetch_sub(&pool_sleepers, 1);
    pthread_mutex_unlock(&pool_lock);
    return g;
}

static void *pool_worker(void *arg) {
    int index = (int)(intptr_t)arg;
    inside_job = 1;
    unsigned long seen = worker_start_generation[index];
    for (;;) {
        seen = wait_for_job(seen);
        /* Every started worker acknowledges every job (the caller waits for all of them), so none can still be
         * looking at this job's tasks when the next job writes its own. */
        if (index < pool_task_count) {
            range_task task = pool_tasks[index];
            task.fn(task.ctx, task.begin, task.end);
        }
        atomic_fetch_sub_explicit(&pool_pending, 1, memory_order_release);
    }
    return NULL;
}

/* Starts workers until there are `wanted` (called with job_turn held); returns how many there are. */
static int ensure_workers(int wanted) {
    while (pool_workers < wanted) {
        pthread_t id;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        worker_start_generation[pool_workers + 1] = atomic_load(&pool_generation); /* jobs start under job_turn */
        int failed = pthread_create(&id, &attr, pool_worker, (void *)(intptr_t)(pool_workers + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool_workers++;
    }
    return pool_workers;
}

int ck_cpu_inside_job(void) { return inside_job; }

void ck_cpu_parallel_for(int n, int min_chunk, ck_cpu_range_fn fn, void *ctx) {
    if (n <= 0) return;
    int threads = ck_cpu_threads();
    if (min_chunk < 1) min_chunk = 1;
    if (threads > n / min_chunk) threads = n / min_chunk;
    if (threads > MAX_PARALLEL) threads = MAX_PARALLEL;
    if (threads <= 1 || inside_job) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&job_turn);
    int workers = ensure_workers(threads - 1);
    if (threads > workers + 1) threads = workers + 1; /* fewer threads available: other ranges, same results */
    if (threads <= 1) {
        pthread_mutex_unlock(&job_turn);
        fn(ctx, 0, n);
        return;
    }
    /* Workers read the tasks only after they see the new generation (release/acquire). */
    for (int i = 0; i < threads; i++) {
        pool_tasks[i] = (range_task){fn, ctx, (int)((long long)n * i / threads),
                                     (int)((long long)n * (i + 1) / threads)};
    }
    pool_task_count = threads;
    atomic_store_explicit(&pool_pending, workers, memory_order_relaxed);
    atomic_fetch_add(&pool_generation, 1); /* seq_cst, ordered before the sleeper check below */
    if (atomic_load(&pool_sleepers) > 0) {
        pthread_mutex_lock(&pool_lock);
        pthread_cond_broadcast(&pool_wake);
        pthread_mutex_unlock(&pool_lock);
    }

    inside_job = 1;
    fn(ctx, 0, (int)((long long)n / threads));
    inside_job = 0;

    for (unsigned spins = 1; atomic_load_explicit(&pool_pending, memory_order_acquire) > 0; spins++) {
        CK_PAUSE();
        if ((spins & 1023) == 0) sched_yield(); /* a worker was descheduled: let it run */
    }
    pthread_mutex_unlock(&job_turn);
}

typedef struct span_job {
    ck_cpu_span_fn fn;
    void *ctx;
    size_t n;
} span_job;

static void span_range(void *ctx, int begin, int end) {
    const span_job *j = ctx;
    size_t lo = (size_t)begin * CK_SPAN_BLOCK, hi = (size_t)end * CK_SPAN_BLOCK;
    j->fn(j->ctx, lo, hi < j->n ? hi : j->n);
}

void ck_cpu_parallel_span(size_t n, ck_cpu_span_fn fn, void *ctx) {
    if (n == 0) return;
    if (n < CK_SPLIT_ELEMENTS || n / CK_SPAN_BLOCK >= (size_t)1 << 30) {
        fn(ctx, 0, n);
        return;
    }
    span_job job = {fn, ctx, n};
    int blocks = (int)((n + CK_SPAN_BLOCK - 1) / CK_SPAN_BLOCK);
    ck_cpu_parallel_for(blocks, CK_SPLIT_ELEMENTS / 2 / CK_SPAN_BLOCK, span_range, &job);
}
