package main

import (
	"crypto/sha256"
	"errors"
	"net"
	"strconv"
)

// quote is one entry of the collection; language is always "en" (the tutorial's field).
type quote struct {
	Text   string `json:"quote"`
	Author string `json:"author"`
}

// quotes are public-domain lines; GET /api/quote serves one at random.
var quotes = []quote{
	{"The only way to do great work is to love what you do.", "Steve Jobs"},
	{"Simplicity is prerequisite for reliability.", "Edsger W. Dijkstra"},
	{"Premature optimization is the root of all evil.", "Donald Knuth"},
	{"Talk is cheap. Show me the code.", "Linus Torvalds"},
	{"Make it work, make it right, make it fast.", "Kent Beck"},
	{"Clear is better than clever.", "Rob Pike"},
	{"A little copying is better than a little dependency.", "Rob Pike"},
	{"Programs must be written for people to read, and only incidentally for machines to execute.", "Harold Abelson"},
	{"The best way to predict the future is to invent it.", "Alan Kay"},
	{"Everything should be made as simple as possible, but not simpler.", "Albert Einstein"},
	{"If debugging is the process of removing bugs, then programming must be the process of putting them in.", "Edsger W. Dijkstra"},
	{"Deleted code is debugged code.", "Jeff Sickel"},
}

// maxStrength bounds the CPU work one request may ask for (a step is about 8 ms of one core).
const maxStrength = 10

// hashesPerStrength is the sha256 rounds per strength step.
const hashesPerStrength = 100_000

var errStrength = errors.New("strength must be a whole number from 0 to " + strconv.Itoa(maxStrength))

// parseStrength reads ?strength=N: empty means 0.
func parseStrength(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxStrength {
		return 0, errStrength
	}
	return n, nil
}

// burn does strength steps of CPU work (chained sha256), like the tutorial's quotes service, so a
// load test can make the service busy. It returns the last digest byte so the work isn't optimised
// away.
func burn(strength int) byte {
	sum := sha256.Sum256([]byte("quotes-service"))
	for i := 0; i < strength*hashesPerStrength; i++ {
		sum = sha256.Sum256(sum[:])
	}
	return sum[0]
}

// ipAddress is "hostname/ip" of the first non-loopback IPv4 address, the tutorial's ipAddress
// field: it tells which task answered. "hostname/unknown" when there is none.
func ipAddress(host string, addrs func() ([]net.Addr, error)) string {
	list, err := addrs()
	if err == nil {
		for _, a := range list {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return host + "/" + ipn.IP.String()
			}
		}
	}
	return host + "/unknown"
}
