// The test helpers hand out `Locked` (from Basics) as they always did.
@_exported import Basics
