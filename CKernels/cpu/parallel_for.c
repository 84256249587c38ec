/*
 * parallel_for.c — ck_cpu_parallel_for on a persistent pool of worker threads (started on first use, kept
 * for the life of the process), so that splitting a loop costs a wake-up (~10 us) rather than a thread start.
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

enum { MAX_PARALLEL = 64 };

typedef struct range_task {
    ck_cpu_range_fn fn;
    void *ctx;
    int begin, end;
} range_task;

static pthread_mutex_t job_turn = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static range_task pool_tasks[MAX_PARALLEL]; /* the current job; task 0 is the caller's */
static int pool_task_count = 0;
static int pool_pending = 0;                /* worker tasks of the current job not finished yet */
static unsigned long pool_generation = 0;   /* bumped once per job */
static int pool_workers = 0;                /* workers started; worker i runs task i (1...pool_workers) */
static unsigned long worker_start_generation[MAX_PARALLEL]; /* the last job before worker i started */
static _Thread_local int inside_job = 0;

static void *pool_worker(void *arg) {
    int index = (int)(intptr_t)arg;
    inside_job = 1;
    pthread_mutex_lock(&pool_lock);
    unsigned long seen = worker_start_generation[index];
    for (;;) {
        while (pool_generation == seen) pthread_cond_wait(&pool_wake, &pool_lock);
        seen = pool_generation;
        if (index >= pool_task_count) continue;
        range_task task = pool_tasks[index];
        pthread_mutex_unlock(&pool_lock);
        task.fn(task.ctx, task.begin, task.end);
        pthread_mutex_lock(&pool_lock);
        if (--pool_pending == 0) pthread_cond_signal(&pool_done);
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
        worker_start_generation[pool_workers + 1] = pool_generation; /* stable: jobs start under job_turn */
        int failed = pthread_create(&id, &attr, pool_worker, (void *)(intptr_t)(pool_workers + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool_workers++;
    }
    return pool_workers;
}

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
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < threads; i++) {
        pool_tasks[i] = (range_task){fn, ctx, (int)((long long)n * i / threads),
                                     (int)((long long)n * (i + 1) / threads)};
    }
    pool_task_count = threads;
    pool_pending = threads - 1;
    pool_generation++;
    pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_lock);

    inside_job = 1;
    fn(ctx, 0, (int)((long long)n / threads));
    inside_job = 0;

    pthread_mutex_lock(&pool_lock);
    while (pool_pending > 0) pthread_cond_wait(&pool_done, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
    pthread_mutex_unlock(&job_turn);
}
