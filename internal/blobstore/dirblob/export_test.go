package dirblob

// WithoutHardLinks makes s publish by rename, as on a file system
// without hard links.
func WithoutHardLinks(s *Store) *Store {
	s.noHardLinks = true
	return s
}

// AfterDeleteCheck runs fn in each Delete between its check of the
// blob's time and its move aside.
func AfterDeleteCheck(s *Store, fn func()) { s.afterDeleteCheck = fn }
