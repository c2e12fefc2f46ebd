// A JVM host embedding Tandem through the UniFFI binding: opens a durable engine, serves the
// Convergence client, prints events, and saves a model's JSON when its last session leaves.
// Run: ./run.sh (Ctrl-C to stop).
import uniffi.tandem_uniffi.*
import java.io.File

class Printer(private val engine: Engine) : EventListener {
    override fun onEvent(eventJson: String) {
        println("event: $eventJson")
        if (eventJson.contains("\"type\":\"last_session_left\"")) {
            val model = Regex("\"model\":\"([^\"]+)\"").find(eventJson)?.groupValues?.get(1) ?: return
            File("$model.json").writeText(engine.modelJson("demo", "default", model, null))
            println("saved $model.json")
        }
    }
}

fun main() {
    val engine = Engine("""{"data_dir": "tandem-kotlin-data"}""")
    try {
        engine.createDomain("demo", "default", true, true)
    } catch (e: TandemException.AlreadyExists) {
    }
    val address = engine.listen("127.0.0.1:8003", null)
    println("Convergence clients connect to ws://$address/realtime/demo/default")
    val subscription = engine.subscribe("demo", "default", null, Printer(engine))
    Runtime.getRuntime().addShutdownHook(Thread {
        subscription.close()
        engine.shutdown()
    })
    Thread.currentThread().join()
}
