import CCurl
import Glibc
import Synchronization

/// Process-wide libcurl set-up, done once before the first handle.
enum CurlGlobal {
    /// curl_global_init runs exactly once (Swift runs a static initializer
    /// once, thread-safely). CURL_GLOBAL_ALL is SSL | WIN32 = 3.
    static let initialized: Bool = curl_global_init(3) == CURLE_OK

    static let versionText: String = {
        guard let p = curl_version() else { return "libcurl" }
        return String(cString: p)
    }()

    static let userAgent: String = {
        var ua = "libopenaimodel/1.0.0"
        if let info = curl_version_info(CURLVERSION_TENTH), let v = info.pointee.version {
            ua += " libcurl/" + String(cString: v)
        }
        return ua
    }()
}

/// A libcurl share object for DNS answers and TLS sessions, used by every
/// connection slot of a handle. (Connections themselves stay with each
/// slot's multi handle: libcurl does not support sharing live connections
/// between threads.)
final class CurlShare: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    /// One mutex per curl_lock_data value.
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    private static let lockCount = 8

    init() throws(OMError) {
        guard CurlGlobal.initialized else { throw .network("libcurl could not be initialized") }
        guard let sh = curl_share_init() else { throw .outOfMemory }
        handle = sh
        locks = .allocate(capacity: CurlShare.lockCount)
        for i in 0..<CurlShare.lockCount { pthread_mutex_init(locks + i, nil) }
        _ = omc_share_setopt_userdata(sh, UnsafeMutableRawPointer(locks))
        _ = omc_share_setopt_lock(sh) { _, data, _, user in
            guard let user else { return }
            let i = Int(data.rawValue)
            guard i >= 0 && i < CurlShare.lockCount else { return }
            pthread_mutex_lock(user.assumingMemoryBound(to: pthread_mutex_t.self) + i)
        }
        _ = omc_share_setopt_unlock(sh) { _, data, user in
            guard let user else { return }
            let i = Int(data.rawValue)
            guard i >= 0 && i < CurlShare.lockCount else { return }
            pthread_mutex_unlock(user.assumingMemoryBound(to: pthread_mutex_t.self) + i)
        }
        _ = omc_share_setopt_long(sh, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_DNS.rawValue))
        _ = omc_share_setopt_long(sh, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_SSL_SESSION.rawValue))
    }

    deinit {
        // Every slot holding this share is gone (they keep it alive), so the
        // cleanup succeeds. Should it not, the locks stay too: libcurl may
        // still call back into them.
        guard curl_share_cleanup(handle) == CURLSHE_OK else { return }
        for i in 0..<CurlShare.lockCount { pthread_mutex_destroy(locks + i) }
        locks.deallocate()
    }
}

/// One connection slot: an easy handle driven by its own multi handle, so
/// that a transfer can be waited on with curl_multi_poll and woken from any
/// thread (curl_multi_wakeup) by om_cancel. The multi handle keeps the
/// slot's live connections between calls (keep-alive).
final class Slot: @unchecked Sendable {
    let multi: UnsafeMutableRawPointer
    let easy: UnsafeMutableRawPointer
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The share object the easy handle was attached to. Held so that it
    /// outlives the easy handle: curl_easy_cleanup locks the share through
    /// its callbacks, and curl_share_cleanup refuses (and leaks) a share that
    /// easy handles still use. Stored properties are released after deinit's
    /// body, so the easy handle is gone first.
    var share: CurlShare?

    init() throws(OMError) {
        guard CurlGlobal.initialized else { throw .network("libcurl could not be initialized") }
        guard let m = curl_multi_init() else { throw .outOfMemory }
        guard let e = curl_easy_init() else { curl_multi_cleanup(m); throw .outOfMemory }
        multi = m
        easy = e
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    /// The header list of this slot's last plain request (no body or a JSON
    /// body, no extra lines), kept for the next request of the same kind;
    /// its idempotency key is rewritten in place (`keyDigits`). Only the
    /// call holding the slot touches it.
    var headerCache: (kind: Int, list: UnsafeMutablePointer<curl_slist>, keyDigits: UnsafeMutablePointer<UInt8>?)?

    /// The kind and settings of the plain request the easy handle is set up
    /// for (see runTransfer), or nil.
    var plainSetup: (kind: Int, settings: TransferSettings)?

    deinit {
        if let c = headerCache { curl_slist_free_all(c.list) }
        curl_easy_cleanup(easy)
        curl_multi_cleanup(multi)
        errorBuffer.deallocate()
    }

    /// Waits up to `ms` milliseconds or until woken by curl_multi_wakeup.
    func poll(ms: Int) {
        var n: Int32 = 0
        _ = curl_multi_poll(multi, nil, 0, Int32(clamping: max(ms, 0)), &n)
    }

    func wake() { _ = curl_multi_wakeup(multi) }

    var errorText: String {
        errorBuffer[Int(CURL_ERROR_SIZE)] = 0
        return String(cString: errorBuffer)
    }
}

/// The slots of one handle: a thread takes an idle slot (or a new one) for
/// the length of a call and gives it back, so calls from several threads
/// run in parallel and a thread's consecutive calls reuse one connection.
final class SlotPool: @unchecked Sendable {
    private struct State {
        var idle: [Slot] = []
        var busy: [ObjectIdentifier: Slot] = [:]
    }
    private let state = Locked(State())
    /// Idle slots kept for reuse beyond this are closed.
    private let maxIdle = 16

    func acquire() throws(OMError) -> Slot {
        if let s = state.withLock({ st -> Slot? in
            guard let s = st.idle.popLast() else { return nil }
            st.busy[ObjectIdentifier(s)] = s
            return s
        }) { return s }
        let s = try Slot()
        state.withLock { $0.busy[ObjectIdentifier(s)] = s }
        return s
    }

    func release(_ s: Slot) {
        let drop: Slot? = state.withLock { st in
            st.busy[ObjectIdentifier(s)] = nil
            if st.idle.count < maxIdle { st.idle.append(s); return nil }
            return s
        }
        _ = drop  // released outside the lock
    }

    /// Wakes every slot in use (their loops then notice a cancellation).
    func wakeAll() {
        state.withLock { st in
            for s in st.busy.values { s.wake() }
        }
    }
}

/// Cancellation: om_cancel bumps the generation; a call started before the
/// bump sees it and stops.
final class CancelSource: @unchecked Sendable {
    let generation = Atomic<UInt64>(0)
    func token() -> CancelToken { CancelToken(source: self, start: generation.load(ordering: .acquiring)) }
    func cancel() { generation.add(1, ordering: .releasing) }
}

struct CancelToken: @unchecked Sendable {
    let source: CancelSource
    let start: UInt64
    var isCancelled: Bool { source.generation.load(ordering: .acquiring) != start }
}
