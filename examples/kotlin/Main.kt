// A JVM host embedding Tandem through tandem.jar: opens a durable engine, serves the
// Convergence client, collects the domain's events as a Flow of typed events, counts a visit
// in a "welcome" model, and saves a model's JSON when its last session leaves.
// Run: ./run.sh (Ctrl-C to stop). TANDEM_ADDRESS and TANDEM_DATA_DIR override the defaults.
import java.io.File
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import uniffi.tandem_uniffi.*

fun main() = runBlocking {
    val engine = Engine(dataDir = System.getenv("TANDEM_DATA_DIR") ?: "tandem-kotlin-data")
    val domain = try {
        engine.createDomain("demo", "default", DomainSettings(anonymousAuth = true))
    } catch (e: TandemException.AlreadyExists) {
        engine.domain("demo", "default")
    }
    val subscription = domain.subscribe()
    Runtime.getRuntime().addShutdownHook(Thread { engine.shutdown() })

    val address = engine.listen(System.getenv("TANDEM_ADDRESS") ?: "127.0.0.1:8003")
    println("Convergence clients connect to ws://$address/realtime/demo/default")

    val printer = launch {
        subscription.events().collect { event ->
            when (event) {
                is Event.OperationApplied ->
                    println("event: ${event.model} is at version ${event.version} (by ${event.user.name}): ${event.operationJson}")
                is Event.LastSessionLeft -> {
                    File("${event.model}.json").writeText(domain.model(event.model).json())
                    println("saved ${event.model}.json")
                }
                is Event.UserConnected -> println("event: ${event.user.name} connected")
                else -> println("event: $event")
            }
        }
    }

    val welcome = try {
        domain.model("welcome")
    } catch (e: TandemException.NotFound) {
        domain.createModel("notes", """{"visits":0}""", id = "welcome")
    }
    val version = welcome.apply(listOf(Change.Add(listOf(PathSegment.Key("visits")), 1.0)))
    println("welcome is at version $version: ${welcome.json()}")
    printer.join() // until the engine shuts down (Ctrl-C)
}
