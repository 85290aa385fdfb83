// Command trace is the reference side of tests/netns/go_diff_test.ts: it
// dials each scenario with Go's own net.Dialer under
// httptrace.WithClientTrace and prints one JSON event per line, so that the
// test can compare Go's hooks and error texts with nettrace's.
//
// Input (stdin): a JSON array of scenarios
//
//	{"id": "...", "network": "tcp", "address": "host:port",
//	 "timeoutMs": 0, "cancelled": false, "concurrent": 1}
//
// Output (stdout), per scenario and dial, in the order the hooks ran:
//
//	{"id": "...", "dial": 0, "hook": "dnsStart", "host": "..."}
//	{"id": "...", "dial": 0, "hook": "dnsDone", "addrs": [...], "coalesced": false, "err": null}
//	{"id": "...", "dial": 0, "hook": "connectStart", "network": "tcp", "addr": "..."}
//	{"id": "...", "dial": 0, "hook": "connectDone", "network": "tcp", "addr": "...", "err": "..."}
//	{"id": "...", "dial": 0, "hook": "result", "addr": "...", "err": null}
//
// "result" comes last for each dial, after the losers' connectDone (which
// Go may report after DialContext returned; the program waits up to 2 s for
// every ConnectStart to have its ConnectDone). Standard library only; it
// runs inside the namespace of scripts/netns.sh, whose resolv.conf names the
// namespace's own dnsmasq.
package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptrace"
	"os"
	"sync"
	"time"
)

type scenario struct {
	ID         string `json:"id"`
	Network    string `json:"network"`
	Address    string `json:"address"`
	TimeoutMs  int    `json:"timeoutMs"`
	Cancelled  bool   `json:"cancelled"`
	Concurrent int    `json:"concurrent"`
}

type event struct {
	ID        string   `json:"id"`
	Dial      int      `json:"dial"`
	Hook      string   `json:"hook"`
	Host      string   `json:"host,omitempty"`
	Addrs     []string `json:"addrs,omitempty"`
	Coalesced bool     `json:"coalesced"`
	Network   string   `json:"network,omitempty"`
	Addr      string   `json:"addr,omitempty"`
	Err       *string  `json:"err"`
}

func errText(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// recorder collects one dial's events; hooks may run on other goroutines.
type recorder struct {
	mu      sync.Mutex
	events  []event
	open    int
	settled chan struct{}
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	switch e.Hook {
	case "connectStart":
		r.open++
	case "connectDone":
		r.open--
		if r.open == 0 {
			select {
			case r.settled <- struct{}{}:
			default:
			}
		}
	}
}

func (r *recorder) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.open
}

func dial(s scenario, index int) []event {
	rec := &recorder{settled: make(chan struct{}, 1)}
	base := event{ID: s.ID, Dial: index}
	trace := &httptrace.ClientTrace{
		DNSStart: func(info httptrace.DNSStartInfo) {
			e := base
			e.Hook, e.Host = "dnsStart", info.Host
			rec.add(e)
		},
		DNSDone: func(info httptrace.DNSDoneInfo) {
			e := base
			e.Hook, e.Coalesced, e.Err = "dnsDone", info.Coalesced, errText(info.Err)
			e.Addrs = []string{}
			for _, a := range info.Addrs {
				e.Addrs = append(e.Addrs, a.String())
			}
			rec.add(e)
		},
		ConnectStart: func(network, addr string) {
			e := base
			e.Hook, e.Network, e.Addr = "connectStart", network, addr
			rec.add(e)
		},
		ConnectDone: func(network, addr string, err error) {
			e := base
			e.Hook, e.Network, e.Addr, e.Err = "connectDone", network, addr, errText(err)
			rec.add(e)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if s.Cancelled {
		cancel()
	}
	ctx = httptrace.WithClientTrace(ctx, trace)
	d := net.Dialer{Timeout: time.Duration(s.TimeoutMs) * time.Millisecond}
	conn, err := d.DialContext(ctx, s.Network, s.Address)
	result := base
	result.Hook, result.Err = "result", errText(err)
	if conn != nil {
		result.Addr = conn.RemoteAddr().String()
		conn.Close()
	}
	if rec.pending() > 0 {
		select {
		case <-rec.settled:
		case <-time.After(2 * time.Second):
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append(rec.events, result)
}

func main() {
	var scenarios []scenario
	if err := json.NewDecoder(os.Stdin).Decode(&scenarios); err != nil {
		os.Stderr.WriteString("trace: reading scenarios: " + err.Error() + "\n")
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for _, s := range scenarios {
		n := s.Concurrent
		if n < 1 {
			n = 1
		}
		results := make([][]event, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = dial(s, i)
			}(i)
		}
		wg.Wait()
		for _, events := range results {
			for _, e := range events {
				if err := out.Encode(e); err != nil {
					os.Exit(1)
				}
			}
		}
	}
}
