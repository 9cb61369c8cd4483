import COpenAIModel
import Glibc
import Synchronization

/// The object behind an om_model handle.
final class Model: @unchecked Sendable {
    let config: Config
    let client: HTTPClient
    let dialogue: DialogueStore
    /// Error state per calling thread.
    private let threads = Mutex<[UInt: ThreadState]>([:])
    /// State shared by the handle's calls.
    let shared: Mutex<SharedState>

    init(config: Config) throws(OMError) {
        self.config = config
        client = try HTTPClient(config: config)
        dialogue = DialogueStore(config: config)
        shared = Mutex(SharedState(tokenParam: config.tokenLimitParam,
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
enum Handles {
    private static let live = Mutex<[UInt: Model]>([:])

    static func register(_ m: Model) -> OpaquePointer {
        let p = Unmanaged.passUnretained(m).toOpaque()
        live.withLock { $0[UInt(bitPattern: p)] = m }
        return OpaquePointer(p)
    }

    static func lookup(_ p: OpaquePointer?) -> Model? {
        guard let p else { return nil }
        let key = UInt(bitPattern: UnsafeRawPointer(p))
        return live.withLock { $0[key] }
    }

    @discardableResult
    static func remove(_ p: OpaquePointer?) -> Model? {
        guard let p else { return nil }
        let key = UInt(bitPattern: UnsafeRawPointer(p))
        return live.withLock { $0.removeValue(forKey: key) }
    }
}
