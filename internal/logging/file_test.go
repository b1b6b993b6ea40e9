package logging

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// The seed's File sink: log-.txt, rolled daily, seven files kept.
func TestFileSinkRollsDailyAndKeepsSeven(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spm") // created by the sink
	// Files that only look alike are never deleted.
	clock := fakeclock.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	f, err := NewSinks([]Sink{{Key: "Serilog:WriteTo:1", Name: SinkFile, Path: filepath.Join(dir, "log-.txt"),
		RollingInterval: "Day", RetainedFileCountLimit: 7}}, Options{Now: clock.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, other := range []string{"log-notes.txt", "log-2026.txt", "other-20250101.txt"} {
		if err := os.WriteFile(filepath.Join(dir, other), []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	log := f.Logger("Cesivi.Server")
	for day := 0; day < 9; day++ {
		log.Info("morning", "day", day)
		clock.Advance(12 * time.Hour)
		log.Info("evening", "day", day)
		clock.Advance(12 * time.Hour)
	}
	var logs []string
	for _, n := range listDir(t, dir) {
		if len(n) == len("log-20261201.txt") && strings.HasPrefix(n, "log-2026") {
			logs = append(logs, n)
		}
	}
	want := []string{"log-20261203.txt", "log-20261204.txt", "log-20261205.txt", "log-20261206.txt",
		"log-20261207.txt", "log-20261208.txt", "log-20261209.txt"}
	if !slices.Equal(logs, want) {
		t.Errorf("log files %v, want %v", logs, want)
	}
	for _, other := range []string{"log-notes.txt", "log-2026.txt", "other-20250101.txt"} {
		if _, err := os.Stat(filepath.Join(dir, other)); err != nil {
			t.Errorf("%s was deleted: %v", other, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "log-20261209.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Serilog's File default template (the timestamp is the record's, from
	// the real clock), both records of the day.
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " [INF] morning day=8") || !strings.HasSuffix(lines[1], " [INF] evening day=8") ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d \[`).MatchString(lines[0]) {
		t.Errorf("last file:\n%s", b)
	}
}

func TestFileSinkAppendsAcrossRestartsAndRollsByTheHour(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.New(time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC))
	sink := []Sink{{Name: SinkFile, Path: filepath.Join(dir, "cesivi.log"), RollingInterval: "Hour", RetainedFileCountLimit: 2,
		OutputTemplate: "{Message}{NewLine}"}}
	for _, msg := range []string{"first", "second"} {
		f, err := NewSinks(sink, Options{Now: clock.Now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.Logger("X").Info(msg)
		f.Close()
		f.Logger("X").Info("after close")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cesivi2026120108.log")); string(b) != "first\nsecond\n" {
		t.Errorf("a restart must append, and nothing is written after Close: %q", b)
	}
	f, err := NewSinks(sink, Options{Now: clock.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < 3; i++ {
		clock.Advance(time.Hour)
		f.Logger("X").Info("later")
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"cesivi2026120110.log", "cesivi2026120111.log"}) {
		t.Errorf("files %v", got)
	}
}

func TestFileSinkPathThatCannotBeWrittenIsAnError(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewSinks([]Sink{{Key: "Serilog:WriteTo:1", Name: SinkFile, Path: filepath.Join(blocker, "log-.txt"), RollingInterval: "Day"}},
		Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "Serilog:WriteTo:1") {
		t.Fatalf("error %v, want one naming the sink", err)
	}
}

func TestRollingFilePathPerInterval(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 5, 0, 0, time.UTC)
	for interval, want := range map[string]string{
		"Infinite": "l-.txt", "Year": "l-2026.txt", "Month": "l-202612.txt", "Day": "l-20261201.txt",
		"Hour": "l-2026120109.txt", "Minute": "l-202612010905.txt",
	} {
		if got := RollingFilePath("l-.txt", interval, at); got != want {
			t.Errorf("%s: %q, want %q", interval, got, want)
		}
	}
}

// Loggers on many goroutines while the day rolls: every line lands whole in
// some file, and the retention still holds (run with -race).
func TestFileSinkConcurrentWritersAcrossRolls(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.New(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	f, err := NewSinks([]Sink{{Name: SinkFile, Path: filepath.Join(dir, "log-.txt"), RollingInterval: "Day",
		RetainedFileCountLimit: 3, OutputTemplate: "{Message} {n}{NewLine}"}}, Options{Now: clock.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const writers, each = 4, 200
	done := make(chan struct{})
	for w := 0; w < writers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			log := f.Logger("X")
			for i := 0; i < each; i++ {
				log.Info("line", "n", i)
			}
		}()
	}
	for d := 0; d < 5; d++ {
		clock.Advance(24 * time.Hour)
	}
	for w := 0; w < writers; w++ {
		<-done
	}
	names := listDir(t, dir)
	if len(names) > 3 {
		t.Errorf("files %v, want at most 3", names)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			continue // opened, then rolled past before any write
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if !regexp.MustCompile(`^line \d+$`).MatchString(line) {
				t.Fatalf("%s has a torn line %q", n, line)
			}
		}
	}
}
