//! The way to an entity's owner task: one sender per running owner (an activity, a chat, a
//! domain's presence), an owner started on the first command, and a command that meets a
//! stopping owner handed to its successor. A cluster mode places owners on nodes here.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How often a command is offered to a fresh owner when the one it met had just stopped.
const ATTEMPTS: usize = 3;
/// How long [`Router::shutdown`] waits for one owner task to end.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The senders of the running owners of one kind of entity, by key.
pub(crate) struct Router<K, C> {
    owners: Mutex<HashMap<K, mpsc::UnboundedSender<C>>>,
    /// The owner tasks started and not yet seen finished; `None` once shut down.
    tasks: Mutex<Option<Vec<JoinHandle<()>>>>,
}

impl<K: Eq + Hash + Clone, C> Router<K, C> {
    /// A router with no owner running.
    pub(crate) fn new() -> Self {
        Router {
            owners: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Some(Vec::new())),
        }
    }

    /// Sends `command` to the owner of `key`. When it has none (or its owner just stopped),
    /// `start` is given the receiving end of a fresh owner's queue and must spawn that owner
    /// (an owner ends when its queue closes). False when the command could not be delivered,
    /// or the router was shut down.
    pub(crate) fn send(
        &self,
        key: &K,
        mut command: C,
        mut start: impl FnMut(mpsc::UnboundedReceiver<C>) -> JoinHandle<()>,
    ) -> bool {
        for _ in 0..ATTEMPTS {
            let tx = {
                let Ok(mut owners) = self.owners.lock() else {
                    return false;
                };
                match owners.get(key).filter(|tx| !tx.is_closed()) {
                    Some(tx) => tx.clone(),
                    None => {
                        let Ok(mut tasks) = self.tasks.lock() else {
                            return false;
                        };
                        let Some(tasks) = tasks.as_mut() else {
                            return false;
                        };
                        let (tx, rx) = mpsc::unbounded_channel();
                        tasks.retain(|t| !t.is_finished());
                        tasks.push(start(rx));
                        owners.insert(key.clone(), tx.clone());
                        tx
                    }
                }
            };
            match tx.send(command) {
                Ok(()) => return true,
                Err(mpsc::error::SendError(c)) => command = c,
            }
        }
        false
    }

    /// An idle owner of `key` asks to stop: it is forgotten unless commands wait in its queue
    /// `rx` (then it goes on and handles them). True when it may stop.
    pub(crate) fn forget(&self, key: &K, rx: &mpsc::UnboundedReceiver<C>) -> bool {
        let Ok(mut owners) = self.owners.lock() else {
            return true;
        };
        if !rx.is_empty() {
            return false;
        }
        owners.remove(key);
        true
    }

    /// The next command for the owner of `key` from its queue `rx`, or `None` when the owner
    /// should stop: its queue closed, or it was `idle` (holding nothing that needs it running)
    /// for `wait` and has been forgotten.
    pub(crate) async fn next(
        &self,
        key: &K,
        rx: &mut mpsc::UnboundedReceiver<C>,
        idle: bool,
        wait: std::time::Duration,
    ) -> Option<C> {
        if !idle {
            return rx.recv().await;
        }
        loop {
            match tokio::time::timeout(wait, rx.recv()).await {
                Ok(command) => return command,
                Err(_) if self.forget(key, rx) => return None,
                Err(_) => {}
            }
        }
    }

    /// Closes every owner's queue and waits until each owner task has ended (so whatever the
    /// owners held, the store included, is released); later commands are refused.
    pub(crate) async fn shutdown(&self) {
        let tasks = self.tasks.lock().ok().and_then(|mut t| t.take());
        if let Ok(mut owners) = self.owners.lock() {
            owners.clear();
        }
        for task in tasks.unwrap_or_default() {
            // An owner stuck past this is left to the runtime's own shutdown.
            let _ = tokio::time::timeout(SHUTDOWN_WAIT, task).await;
        }
    }

    /// Whether an owner of `key` is running.
    pub(crate) fn is_running(&self, key: &K) -> bool {
        self.owners
            .lock()
            .map(|o| o.contains_key(key))
            .unwrap_or(false)
    }

    /// The keys of the running owners that `keep` selects.
    pub(crate) fn running(&self, keep: impl Fn(&K) -> bool) -> Vec<K> {
        match self.owners.lock() {
            Ok(o) => o.keys().filter(|k| keep(k)).cloned().collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Closes a stopping owner's queue `rx` and hands each command still in it to `resend`, which
/// sends it on to the owner's successor.
pub(crate) fn hand_over<C>(rx: &mut mpsc::UnboundedReceiver<C>, mut resend: impl FnMut(C)) {
    rx.close();
    while let Ok(command) = rx.try_recv() {
        resend(command);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps a fresh owner's queue for the test to read; the owner task does nothing.
    fn park(
        queues: &mut Vec<mpsc::UnboundedReceiver<u32>>,
        rx: mpsc::UnboundedReceiver<u32>,
    ) -> JoinHandle<()> {
        queues.push(rx);
        tokio::spawn(async {})
    }

    #[tokio::test]
    async fn a_command_that_meets_a_stopped_owner_goes_to_a_fresh_one() {
        let router: Router<&str, u32> = Router::new();
        let mut queues = Vec::new();
        assert!(router.send(&"a", 1, |rx| park(&mut queues, rx)));
        assert_eq!(queues.len(), 1, "the first command starts an owner");
        assert!(router.send(&"a", 2, |rx| park(&mut queues, rx)));
        assert_eq!(queues.len(), 1, "the next one goes to the same owner");
        // The owner stops (its queue is dropped) without forgetting itself.
        let mut first = queues.remove(0);
        assert_eq!(first.try_recv().ok(), Some(1));
        assert_eq!(first.try_recv().ok(), Some(2));
        drop(first);
        assert!(router.send(&"a", 3, |rx| park(&mut queues, rx)));
        assert_eq!(queues.len(), 1, "a fresh owner was started");
        assert_eq!(queues[0].try_recv().ok(), Some(3));
    }

    #[tokio::test]
    async fn an_idle_owner_is_forgotten_only_with_an_empty_queue() {
        let router: Router<&str, u32> = Router::new();
        let mut queues = Vec::new();
        router.send(&"a", 1, |rx| park(&mut queues, rx));
        assert!(!router.forget(&"a", &queues[0]), "a command waits");
        assert!(router.is_running(&"a"));
        assert_eq!(queues[0].try_recv().ok(), Some(1));
        assert!(router.forget(&"a", &queues[0]));
        assert!(!router.is_running(&"a"));
        assert!(router.running(|_| true).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_owner_stops_after_the_wait_and_a_busy_one_keeps_waiting() {
        use std::time::Duration;
        let router: Router<&str, u32> = Router::new();
        let mut queues = Vec::new();
        router.send(&"a", 1, |rx| park(&mut queues, rx));
        let mut rx = queues.remove(0);
        let wait = Duration::from_secs(30);
        assert_eq!(router.next(&"a", &mut rx, true, wait).await, Some(1));
        assert_eq!(
            router.next(&"a", &mut rx, true, wait).await,
            None,
            "idle: forgotten"
        );
        assert!(!router.is_running(&"a"));

        router.send(&"b", 2, |rx| park(&mut queues, rx));
        let mut rx = queues.remove(0);
        assert_eq!(router.next(&"b", &mut rx, false, wait).await, Some(2));
        let busy = router.next(&"b", &mut rx, false, wait);
        assert!(
            tokio::time::timeout(wait * 4, busy).await.is_err(),
            "a busy owner is not stopped by the wait"
        );
        assert!(router.is_running(&"b"));
        let mut resent = Vec::new();
        router.send(&"b", 3, |_| unreachable!("b runs"));
        hand_over(&mut rx, |c| resent.push(c));
        assert_eq!(resent, [3], "what waited is handed on");
        assert!(rx.is_closed());
    }

    #[tokio::test]
    async fn shutdown_waits_for_the_owners_and_refuses_later_commands() {
        let router: Router<&str, u32> = Router::new();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let mut done_tx = Some(done_tx);
        router.send(&"a", 1, |mut rx| {
            let done = done_tx.take();
            tokio::spawn(async move {
                while rx.recv().await.is_some() {}
                if let Some(d) = done {
                    let _ = d.send(());
                }
            })
        });
        router.shutdown().await;
        assert!(
            done_rx.await.is_ok(),
            "the owner ran to its end before shutdown returned"
        );
        assert!(
            !router.send(&"a", 2, |_| tokio::spawn(async {})),
            "refused after shutdown"
        );
    }
}
