//! A just-opened model's first events wait until the client has taken in the open response.
//!
//! rc.12 registers a model it opened a few microtasks after the open response arrives, while
//! it hands normal messages to its services one microtask after they arrive. A runtime that
//! delivers several WebSocket messages of one network read in one task (Node's `ws` does by
//! default) therefore dispatches a `remoteOperation` read together with the open response
//! before the model is registered: the client drops it ("Received a message for a model that
//! is not open") and fails the version check on the next one, closing the model.
//!
//! So the server sends a ping right behind the open response and holds the model's events
//! until the client's pong for it comes back. The client answers a ping in the same task that
//! reads it, so by the time the pong arrives, that task (and the microtasks that register the
//! model) has finished, and what is sent afterwards reaches the client in a later read. A
//! client message naming the resource proves the same; a client that never answers pings gets
//! the events after [`OVERDUE`].
//!
//! An activity join has the same race (rc.12 learns the resource id a few microtasks after the
//! join response), so a joined activity's events wait behind the same [`Held`] barrier.

use super::*;

/// How long a just-introduced resource's events wait for the client's pong at the most.
const OVERDUE: Duration = Duration::from_secs(2);

/// Events of a resource (a just-opened model, a just-joined activity) held until the client
/// has taken in the response that introduced it.
pub(super) struct Held<E> {
    /// The number of pongs that answers the ping sent behind the response.
    pong: u64,
    since: Instant,
    events: VecDeque<E>,
}

impl<E> Held<E> {
    /// Holds one more event; gives the number held.
    pub(super) fn push(&mut self, event: E) -> usize {
        self.events.push_back(event);
        self.events.len()
    }

    /// Whether the client's pongs so far answer the ping behind the response.
    fn answered(&self, pongs: u64) -> bool {
        self.pong <= pongs
    }

    /// Whether the events waited longer than [`OVERDUE`].
    fn overdue(&self) -> bool {
        self.since.elapsed() >= OVERDUE
    }

    /// Whether the events may flow: the pong came back or the wait is over.
    pub(super) fn due(&self, pongs: u64) -> bool {
        self.answered(pongs) || self.overdue()
    }

    /// The held events, oldest first.
    pub(super) fn into_events(self) -> VecDeque<E> {
        self.events
    }
}

/// A just-opened model's held events.
pub(super) type OpenBarrier = Held<ModelEvent>;

impl Conn {
    /// Sends a ping, counted so that its pong can be recognised; gives its number.
    pub(super) fn send_ping(&mut self) -> u64 {
        let queued = self.queued.load(std::sync::atomic::Ordering::Relaxed);
        let number = self.heartbeat.ping(queued);
        self.send(codec::normal(Body::Ping(pc::PingMessage {})));
        number
    }

    /// Pings the client right behind a response that introduces a resource: the barrier its
    /// first events (`events` already, if any) wait behind.
    pub(super) fn ping_barrier<E>(&mut self, events: VecDeque<E>) -> Held<E> {
        let pong = self.send_ping();
        Held {
            pong,
            since: Instant::now(),
            events,
        }
    }

    /// Pings the client right behind an open response: the barrier the model's first events
    /// wait behind.
    pub(super) fn open_barrier(&mut self, resource: i32) -> OpenBarrier {
        self.barriers.push(resource);
        self.ping_barrier(VecDeque::new())
    }

    /// Holds `event` while `resource` waits for its pong; gives it back when it does not.
    pub(super) fn hold_until_pong(
        &mut self,
        resource: i32,
        event: ModelEvent,
    ) -> Option<ModelEvent> {
        if self.barriers.is_empty() {
            return Some(event);
        }
        let Some(barrier) = self
            .resources
            .get_mut(&resource)
            .and_then(|r| r.barrier.as_mut())
        else {
            return Some(event);
        };
        if barrier.push(event) > MAX_HELD {
            self.drop_resource(
                resource,
                ForceCloseReason::Unknown,
                "the client did not take in the open response",
            );
        }
        None
    }

    /// Notes a pong and sends the events of every resource whose barrier it answers.
    pub(super) fn pong_received(&mut self) {
        let pongs = self.heartbeat.pong();
        self.lift_barriers(|b| b.answered(pongs));
        self.lift_activity_barriers();
    }

    /// Sends the held events of resources that waited longer than [`OVERDUE`].
    pub(super) fn lift_overdue_barriers(&mut self) {
        self.lift_barriers(Held::overdue);
    }

    /// The client named `resource`, so it has registered the model: its events may flow.
    pub(super) fn lift_barrier(&mut self, resource: i32) {
        if self.barriers.is_empty() {
            return;
        }
        self.barriers.retain(|&r| r != resource);
        let Some(barrier) = self
            .resources
            .get_mut(&resource)
            .and_then(|r| r.barrier.take())
        else {
            return;
        };
        for event in barrier.into_events() {
            self.handle_model_event(event);
        }
    }

    fn lift_barriers(&mut self, due: impl Fn(&OpenBarrier) -> bool) {
        if self.barriers.is_empty() {
            return;
        }
        // Resources closed meanwhile are forgotten; the others lift in the order they opened.
        let resources = &self.resources;
        self.barriers
            .retain(|r| resources.get(r).is_some_and(|r| r.barrier.is_some()));
        let lifted: Vec<i32> = self
            .barriers
            .iter()
            .copied()
            .filter(|r| {
                resources
                    .get(r)
                    .and_then(|r| r.barrier.as_ref())
                    .is_some_and(&due)
            })
            .collect();
        for resource in lifted {
            self.lift_barrier(resource);
        }
    }
}
