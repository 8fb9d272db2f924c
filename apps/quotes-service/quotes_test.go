package main

import (
	"errors"
	"net"
	"testing"
)

func TestParseStrength(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"4", 4, true},
		{"10", 10, true},
		{"11", 0, false},
		{"-1", 0, false},
		{"2.5", 0, false},
		{"four", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStrength(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStrength(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestQuotesAreComplete(t *testing.T) {
	if len(quotes) < 10 {
		t.Fatalf("only %d quotes", len(quotes))
	}
	seen := map[string]bool{}
	for i, q := range quotes {
		if q.Text == "" || q.Author == "" {
			t.Errorf("quote %d is incomplete: %+v", i, q)
		}
		if seen[q.Text] {
			t.Errorf("quote %d is a duplicate: %q", i, q.Text)
		}
		seen[q.Text] = true
	}
}

func TestBurnIsDeterministic(t *testing.T) {
	if burn(1) != burn(1) {
		t.Fatal("burn(1) differs between calls")
	}
	if burn(0) == burn(1) && burn(1) == burn(2) {
		t.Fatal("strength has no effect on the work done")
	}
}

func TestIPAddress(t *testing.T) {
	ipnet := func(s string) net.Addr { return &net.IPNet{IP: net.ParseIP(s), Mask: net.CIDRMask(24, 32)} }
	tests := []struct {
		name  string
		addrs []net.Addr
		err   error
		want  string
	}{
		{"skips loopback and IPv6", []net.Addr{ipnet("127.0.0.1"), ipnet("fe80::1"), ipnet("10.0.1.7")}, nil, "h/10.0.1.7"},
		{"only loopback", []net.Addr{ipnet("127.0.0.1")}, nil, "h/unknown"},
		{"error", nil, errors.New("boom"), "h/unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ipAddress("h", func() ([]net.Addr, error) { return tt.addrs, tt.err })
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkBurnStrength1(b *testing.B) {
	for i := 0; i < b.N; i++ {
		burn(1)
	}
}
