import Mosquitto
import ServiceLifecycle

/// Every MQTT message from `josev/cs` through the router, one at a time, in order.
struct MessageIntake: Service {
    let client: MosquittoClient
    let router: ContractRouter

    func run() async {
        for await message in client.messages.cancelOnGracefulShutdown() {
            await router.handle(topic: message.topic, payload: message.payload, retained: message.retain)
        }
    }
}
