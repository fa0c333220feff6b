import CMalloc

/// glibc malloc settings for a daemon that must give memory back after a burst (issue 18).
enum MemoryPolicy {
    /// Blocks of 128 KiB and more (a large MQTT message, its copy, its parsed strings) are mapped
    /// and unmapped, so their memory returns to the system when freed. By default glibc raises this
    /// threshold after the first such block is freed, and from then on keeps large blocks in its
    /// heaps, where a burst leaves its high-water mark behind for good. Setting it also fixes the
    /// trim threshold: freed heap tops above 128 KiB are returned.
    static let mmapThreshold: Int32 = 128 * 1024

    static func apply() {
        _ = mallopt(M_MMAP_THRESHOLD, mmapThreshold)
    }
}
