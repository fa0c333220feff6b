import CMosquitto
import Glibc
import Testing

@testable import Mosquitto

@Suite struct BackoffTests {
    @Test func delaysDoubleFromTheInitialDelayAndAreCapped() {
        var backoff = Backoff(policy: ReconnectPolicy(initialDelay: .milliseconds(500), multiplier: 2, maximumDelay: .seconds(30)))
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<10).map { _ in backoff.nextDelay(using: &generator) }
        #expect(
            delays == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16),
                .seconds(30), .seconds(30), .seconds(30), .seconds(30),
            ])
        #expect(backoff.attempts == 10)
    }

    @Test func resetStartsAgainAtTheInitialDelay() {
        var backoff = Backoff(policy: .default)
        _ = backoff.nextDelay()
        _ = backoff.nextDelay()
        #expect(backoff.nextDelay() == .seconds(2))
        backoff.reset()
        #expect(backoff.attempts == 0)
        #expect(backoff.nextDelay() == .milliseconds(500))
        #expect(backoff.nextDelay() == .seconds(1))
    }

    @Test func defaultPolicy() {
        #expect(ReconnectPolicy.default.initialDelay == .milliseconds(500))
        #expect(ReconnectPolicy.default.multiplier == 2)
        #expect(ReconnectPolicy.default.maximumDelay == .seconds(30))
    }

    @Test func hugeAttemptCountsStayAtTheCap() {
        let backoff = Backoff(policy: ReconnectPolicy(initialDelay: .seconds(1), multiplier: 10, maximumDelay: .seconds(60)))
        #expect(backoff.baseDelay(forAttempt: 0) == .seconds(1))
        #expect(backoff.baseDelay(forAttempt: 1) == .seconds(10))
        #expect(backoff.baseDelay(forAttempt: 2) == .seconds(60))
        #expect(backoff.baseDelay(forAttempt: Int.max) == .seconds(60))
    }

    @Test func jitterOnlyShortensWithinItsFraction() {
        var backoff = Backoff(policy: ReconnectPolicy(initialDelay: .seconds(1), multiplier: 2, maximumDelay: .seconds(4), jitter: 0.25))
        var generator = SystemRandomNumberGenerator()
        for base in [1.0, 2.0, 4.0, 4.0, 4.0] {
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay <= .milliseconds(Int64(base * 1000)))
            #expect(delay >= .milliseconds(Int64(base * 750)))
        }
    }

    @Test func nonsenseParametersAreClamped() {
        var backoff = Backoff(policy: ReconnectPolicy(initialDelay: .seconds(2), multiplier: 0.5, maximumDelay: .seconds(1), jitter: 7))
        var generator = SystemRandomNumberGenerator()
        // Never above the cap, never negative, never growing below factor 1.
        for _ in 0..<5 {
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay <= .seconds(1))
            #expect(delay >= .zero)
        }
    }
}

@Suite struct ErrorMappingTests {
    @Test func connackNotAuthorisedCarriesTheLibraryText() {
        let error = MosquittoError.connack(5)
        #expect(error.kind == .notAuthorized)
        #expect(error.code == 5)
        #expect(error.message == String(cString: mosquitto_connack_string(5)))
        #expect(error.message.contains("not authorised"))
    }

    @Test func connackBadCredentialsAndOthers() {
        #expect(MosquittoError.connack(4).kind == .notAuthorized)
        #expect(MosquittoError.connack(2).kind == .connectionRefused)
        #expect(MosquittoError.connack(135).kind == .notAuthorized)
        #expect(MosquittoError.connack(135).message == String(cString: mosquitto_reason_string(135)))
    }

    @Test func libraryCodes() {
        #expect(MosquittoError.library(MOSQ_ERR_NO_CONN.rawValue).kind == .noConnection)
        #expect(MosquittoError.library(MOSQ_ERR_CONN_LOST.rawValue).kind == .connectionLost)
        #expect(MosquittoError.library(MOSQ_ERR_TLS.rawValue).kind == .tls)
        #expect(MosquittoError.library(MOSQ_ERR_INVAL.rawValue).kind == .invalidArgument)
        #expect(MosquittoError.library(MOSQ_ERR_PROTOCOL.rawValue).kind == .protocol)
        let errno = MosquittoError.library(MOSQ_ERR_ERRNO.rawValue, errno: ECONNREFUSED)
        #expect(errno.kind == .errno(ECONNREFUSED))
        #expect(errno.message == String(cString: strerror(ECONNREFUSED)))
        #expect(MosquittoError.library(MOSQ_ERR_TLS.rawValue).message == String(cString: mosquitto_strerror(MOSQ_ERR_TLS.rawValue)))
    }

    @Test func descriptionNamesContextMessageAndKind() {
        let error = MosquittoError.library(MOSQ_ERR_NO_CONN.rawValue, context: "publish")
        #expect(error.description.hasPrefix("publish: "))
        #expect(error.description.contains(error.message))
    }
}
