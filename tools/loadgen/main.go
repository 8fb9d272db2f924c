// loadgen is an open-loop HTTP load generator for the benchmarks and reliability tests.
//
// It sends requests at a fixed rate regardless of how fast answers come back (open loop, so a stall
// shows up as failures and latency instead of silently lowering the rate), counts every error and
// timeout, measures latency from the moment a request was due (no coordinated omission), and
// reports the longest window during which every request failed.
//
//	loadgen -url http://127.0.0.1:6767/accounts/10000 -rate 100 -duration 20s
//
// It prints one JSON object on stdout. Traffic only goes where -url points; the benchmarks point
// it at loopback or at lab hosts in network namespaces of our own.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type result struct {
	due     time.Duration // when the request was scheduled, relative to start
	latency time.Duration // from due to complete answer
	ok      bool
	errKind string
	body    string
}

// Report is what loadgen prints.
type Report struct {
	URL              string         `json:"url"`
	Rate             int            `json:"rate"`
	DurationSeconds  float64        `json:"durationSeconds"`
	Sent             int            `json:"sent"`
	OK               int            `json:"ok"`
	Failed           int            `json:"failed"`
	Errors           map[string]int `json:"errors"`
	LongestOutageMs  float64        `json:"longestOutageMs"`
	FirstFailureMs   *float64       `json:"firstFailureMs,omitempty"`
	LatencyMeanMs    float64        `json:"latencyMeanMs"`
	LatencyP50Ms     float64        `json:"latencyP50Ms"`
	LatencyP99Ms     float64        `json:"latencyP99Ms"`
	LatencyMaxMs     float64        `json:"latencyMaxMs"`
	Bodies           map[string]int `json:"bodies,omitempty"`
	AchievedRatePerS float64        `json:"achievedRatePerS"`
}

func main() {
	url := flag.String("url", "", "URL to GET (required)")
	rate := flag.Int("rate", 100, "requests per second (fixed, open loop)")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	timeout := flag.Duration("timeout", 2*time.Second, "per-request timeout; a timeout counts as a failure")
	bodies := flag.Bool("bodies", false, "count distinct response bodies (to see versions change)")
	stopFile := flag.String("stop-file", "", "stop early when this file exists")
	flag.Parse()
	if *url == "" || *rate <= 0 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "usage: loadgen -url URL [-rate N] [-duration D] [-timeout D] [-bodies]")
		os.Exit(2)
	}
	if *duration > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "loadgen: -duration is capped at 10m")
		os.Exit(2)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	transport := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	client := &http.Client{Timeout: *timeout, Transport: transport}
	results := run(ctx, client, *url, *rate, *duration, *bodies, *stopFile)
	rep := summarize(results, *url, *rate)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}

func run(ctx context.Context, client *http.Client, url string, rate int, duration time.Duration, keepBodies bool, stopFile string) []result {
	interval := time.Second / time.Duration(rate)
	total := int(duration / interval)
	results := make([]result, 0, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()

	for i := 0; i < total; i++ {
		due := time.Duration(i) * interval
		if wait := time.Until(start.Add(due)); wait > 0 {
			select {
			case <-ctx.Done():
				i = total
				continue
			case <-time.After(wait):
			}
		}
		if stopFile != "" && i%rate == 0 {
			if _, err := os.Stat(stopFile); err == nil {
				break
			}
		}
		wg.Add(1)
		go func(due time.Duration) {
			defer wg.Done()
			r := result{due: due}
			resp, err := client.Get(url)
			if err != nil {
				r.errKind = classify(err)
			} else {
				b, readErr := io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
				switch {
				case readErr != nil:
					r.errKind = "read: " + classify(readErr)
				case resp.StatusCode >= 200 && resp.StatusCode < 300:
					r.ok = true
				default:
					r.errKind = fmt.Sprintf("HTTP %d", resp.StatusCode)
				}
				if keepBodies {
					r.body = strings.TrimSpace(string(b))
				}
			}
			r.latency = time.Since(start) - due
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}(due)
	}
	wg.Wait()
	return results
}

func classify(err error) string {
	s := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "Client.Timeout", "EOF", "no route to host", "i/o timeout"} {
		if strings.Contains(s, k) {
			if k == "Client.Timeout" || k == "i/o timeout" {
				return "timeout"
			}
			return k
		}
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(results []result, url string, rate int) Report {
	sort.Slice(results, func(i, j int) bool { return results[i].due < results[j].due })
	rep := Report{URL: url, Rate: rate, Sent: len(results), Errors: map[string]int{}}
	var lat []time.Duration
	var sum time.Duration
	var outageStart time.Duration
	inOutage := false
	for _, r := range results {
		if r.ok {
			rep.OK++
			lat = append(lat, r.latency)
			sum += r.latency
			if inOutage {
				if w := ms(r.due - outageStart); w > rep.LongestOutageMs {
					rep.LongestOutageMs = w
				}
				inOutage = false
			}
		} else {
			rep.Failed++
			rep.Errors[r.errKind]++
			if rep.FirstFailureMs == nil {
				v := ms(r.due)
				rep.FirstFailureMs = &v
			}
			if !inOutage {
				inOutage = true
				outageStart = r.due
			}
		}
		if r.body != "" {
			if rep.Bodies == nil {
				rep.Bodies = map[string]int{}
			}
			rep.Bodies[r.body]++
		}
	}
	if inOutage && len(results) > 0 {
		if w := ms(results[len(results)-1].due - outageStart + time.Second/time.Duration(rate)); w > rep.LongestOutageMs {
			rep.LongestOutageMs = w
		}
	}
	if len(results) > 0 {
		rep.DurationSeconds = (results[len(results)-1].due + time.Second/time.Duration(rate)).Seconds()
		rep.AchievedRatePerS = float64(len(results)) / rep.DurationSeconds
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		rep.LatencyMeanMs = ms(sum / time.Duration(len(lat)))
		rep.LatencyP50Ms = ms(lat[len(lat)*50/100])
		rep.LatencyP99Ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
		rep.LatencyMaxMs = ms(lat[len(lat)-1])
	}
	return rep
}
