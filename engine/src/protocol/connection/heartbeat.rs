//! The server's side of the protocol heartbeat: after [`ProtocolConfig::ping_interval`] of
//! incoming silence the server pings, and a client that sends nothing before the pong deadline
//! is taken for dead.
//!
//! A ping reaches the client behind every frame queued before it, in the server's queue and in
//! the socket buffers on both sides. A client busy working through a large backlog (a burst of
//! acknowledgements, a storm of remote operations) reads the ping only once it has handled all
//! of them, which can take far longer than the pong timeout while the client is perfectly
//! alive. So the deadline of a ping is the pong timeout plus a grace per frame the client may
//! not have taken in yet: every frame queued after the ping its last pong answered. A client
//! that keeps up has little ahead of each ping and is held to the plain timeout; a peer that is
//! gone while output is still being written for it is caught by the write timeout instead.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::ProtocolConfig;

/// Unanswered pings remembered for their frame counts; older ones are forgotten (their pongs
/// then prove nothing new, which only lengthens later deadlines).
const MAX_UNANSWERED: usize = 256;

/// What the heartbeat asks for at a tick.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Beat {
    /// Nothing to do.
    Fine,
    /// The client has been silent for the ping interval: ping it.
    PingNow,
    /// The pong deadline passed with nothing from the client.
    Dead,
}

/// Heartbeat state of one connection.
pub(super) struct Heartbeat {
    /// When the client last sent anything.
    last_in: Instant,
    /// The deadline of the outstanding heartbeat ping, if one is out.
    due: Option<Instant>,
    /// Pings sent and pongs received: the client answers each ping, in order.
    pings: u64,
    pongs: u64,
    /// Unanswered pings, oldest first: each one's number and the frames queued before it.
    unanswered: VecDeque<(u64, u64)>,
    /// Frames the client has provably taken in: those queued before the last ping it answered.
    taken_in: u64,
}

impl Heartbeat {
    /// A heartbeat whose client was last heard from at `now`.
    pub(super) fn new(now: Instant) -> Self {
        Heartbeat {
            last_in: now,
            due: None,
            pings: 0,
            pongs: 0,
            unanswered: VecDeque::new(),
            taken_in: 0,
        }
    }

    /// The client sent something: it is alive, and the silence starts again.
    pub(super) fn heard(&mut self, now: Instant) {
        self.last_in = now;
        self.due = None;
    }

    /// Notes a ping queued behind `queued` frames; gives its number.
    pub(super) fn ping(&mut self, queued: u64) -> u64 {
        self.pings += 1;
        if self.unanswered.len() == MAX_UNANSWERED {
            self.unanswered.pop_front();
        }
        self.unanswered.push_back((self.pings, queued));
        self.pings
    }

    /// Notes a pong (the answer to the oldest unanswered ping); gives the pongs so far.
    pub(super) fn pong(&mut self) -> u64 {
        self.pongs += 1;
        while let Some(&(number, queued)) = self.unanswered.front() {
            if number > self.pongs {
                break;
            }
            self.taken_in = self.taken_in.max(queued);
            self.unanswered.pop_front();
        }
        self.pongs
    }

    /// Pongs received so far.
    pub(super) fn pongs(&self) -> u64 {
        self.pongs
    }

    /// Starts the pong deadline for a ping about to be queued behind `queued` frames, unless
    /// one is already running.
    pub(super) fn arm(&mut self, now: Instant, queued: u64, config: &ProtocolConfig) {
        if self.due.is_none() {
            let ahead = queued.saturating_sub(self.taken_in);
            let grace = config
                .pong_grace_per_frame
                .saturating_mul(u32::try_from(ahead).unwrap_or(u32::MAX))
                .min(config.pong_grace_max);
            self.due = Some(now + config.pong_timeout + grace);
        }
    }

    /// What the heartbeat needs at `now`.
    pub(super) fn check(&self, now: Instant, config: &ProtocolConfig) -> Beat {
        match self.due {
            Some(due) if now > due => Beat::Dead,
            Some(_) => Beat::Fine,
            None if now.duration_since(self.last_in) > config.ping_interval => Beat::PingNow,
            None => Beat::Fine,
        }
    }
}

