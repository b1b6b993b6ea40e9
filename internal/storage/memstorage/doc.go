// Package memstorage is the InMemory storage provider: the whole content
// database in one process's memory, for a single development server and
// for tests. It passes storagetest.Exercise like every provider.
//
// Consistency: one read-write lock. Update holds it exclusively for the
// whole transaction (transactions are serial, so every read sees every
// committed write); View holds it shared. A transaction records an undo
// step for every change and replays them backwards when its function
// fails, so a failed request leaves nothing. Records are copied in and
// out: a caller never holds the store's own memory.
//
// Filters are evaluated with odata.Eval and ordered with
// storage.CompareValues, the semantics the PostgreSQL provider's SQL
// reproduces. Nothing survives the process.
package memstorage
