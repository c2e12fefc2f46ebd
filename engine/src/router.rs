//! The way to an entity's owner task: one sender per running owner (an activity, a chat, a
//! domain's presence), an owner started on the first command, and a command that meets a
//! stopping owner handed to its successor. A cluster mode places owners on nodes here.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use tokio::sync::mpsc;

/// How often a command is offered to a fresh owner when the one it met had just stopped.
const ATTEMPTS: usize = 3;

/// The senders of the running owners of one kind of entity, by key.
pub(crate) struct Router<K, C> {
    owners: Mutex<HashMap<K, mpsc::UnboundedSender<C>>>,
}

impl<K: Eq + Hash + Clone, C> Router<K, C> {
    /// A router with no owner running.
    pub(crate) fn new() -> Self {
        Router {
            owners: Mutex::new(HashMap::new()),
        }
    }

    /// Sends `command` to the owner of `key`. When it has none (or its owner just stopped),
    /// `start` is given the receiving end of a fresh owner's queue and must spawn that owner.
    /// False when the command could not be delivered.
    pub(crate) fn send(
        &self,
        key: &K,
        mut command: C,
        mut start: impl FnMut(mpsc::UnboundedReceiver<C>),
    ) -> bool {
        for _ in 0..ATTEMPTS {
            let tx = {
                let Ok(mut owners) = self.owners.lock() else {
                    return false;
                };
                match owners.get(key).filter(|tx| !tx.is_closed()) {
                    Some(tx) => tx.clone(),
                    None => {
                        let (tx, rx) = mpsc::unbounded_channel();
                        start(rx);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_that_meets_a_stopped_owner_goes_to_a_fresh_one() {
        let router: Router<&str, u32> = Router::new();
        let mut queues = Vec::new();
        assert!(router.send(&"a", 1, |rx| queues.push(rx)));
        assert_eq!(queues.len(), 1, "the first command starts an owner");
        assert!(router.send(&"a", 2, |rx| queues.push(rx)));
        assert_eq!(queues.len(), 1, "the next one goes to the same owner");
        // The owner stops (its queue is dropped) without forgetting itself.
        let mut first = queues.remove(0);
        assert_eq!(first.try_recv().ok(), Some(1));
        assert_eq!(first.try_recv().ok(), Some(2));
        drop(first);
        assert!(router.send(&"a", 3, |rx| queues.push(rx)));
        assert_eq!(queues.len(), 1, "a fresh owner was started");
        assert_eq!(queues[0].try_recv().ok(), Some(3));
    }

    #[tokio::test]
    async fn an_idle_owner_is_forgotten_only_with_an_empty_queue() {
        let router: Router<&str, u32> = Router::new();
        let mut queues = Vec::new();
        router.send(&"a", 1, |rx| queues.push(rx));
        assert!(!router.forget(&"a", &queues[0]), "a command waits");
        assert!(router.is_running(&"a"));
        assert_eq!(queues[0].try_recv().ok(), Some(1));
        assert!(router.forget(&"a", &queues[0]));
        assert!(!router.is_running(&"a"));
        assert!(router.running(|_| true).is_empty());
    }
}
