package app

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// QuestionsFor returns the knowledge-check questions of one part: those
// about the part's modules.
func (v *PolicyVersion) QuestionsFor(part string) []Question {
	want := map[string]bool{}
	for _, m := range v.ModulesFor(part) {
		want[m.Slug] = true
	}
	var out []Question
	for _, q := range v.Questions {
		if want[q.Module] {
			out = append(out, q)
		}
	}
	return out
}

// Validate checks what the signer typed against the roster name. It reports
// every problem at once (errors.Join of field errors), each naming its field.
func (r *SignRequest) Validate(e *Employee) error {
	if !utf8.ValidString(r.TypedName) || !utf8.ValidString(r.Comment) {
		return Errorf(EINVALID, "The form contained text that is not valid UTF-8.")
	}
	var errs []error
	if strings.TrimSpace(r.TypedName) == "" {
		errs = append(errs, Invalid("typed_name", "Type your full name to sign."))
	} else if !e.SignsAs(r.TypedName) {
		errs = append(errs, Invalid("typed_name", "The name you typed does not match the name on the roster (%s). Type it as shown.", e.SignatureNames()))
	}
	if !r.Intent {
		errs = append(errs, Invalid("intent", "Tick the box to confirm that you intend to sign."))
	}
	if utf8.RuneCountInString(r.Comment) > MaxCommentLength {
		errs = append(errs, Invalid("comment", "The comment is too long: at most %d characters.", MaxCommentLength))
	}
	return errors.Join(errs...)
}

// Progress is where an employee stands in the current cycle.
type Progress struct {
	Cycle        *Cycle
	Kind         *AcknowledgmentKind // what the cycle asks people to sign
	Version      *PolicyVersion
	DueOn        string
	ModulesTotal int
	ModulesRead  int
	Read         map[string]time.Time // when each module was read in this cycle
	Attempts     int
	Passed       *QuizAttempt // the latest passing attempt, if any
	Consented    *ConsentRecord
	Ack          *Acknowledgment
	Exempt       bool // HR excused them from this cycle
	Paper        bool // the acknowledgment that satisfies the cycle is a paper one
}

// Status returns the employee's status on the given day (YYYY-MM-DD): the
// one order of Assignment.Status.
func (p *Progress) Status(today string) string {
	a := Assignment{DueOn: p.DueOn, Started: p.ModulesRead > 0 || p.Attempts > 0, Exempt: p.Exempt, Paper: p.Paper}
	if p.Ack != nil {
		a.SignedAt = &p.Ack.SignedAt
	}
	return a.Status(today)
}

// GuidanceDone reports whether every required module has been read.
func (p *Progress) GuidanceDone() bool { return p.ModulesRead >= p.ModulesTotal }

// NextStep names the next thing to do: "guidance", "quiz", "sign" or "done".
func (p *Progress) NextStep() string {
	switch {
	case p.Ack != nil:
		return "done"
	case !p.GuidanceDone():
		return "guidance"
	case p.Passed == nil:
		return "quiz"
	}
	return "sign"
}

// Intent is the sentence the signer affirms: the kind's, else the version's.
func (p *Progress) Intent() string { return p.Kind.IntentFor(p.Version) }

// Part is the part of the version the cycle's kind covers.
func (p *Progress) Part() string { return p.Kind.Part }

// LoadProgress reads where the employee stands in the current annual
// cycle: the version to sign, what is read, the attempts, the consent and
// the acknowledgment that satisfies the cycle. It returns ENOTFOUND when no
// cycle is open.
func LoadProgress(ctx context.Context, cycles CycleService, kinds KindService, policies PolicyService, acks AckService, e *Employee) (*Progress, error) {
	cycle, err := cycles.CurrentCycle(ctx)
	if err != nil {
		return nil, err
	}
	return LoadProgressIn(ctx, cycle, kinds, policies, acks, e)
}

// LoadProgressIn is LoadProgress for a given cycle, of any kind.
func LoadProgressIn(ctx context.Context, cycle *Cycle, kinds KindService, policies PolicyService, acks AckService, e *Employee) (*Progress, error) {
	kind, err := kinds.FindKind(ctx, cycle.Kind)
	if err != nil {
		return nil, err
	}
	v, err := policies.FindVersionByID(ctx, cycle.PolicyVersionID)
	if err != nil {
		return nil, err
	}
	// One query for the assignment, the modules read, the attempts and the consent.
	d, err := acks.Progress(ctx, cycle.ID, e.ID, v.ID)
	if err != nil {
		return nil, err
	}
	asg := d.Assignment
	p := &Progress{Cycle: cycle, Kind: kind, Version: v, DueOn: asg.DueOn, Read: d.Read, Attempts: d.Attempts,
		Passed: d.Passed, Consented: d.Consent, Exempt: asg.Exempt, Paper: asg.Paper}
	for _, m := range v.ModulesFor(kind.Part) {
		p.ModulesTotal++
		if _, ok := p.Read[m.Slug]; ok {
			p.ModulesRead++
		}
	}
	// The assignment names the acknowledgment that satisfies this cycle: one
	// of the current version, or of an earlier one when only minor versions
	// followed it.
	if asg.AckID != nil {
		acks, _, err := acks.FindAcknowledgments(ctx, AckFilter{ID: asg.AckID})
		if err != nil {
			return nil, err
		}
		if len(acks) == 1 {
			p.Ack = acks[0]
		}
	}
	return p, nil
}
