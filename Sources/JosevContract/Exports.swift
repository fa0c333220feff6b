// The contract's date-times (`DateTimeText`), message ids and file reading live in Basics; code
// that speaks the contract sees them with `import JosevContract`.
@_exported import Basics
