//! Concurrent calls merged into one: requests that arrive while a batch runs wait for the next
//! one, so a burst of N requests costs a few round trips instead of N. Nothing waits on
//! purpose: a lone request runs at once (the shape of the punch group commit, for any call).
//!
//! Contract: `run` answers a batch with one answer per request, in the order given; a request
//! whose answer is missing (or whose batcher is gone) gets `None` from [`Batcher::call`].

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

type Job<Q, A> = (Q, oneshot::Sender<A>);

pub struct Batcher<Q, A> {
    jobs: mpsc::Sender<Job<Q, A>>,
}

impl<Q: Send + 'static, A: Send + 'static> Batcher<Q, A> {
    /// Starts `workers` (at least 1) tasks on the current runtime that take turns: while one
    /// runs a batch of at most `max` requests, the next collects what arrives meanwhile.
    pub fn start<F, Fut>(workers: usize, max: usize, run: F) -> Self
    where
        F: Fn(Vec<Q>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<A>> + Send + 'static,
    {
        let max = max.max(1);
        let (jobs, queue) = mpsc::channel(max * 16);
        let queue = Arc::new(Mutex::new(queue));
        let run = Arc::new(run);
        for _ in 0..workers.max(1) {
            tokio::spawn(worker(queue.clone(), run.clone(), max));
        }
        Self { jobs }
    }

    /// Runs `request` in the next batch and returns its answer.
    pub async fn call(&self, request: Q) -> Option<A> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send((request, reply)).await.ok()?;
        answer.await.ok()
    }
}

async fn worker<Q, A, F, Fut>(queue: Arc<Mutex<mpsc::Receiver<Job<Q, A>>>>, run: Arc<F>, max: usize)
where
    F: Fn(Vec<Q>) -> Fut,
    Fut: Future<Output = Vec<A>>,
{
    loop {
        let batch = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < max {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        let (requests, replies): (Vec<Q>, Vec<oneshot::Sender<A>>) = batch.into_iter().unzip();
        let started = std::time::Instant::now();
        let size = requests.len();
        let answers = run(requests).await;
        tracing::debug!(size, ms = started.elapsed().as_secs_f64() * 1000.0, "batch ran");
        if answers.len() != replies.len() {
            tracing::error!(requests = replies.len(), answers = answers.len(), "a batch left requests unanswered");
        }
        for (reply, answer) in replies.into_iter().zip(answers) {
            // The caller may have gone (its connection dropped): nothing to tell it.
            let _ = reply.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_burst_shares_batches_and_each_caller_gets_its_own_answer() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let batcher = Arc::new(Batcher::start(1, 64, move |xs: Vec<u32>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                xs.into_iter().map(|x| x * 10).collect::<Vec<_>>()
            }
        }));
        let calls: Vec<_> = (0..200u32)
            .map(|i| {
                let b = batcher.clone();
                tokio::spawn(async move { (i, b.call(i).await) })
            })
            .collect();
        for call in calls {
            let (i, answer) = call.await.unwrap();
            assert_eq!(answer, Some(i * 10));
        }
        let n = batches.load(Ordering::SeqCst);
        assert!((200 / 64..200).contains(&n), "200 calls in {n} batches");
    }

    #[tokio::test]
    async fn a_missing_answer_is_none_not_a_hang() {
        let batcher = Batcher::start(1, 8, |_: Vec<u32>| async { Vec::<u32>::new() });
        assert_eq!(batcher.call(1).await, None);
        assert_eq!(batcher.call(2).await, None, "the worker goes on after an incomplete batch");
    }
}
