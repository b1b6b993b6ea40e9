package redisstate

// LoadTurns reports the load pipelines sent so far by every batcher of
// the process and the loads they carried.
func LoadTurns() (turns, loads uint64) { return turnsSent.Load(), loadsSent.Load() }
