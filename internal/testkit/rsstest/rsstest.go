// Package rsstest measures the peak memory of code under test: it runs the
// test that calls [Run] again in a child process (the same test binary),
// where the victim runs alone, and checks the child's peak resident set
// size (VmHWM from /proc/self/status) against a bound.
//
// A victim that makes the child run out of memory or crash fails the
// parent test with the child's output, instead of killing the test binary.
// It is internal test infrastructure.
package rsstest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	childEnv   = "RAILYARD_RSSTEST_CHILD"
	peakPrefix = "RSSTEST_PEAK_BYTES="
)

// MiB is a mebibyte, for bounds.
const MiB = 1 << 20

// Run runs victim in a child process and fails t when the child fails,
// crashes, outlives timeout, or peaks above maxRSS bytes of resident memory.
// The victim gets the child's *testing.T: its assertions (for example that
// the error is the expected typed one) are the child's, and their failure
// fails the parent. It returns the child's peak RSS in bytes (0 in the
// child itself).
//
// Run must be called from the test function itself (or one of its
// subtests, named by t), not from a goroutine, and at most once per test.
// On systems without /proc it fails: the bound cannot be checked. Under
// the race detector (go test -race), whose shadow memory roughly triples
// a program's footprint (and slows it down), the bound and the timeout
// are multiplied by 4, and the test log says so: the victim still runs and
// its peak is still checked.
func Run(t *testing.T, maxRSS int64, timeout time.Duration, victim func(t *testing.T)) int64 {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		victim(t)
		peak, err := PeakRSS()
		if err != nil {
			t.Fatalf("rsstest: %v", err)
		}
		fmt.Printf("\n%s%d\n", peakPrefix, peak)
		return 0
	}
	if runtime.GOOS != "linux" {
		t.Fatalf("rsstest: peak RSS is read from /proc, which %s lacks", runtime.GOOS)
	}
	if raceScale != 1 {
		timeout *= raceScale // the race detector slows the victim down too
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+runPattern(t.Name()), "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("rsstest: child outlived %v:\n%s", timeout, tail(out))
	}
	if err != nil {
		t.Fatalf("rsstest: child failed (%v):\n%s", err, tail(out))
	}
	peak := int64(-1)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), peakPrefix); ok {
			peak, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if peak < 0 {
		t.Fatalf("rsstest: child reported no peak RSS (did the test run?):\n%s", tail(out))
	}
	if raceScale != 1 {
		t.Logf("rsstest: race detector on: bound %.0f MiB scaled by %d", float64(maxRSS)/MiB, raceScale)
		maxRSS *= raceScale
	}
	t.Logf("rsstest: peak RSS %.1f MiB (bound %.0f MiB)", float64(peak)/MiB, float64(maxRSS)/MiB)
	if peak > maxRSS {
		t.Errorf("rsstest: peak RSS %.1f MiB exceeds %.0f MiB", float64(peak)/MiB, float64(maxRSS)/MiB)
	}
	return peak
}

// PeakRSS returns this process's peak resident set size in bytes (VmHWM).
func PeakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/status: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmHWM line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("unexpected VmHWM line %q", line)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// runPattern anchors each element of a (sub)test name for -test.run.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func tail(out []byte) string {
	const n = 8 << 10
	if len(out) > n {
		out = append([]byte("…"), out[len(out)-n:]...)
	}
	return string(out)
}
