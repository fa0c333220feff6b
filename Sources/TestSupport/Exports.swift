// The test helpers hand out `Locked` (from Locking) as they always did.
@_exported import Locking
