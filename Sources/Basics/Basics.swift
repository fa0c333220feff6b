// Basics: the small things every module of cs-companion needs once, without Foundation.
//
// - `DateTimeText`: the civil (proleptic Gregorian) calendar and ISO 8601 / RFC 3339 text: the
//   contract's date-times, OCPI's whole-second UTC times, tables, journal lines, command-line times.
// - `WallClock`: the wall clock in Unix milliseconds. `TimeSource` / `SystemTime`: "now" (wall and
//   monotonic) and sleeping, injected into components whose tests must not wait in real time.
//   `Duration.wholeMilliseconds` / `inSeconds`.
// - `UUIDText`: random (version 4) UUIDs.
// - `SystemFile`, `FileError`: POSIX file reading, status and atomic replacement.
// - `Locked`: a lock around a value.
// - `SocketPoller`: the poll thread the Modbus server and the control socket's accept run on.
//
// Which lock (the one rule): a value shared with a thread that Swift concurrency does not run
// — a C library's callback thread (libmosquitto, libcurl), the "servers" poll thread
// (`SocketPoller`), a `DedicatedThread`, a control connection's thread, a test helper's thread — or held across a
// blocking call (SQLite, file I/O, a child process), is guarded by `Locked` (a pthread mutex:
// ThreadSanitizer on Linux understands it, and it is the lock those threads' C code expects).
// Everything else — short critical sections touched only by Swift tasks, never held across a
// blocking call — uses `Synchronization.Mutex`.
