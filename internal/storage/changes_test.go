package storage

import (
	"errors"
	"testing"
	"time"
)

func TestTicksAreDotNetTicks(t *testing.T) {
	if got := Ticks(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)); got != 0 {
		t.Fatalf("0001-01-01: %d ticks, want 0", got)
	}
	if got := Ticks(time.Unix(0, 0)); got != 621355968000000000 {
		t.Fatalf("Unix epoch: %d ticks", got)
	}
	// 2024-01-02T03:04:05.1234567Z (computed independently: days since
	// 0001-01-01 × 864000000000 + the time of day in ticks).
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456700, time.UTC)
	if got := Ticks(at); got != 638397614451234567 {
		t.Fatalf("%v: %d ticks", at, got)
	}
	if back := FromTicks(Ticks(at)); !back.Equal(at) {
		t.Fatalf("FromTicks(Ticks(%v)) = %v", at, back)
	}
}

func TestChangeTokensRoundTrip(t *testing.T) {
	tok := ChangeToken{ListID: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", Time: time.Date(2025, 6, 1, 12, 0, 0, 1000, time.UTC), Number: 42}
	s := tok.String()
	if want := "1;3;0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0;638843760000000010;42"; s != want {
		t.Fatalf("String: %q, want %q", s, want)
	}
	back, err := ParseChangeToken(s)
	if err != nil {
		t.Fatal(err)
	}
	if back.ListID != "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" || back.Number != 42 || !back.Time.Equal(tok.Time) {
		t.Fatalf("parsed %+v", back)
	}
	// Braces around the id, as some clients send it, are accepted.
	if _, err := ParseChangeToken("1;3;{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0};0;0"); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedChangeTokensAreRefused(t *testing.T) {
	const id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	for _, s := range []string{
		"", "1;3;" + id + ";1", "1;3;" + id + ";1;2;3", "2;3;" + id + ";1;2", "1;2;" + id + ";1;2",
		"1;3;not-a-guid;1;2", "1;3;" + id + ";x;2", "1;3;" + id + ";-1;2", "1;3;" + id + ";1;-2", "1;3;" + id + ";1;2.5",
	} {
		if _, err := ParseChangeToken(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v; want ErrInvalid", s, err)
		}
	}
}

func TestSubscriptionLimits(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := Subscription{NotificationURL: "https://example.com/hook", ExpirationDateTime: now.Add(MaxSubscriptionLifetime)}
	if err := CheckSubscription(&ok, now); err != nil {
		t.Fatalf("180 days: %v", err)
	}
	for name, s := range map[string]Subscription{
		"past":       {NotificationURL: "https://x", ExpirationDateTime: now},
		"181 days":   {NotificationURL: "https://x", ExpirationDateTime: now.Add(MaxSubscriptionLifetime + time.Second)},
		"no URL":     {ExpirationDateTime: now.Add(time.Hour)},
		"long URL":   {NotificationURL: "https://x/" + string(make([]byte, 2048)), ExpirationDateTime: now.Add(time.Hour)},
		"long state": {NotificationURL: "https://x", ClientState: string(make([]byte, 256)), ExpirationDateTime: now.Add(time.Hour)},
	} {
		if err := CheckSubscription(&s, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", name, err)
		}
	}
}
