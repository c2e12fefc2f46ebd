// Shipped beside the generated tandem_uniffi.swift: a subscription as an AsyncSequence.

/// The events of a `Subscription`, in the order they happened. Iteration ends when the
/// subscription ends (unsubscribed, or the engine shut down).
public struct SubscriptionEvents: AsyncSequence {
    public typealias Element = Event

    let subscription: Subscription

    /// Reads the subscription's events one `next()` at a time.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: Subscription

        public mutating func next() async -> Event? {
            await subscription.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(subscription: subscription)
    }
}

extension Subscription {
    /// The subscription's events as an `AsyncSequence` (`for await event in sub.events()`).
    public func events() -> SubscriptionEvents {
        SubscriptionEvents(subscription: self)
    }
}
