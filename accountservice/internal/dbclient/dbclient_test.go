package dbclient

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

func openTemp(t *testing.T) (*BoltClient, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "accounts.db")
	c, err := Open(path, time.Second)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, path
}

func TestSeedIsIdempotent(t *testing.T) {
	c, path := openTemp(t)
	for i := 0; i < 2; i++ {
		if err := c.Seed(100); err != nil {
			t.Fatalf("Seed #%d: %v", i+1, err)
		}
	}
	// Re-open the file, as a restarted container would, and seed again.
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c, err := Open(path, time.Second)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer c.Close()
	if err := c.Seed(100); err != nil {
		t.Fatalf("Seed after reopen: %v", err)
	}

	n, err := c.Count()
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	if n != 100 {
		t.Fatalf("Count = %d, want 100", n)
	}

	tests := []struct {
		id   string
		want Account
	}{
		{"10000", Account{ID: "10000", Name: "Person_0"}},
		{"10042", Account{ID: "10042", Name: "Person_42"}},
		{"10099", Account{ID: "10099", Name: "Person_99"}},
	}
	for _, tt := range tests {
		got, err := c.QueryAccount(tt.id)
		if err != nil {
			t.Errorf("QueryAccount(%q): %v", tt.id, err)
			continue
		}
		if got != tt.want {
			t.Errorf("QueryAccount(%q) = %+v, want %+v", tt.id, got, tt.want)
		}
	}
}

func TestQueryUnknown(t *testing.T) {
	c, _ := openTemp(t)
	// Before seeding the bucket does not exist yet.
	if _, err := c.QueryAccount("10000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unseeded: err = %v, want ErrNotFound", err)
	}
	if err := c.Seed(100); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"9999", "10100", "12345", ""} {
		if _, err := c.QueryAccount(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("QueryAccount(%q): err = %v, want ErrNotFound", id, err)
		}
	}
}

func TestCloseMarksNotOpen(t *testing.T) {
	c, _ := openTemp(t)
	if !c.IsOpen() {
		t.Fatal("IsOpen = false right after Open")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if c.IsOpen() {
		t.Fatal("IsOpen = true after Close")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.QueryAccount("10000"); err == nil {
		t.Fatal("QueryAccount on closed DB succeeded")
	}
}

func TestOpenLockedFileTimesOut(t *testing.T) {
	_, path := openTemp(t)
	// flock(2) locks belong to the open file description, so a second Open
	// in the same process conflicts just like another process would.
	_, err := Open(path, 100*time.Millisecond)
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Fatalf("second Open: err = %v, want berrors.ErrTimeout", err)
	}
}
