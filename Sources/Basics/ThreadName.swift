import CLinux

/// Names the calling thread (`/proc/<pid>/task/<tid>/comm`, top -H, gdb; at most 15 bytes). A
/// thread started with pthread_create otherwise inherits its creator's name: the control socket's
/// connection threads would all be called "servers".
public func nameCurrentThread(_ name: String) {
    _ = cs_name_current_thread(String(decoding: Array(name.utf8.prefix(15)), as: UTF8.self))
}
