import Mosquitto
import ServiceLifecycle

/// Every MQTT message from `josev/cs` through the router, one at a time, in order. A pure-read
/// request that arrives while nothing is queued is answered on the network thread itself
/// (`ContractRouter.answerAtOnce`); everything else is handled here.
struct MessageIntake: Service {
    let client: MosquittoClient
    let router: ContractRouter

    func run() async {
        client.messages.handleAtOnce { [router] message in
            router.answerAtOnce(topic: message.topic, payload: message.payload, retained: message.retain)
        }
        for await message in client.messages.cancelOnGracefulShutdown() {
            await router.handle(topic: message.topic, payload: message.payload, retained: message.retain)
        }
    }
}
