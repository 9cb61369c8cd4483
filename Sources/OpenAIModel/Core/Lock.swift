import Glibc

/// A value guarded by a pthread mutex: `withLock` gives exclusive access.
///
/// The library uses this rather than Synchronization's `Mutex` because the
/// latter locks through a futex word inside the (uninstrumented) Swift
/// runtime on Linux, which ThreadSanitizer cannot see: every access under it
/// looked like a race, so `make sanitize` could not check the library's
/// threading at all. pthread mutexes are intercepted by the sanitizers.
final class Locked<State>: @unchecked Sendable {
    private var state: State
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
