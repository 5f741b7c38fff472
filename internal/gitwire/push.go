package gitwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// RefUpdate moves Name from Old (zero: must not exist) to New (zero:
// delete). receive-pack checks Old under the ref's lock: that is the lease.
type RefUpdate struct {
	Name     string
	Old, New plumbing.Hash
}

// RejectedError reports a reference the server refused to update: its
// lease did not hold, or a hook refused it. Nothing else of the push
// failed.
type RejectedError struct {
	Ref    string
	Reason string // the server's words, redacted
}

func (e *RejectedError) Error() string { return fmt.Sprintf("%s rejected: %s", e.Ref, e.Reason) }

// PushSession is one receive-pack conversation.
type PushSession struct {
	r    *Remote
	s    session
	adv  *Advertisement
	caps Caps
}

// OpenPush starts a receive-pack conversation. Over HTTP, when caps is
// not nil (capabilities from an earlier advertisement), no advertisement is
// read: the push goes out at once, protected by its lease. Otherwise the
// advertisement is read (retried when transient), keeping what req asks
// for.
func (r *Remote) OpenPush(ctx context.Context, req AdvertiseRequest, caps Caps) (*PushSession, error) {
	ps := &PushSession{r: r, caps: caps}
	need := caps == nil || !r.w.stateless()
	err := r.retry(ctx, "advertisement", func() error {
		s, err := r.w.open(ctx, ReceivePack, need)
		if err != nil {
			return err
		}
		if need {
			adv, err := parseAdvertisement(s.adv(), req)
			if err != nil {
				s.close()
				return readErr("advertisement", err)
			}
			ps.adv, ps.caps = adv, adv.Caps
		}
		ps.s = s
		return nil
	})
	r.meter.report()
	if err != nil {
		return nil, err
	}
	return ps, nil
}

// Advertisement returns what the server advertised, nil when it was not
// read.
func (ps *PushSession) Advertisement() *Advertisement { return ps.adv }

// Caps returns the server's receive-pack capabilities.
func (ps *PushSession) Caps() Caps { return ps.caps }

// Close ends the conversation.
func (ps *PushSession) Close() { ps.s.close() }

// maxReportLines bounds the status report of a push beyond one line per
// update.
const maxReportLines = 64

// Push sends updates and pack (whole objects the server may lack) and
// reads the server's report. It is not retried: a push whose answer was
// lost may have landed. Errors: *Error of KindRefused wrapping a
// *[RejectedError] for a refused reference, KindRefused for a pack the
// server could not unpack, KindCorrupt for a report that does not account
// for every update, KindUnavailable when the answer never came.
func (ps *PushSession) Push(ctx context.Context, updates []RefUpdate, pack []byte) error {
	op := "receive-pack"
	if len(updates) == 0 {
		return nil
	}
	// No side band: receive-pack then relays its helpers' output through
	// an extra process, measurably slower per push, and the report says
	// what a push needs to know.
	caps := []string{"report-status"}
	if ps.caps.Supports("quiet") {
		caps = append(caps, "quiet")
	}
	caps = append(caps, "agent=railyard")
	var b bytes.Buffer
	for i, u := range updates {
		line := u.Old.String() + " " + u.New.String() + " " + u.Name
		if i == 0 {
			line += "\x00" + strings.Join(caps, " ")
		}
		pktLine(&b, line+"\n")
	}
	pktFlush(&b)
	b.Write(pack)
	p, err := ps.s.request(ctx, b.Bytes())
	if err != nil {
		return ps.r.clean(err)
	}
	err = readReport(op, p, updates)
	ps.r.meter.report()
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return ps.r.clean(err)
}

// readReport reads a report-status and checks that it accounts for every
// update exactly once, and for nothing else.
func readReport(op string, p *pktReader, updates []RefUpdate) error {
	line, err := p.next()
	if err != nil {
		return readErr(op, err)
	}
	if msg, ok := errLine(line); ok {
		return classifyRefusal(op, msg)
	}
	unpack, ok := bytes.CutPrefix(bytes.TrimSuffix(line, []byte("\n")), []byte("unpack "))
	if !ok {
		return newErr(op, KindCorrupt, "report does not start with the unpack status")
	}
	var unpackErr error
	if string(unpack) != "ok" {
		unpackErr = &Error{Op: op, Kind: KindRefused, Msg: "server could not unpack: " + serverText(unpack)}
	}
	pending := make(map[string]bool, len(updates))
	for _, u := range updates {
		pending[u.Name] = true
	}
	var rejected *RejectedError
	for n := 0; ; n++ {
		line, err := p.next()
		if errors.Is(err, errFlush) {
			break
		}
		if err != nil {
			return readErr(op, err)
		}
		if n > len(updates)+maxReportLines {
			return newErr(op, KindCorrupt, "report longer than the push")
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		var ref, reason string
		switch {
		case bytes.HasPrefix(line, []byte("ok ")):
			ref = string(line[3:])
		case bytes.HasPrefix(line, []byte("ng ")):
			r, why, _ := strings.Cut(string(line[3:]), " ")
			ref, reason = r, serverText([]byte(why))
			if reason == "" {
				reason = "no reason given"
			}
		case bytes.HasPrefix(line, []byte("option ")):
			continue // report-status-v2 details
		default:
			return newErr(op, KindCorrupt, "report line %q", sanitize(truncateBytes(line, 60)))
		}
		if !pending[ref] {
			return newErr(op, KindCorrupt, "report names %q, which was not pushed or was reported twice", sanitize(truncateBytes([]byte(ref), 80)))
		}
		delete(pending, ref)
		if reason != "" && rejected == nil {
			rejected = &RejectedError{Ref: ref, Reason: reason}
		}
	}
	if unpackErr != nil {
		return unpackErr
	}
	if len(pending) > 0 {
		return newErr(op, KindCorrupt, "report does not say what became of %d reference(s)", len(pending))
	}
	if rejected != nil {
		return &Error{Op: op, Kind: KindRefused, Msg: rejected.Error(), Err: rejected}
	}
	return nil
}
