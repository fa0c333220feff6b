import Mosquitto

/// Every MQTT message from `josev/cs` through the router, one at a time, in order. On the network
/// thread itself (`ContractRouter.answerAtOnce`) a message the gate refuses is settled as it
/// arrives, and a pure-read request that arrives while nothing is queued is answered; everything
/// else is handled here.
struct MessageIntake: Service {
    let client: MosquittoClient
    let router: ContractRouter

    func run() async {
        client.messages.handleAtOnce { [router] message, intakeIdle in
            router.answerAtOnce(topic: message.topic, payload: message.payload, retained: message.retain, intakeIdle: intakeIdle)
        }
        for await message in client.messages.cancelOnGracefulShutdown() {
            await router.handle(topic: message.topic, payload: message.payload, retained: message.retain)
        }
    }
}
