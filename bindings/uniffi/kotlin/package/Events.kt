// Shipped in tandem.jar beside the generated bindings: a subscription as a kotlinx Flow.
package uniffi.tandem_uniffi

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow

/**
 * The subscription's events as a [Flow], in the order they happened. The flow completes when
 * the subscription ends (unsubscribed elsewhere, or the engine shut down). The flow owns the
 * subscription: when collection stops, early (`take(n)`, `first { }`, cancellation) or at the
 * end, the subscription is unsubscribed, so collect it once.
 */
fun Subscription.events(): Flow<Event> = flow {
    try {
        while (true) {
            emit(next() ?: break)
        }
    } finally {
        unsubscribe()
    }
}
