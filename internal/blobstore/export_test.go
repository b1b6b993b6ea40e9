package blobstore

// SetSweepBatch sets how many keys Sweep asks about at once until the
// test ends.
func SetSweepBatch(n int) (restore func()) {
	old := sweepBatch
	sweepBatch = n
	return func() { sweepBatch = old }
}
