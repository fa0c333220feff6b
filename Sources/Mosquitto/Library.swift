import CMosquitto
import Glibc

/// libmosquitto's process-wide initialisation, done exactly once.
///
/// A global `let` is initialised lazily and atomically by the Swift runtime (`swift_once`), which
/// makes `mosquitto_lib_init` (not thread-safe itself) run once even when clients are created
/// concurrently. It is never balanced by `mosquitto_lib_cleanup`: the daemon keeps the library for
/// its whole life.
///
/// It also ignores SIGPIPE if the process still has the default disposition: OpenSSL writes to the
/// broker socket with `write(2)`, and a broker that vanishes mid-write must not kill the daemon. A
/// handler installed by the host process is left alone.
private let libraryInitialisation: Int32 = {
    var current = sigaction()
    if sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil,
        current.sa_flags & SA_SIGINFO == 0
    {
        _ = signal(SIGPIPE, SIG_IGN)
    }
    return mosquitto_lib_init()
}()

enum MosquittoLibrary {
    /// Runs `mosquitto_lib_init` on first use; throws its error if it failed.
    static func ensureInitialised() throws(MosquittoError) {
        let rc = libraryInitialisation
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            throw MosquittoError.library(rc, context: "mosquitto_lib_init")
        }
    }

    /// "major.minor.revision" of the libmosquitto the process runs with.
    static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var revision: Int32 = 0
        _ = mosquitto_lib_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}
