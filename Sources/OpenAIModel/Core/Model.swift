import COpenAIModel
import Glibc

/// The object behind an om_model handle.
final class Model: @unchecked Sendable {
    let config: Config
    let client: HTTPClient
    let dialogue: DialogueStore
    /// Error state per calling thread.
    private let threads = Locked<[UInt: ThreadState]>([:])
    /// State shared by the handle's calls.
    let shared: Locked<SharedState>

    init(config: Config) throws(OMError) {
        self.config = config
        client = try HTTPClient(config: config)
        dialogue = DialogueStore(config: config)
        shared = Locked(SharedState(tokenParam: config.tokenLimitParam,
                                   pendingAssistantID: config.assistantID))
    }

    var log: Logger { config.logger }

    /// Starts a call from the current thread: resets the thread's error
    /// state and takes a cancellation token.
    func beginCall() -> Call {
        let tid = Sys.threadID()
        var isNew = false
        let st = threads.withLock { map -> ThreadState in
            if let s = map[tid] { return s }
            let s = ThreadState()
            map[tid] = s
            isNew = true
            return s
        }
        if isNew { ThreadHandles.note(self) }
        st.reset()
        return Call(cancel: client.cancelSource.token(), log: config.logger, state: st)
    }

    /// The current thread's error state, if it made a call on this handle.
    func threadState() -> ThreadState? {
        let tid = Sys.threadID()
        return threads.withLock { $0[tid] }
    }

    /// Drops a thread's error state (the thread has ended).
    func forgetThread(_ tid: UInt) {
        _ = threads.withLock { $0.removeValue(forKey: tid) }
    }

    func cancel() {
        client.cancelSource.cancel()
        client.pool.wakeAll()
    }
}

/// The handles that keep error state for the calling thread, so that the
/// state goes when the thread ends: without it a long-lived handle would keep
/// an entry for every thread that ever called it (thread pools replace their
/// workers; some hosts start a thread per request). Reached through a
/// pthread key, so only its own thread touches it; the handles are held
/// weakly, and a handle freed first is simply skipped.
final class ThreadHandles {
    private struct Ref { weak var model: Model? }
    private var refs: [ObjectIdentifier: Ref] = [:]

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in
            guard let p else { return }
            Unmanaged<ThreadHandles>.fromOpaque(p).takeRetainedValue().threadEnded()
        }
        return k
    }()

    /// Notes that `model` now keeps error state for the calling thread.
    static func note(_ model: Model) {
        let me: ThreadHandles
        if let p = pthread_getspecific(key) {
            me = Unmanaged<ThreadHandles>.fromOpaque(p).takeUnretainedValue()
        } else {
            me = ThreadHandles()
            let p = Unmanaged.passRetained(me).toOpaque()
            guard pthread_setspecific(key, p) == 0 else {
                Unmanaged<ThreadHandles>.fromOpaque(p).release()
                return
            }
        }
        // A thread that outlives many handles: drop the freed ones now and then.
        if me.refs.count >= 16 { me.refs = me.refs.filter { $0.value.model != nil } }
        me.refs[ObjectIdentifier(model)] = Ref(model: model)
    }

    private func threadEnded() {
        let tid = Sys.threadID()
        for r in refs.values { r.model?.forgetThread(tid) }
    }
}

/// Mutable state of a handle, guarded by its lock.
struct SharedState {
    /// "max_completion_tokens" or "max_tokens": what this server accepts.
    var tokenParam: String
    /// Applied on first use (creation makes no network call).
    var pendingAssistantID: String?
    var assistant: AssistantState? = nil
    var currentJobID: String? = nil
}

/// The assistant made current by om_set_assistant.
struct AssistantState: Sendable {
    var id: String
    var name: String?
    var instructions: String?
    var model: String?
}

/// The live handles. A handle given to the host is the key of its entry;
/// the registry holds the strong reference. A call looks its handle up here,
/// so a stale or foreign pointer is refused instead of dereferenced, and a
/// handle freed while another thread still uses it stays alive until that
/// call ends.
///
/// Handle values are not addresses: they come from a counter and are never
/// given out twice, so a freed handle stays refused even after later
/// om_create calls (an address could be reused by the allocator for the next
/// handle, and the stale pointer would then reach someone else's handle).
enum Handles {
    private struct Registry {
        var live: [UInt: Model] = [:]
        /// The next handle value: a multiple of 16, so handles look like
        /// aligned pointers (hosts may keep them in pointer-typed fields).
        var next: UInt = 0x10_000
    }
    private static let registry = Locked(Registry())

    static func register(_ m: Model) -> OpaquePointer {
        registry.withLock { r -> OpaquePointer in
            while true {
                let k = r.next
                r.next &+= 16
                // 0 (after 2^60 handles) is not a pointer: skipped.
                if let p = OpaquePointer(bitPattern: k) {
                    r.live[k] = m
                    return p
                }
            }
        }
    }

    static func lookup(_ p: OpaquePointer?) -> Model? {
        guard let p else { return nil }
        let key = UInt(bitPattern: UnsafeRawPointer(p))
        return registry.withLock { $0.live[key] }
    }

    @discardableResult
    static func remove(_ p: OpaquePointer?) -> Model? {
        guard let p else { return nil }
        let key = UInt(bitPattern: UnsafeRawPointer(p))
        return registry.withLock { $0.live.removeValue(forKey: key) }
    }
}
