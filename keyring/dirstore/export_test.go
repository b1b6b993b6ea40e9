package dirstore

import "context"

// NewWithoutHardLinks opens dir as on a file system without hard links, so
// the tests run the exclusive-claim-and-rename fallback anywhere.
func NewWithoutHardLinks(dir string) (*Store, error) {
	s, err := New(dir)
	if err != nil {
		return nil, err
	}
	s.noHardLinks = true
	return s, nil
}

// Publish exposes publish to the tests.
func (s *Store) Publish(name string, data []byte) (bool, error) {
	return s.publish(context.Background(), name, data)
}

// SetAfterClaim makes the fallback run f between its claim and its rename,
// so a test can hold a claimer there.
func (s *Store) SetAfterClaim(f func()) { s.afterClaim = f }
