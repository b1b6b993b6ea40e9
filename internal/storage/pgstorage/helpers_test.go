package pgstorage_test

import (
	"errors"
	"strings"
)

func ptr[T any](v T) *T { return &v }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func countPrefix(m map[string]bool, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}
