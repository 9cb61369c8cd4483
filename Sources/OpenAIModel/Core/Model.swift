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
        let st = threads.withLock { map -> ThreadState in
            if let s = map[tid] { return s }
            let s = ThreadState()
            map[tid] = s
            return s
        }
        st.reset()
        return Call(cancel: client.cancelSource.token(), log: config.logger, state: st)
    }

    /// The current thread's error state, if it made a call on this handle.
    func threadState() -> ThreadState? {
        let tid = Sys.threadID()
        return threads.withLock { $0[tid] }
    }

    func cancel() {
        client.cancelSource.cancel()
        client.pool.wakeAll()
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