/// The grace a client gets per frame ahead of a ping by default: four times what the real
/// client needs per acknowledgement on a slow machine.
pub(super) const DEFAULT_GRACE_PER_FRAME: Duration = Duration::from_millis(1);

/// The most grace a ping's deadline gets by default.
pub(super) const DEFAULT_GRACE_MAX: Duration = Duration::from_secs(120);

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ProtocolConfig {
        ProtocolConfig {
            ping_interval: Duration::from_secs(10),
            pong_timeout: Duration::from_secs(10),
            pong_grace_per_frame: Duration::from_millis(1),
            pong_grace_max: Duration::from_secs(120),
            ..ProtocolConfig::default()
        }
    }

    #[test]
    fn a_silent_client_is_pinged_then_taken_for_dead_after_the_pong_timeout() {
        let cfg = config();
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0);
        assert_eq!(hb.check(t0 + Duration::from_secs(9), &cfg), Beat::Fine);
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(hb.check(t1, &cfg), Beat::PingNow);
        hb.arm(t1, 0, &cfg);
        hb.ping(0);
        assert_eq!(hb.check(t1 + Duration::from_secs(9), &cfg), Beat::Fine);
        assert_eq!(hb.check(t1 + Duration::from_secs(11), &cfg), Beat::Dead);
    }

    #[test]
    fn anything_heard_ends_the_wait_and_restarts_the_silence() {
        let cfg = config();
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0);
        let t1 = t0 + Duration::from_secs(11);
        hb.arm(t1, 0, &cfg);
        hb.ping(0);
        hb.heard(t1 + Duration::from_secs(5));
        assert_eq!(hb.check(t1 + Duration::from_secs(12), &cfg), Beat::Fine);
        assert_eq!(hb.check(t1 + Duration::from_secs(16), &cfg), Beat::PingNow);
    }

    #[test]
    fn a_client_with_a_backlog_gets_time_to_read_it_before_the_ping() {
        let cfg = config();
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0);
        // 50,000 acknowledgements queued since the connection began; none provably read.
        hb.arm(t0, 50_000, &cfg);
        hb.ping(50_000);
        assert_eq!(hb.check(t0 + Duration::from_secs(59), &cfg), Beat::Fine);
        assert_eq!(hb.check(t0 + Duration::from_secs(61), &cfg), Beat::Dead);
    }

    #[test]
    fn the_grace_counts_only_frames_after_the_last_answered_ping_and_is_capped() {
        let cfg = config();
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0);
        hb.ping(40_000);
        hb.ping(45_000);
        assert_eq!(hb.pong(), 1);
        hb.heard(t0);
        // The client has read the 40,000 frames before the first ping; 5,000 more are ahead.
        hb.arm(t0, 45_000, &cfg);
        hb.ping(45_000);
        assert_eq!(hb.check(t0 + Duration::from_secs(14), &cfg), Beat::Fine);
        assert_eq!(hb.check(t0 + Duration::from_secs(16), &cfg), Beat::Dead);

        let mut flood = Heartbeat::new(t0);
        flood.arm(t0, 10_000_000, &cfg);
        assert_eq!(flood.check(t0 + Duration::from_secs(129), &cfg), Beat::Fine);
        assert_eq!(flood.check(t0 + Duration::from_secs(131), &cfg), Beat::Dead);
    }

    #[test]
    fn a_running_deadline_is_not_moved_by_further_pings() {
        let cfg = config();
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0);
        hb.arm(t0, 0, &cfg);
        hb.ping(0);
        hb.arm(t0 + Duration::from_secs(5), 100_000, &cfg);
        assert_eq!(hb.check(t0 + Duration::from_secs(11), &cfg), Beat::Dead);
    }

    #[test]
    fn pongs_answer_pings_in_order_even_past_the_remembered_ones() {
        let mut hb = Heartbeat::new(Instant::now());
        for i in 0..(MAX_UNANSWERED as u64 + 10) {
            assert_eq!(hb.ping(i * 10), i + 1);
        }
        for _ in 0..10 {
            hb.pong();
        }
        assert_eq!(hb.taken_in, 0, "the forgotten pings prove nothing");
        hb.pong();
        assert_eq!(hb.taken_in, 100);
        assert_eq!(hb.pongs(), 11);
    }
}
