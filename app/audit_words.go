package app

import (
	"sort"
	"strconv"
	"strings"
)

// eventWords is how one kind of audit event reads: Label names the kind
// (the audit log's event filter, the CSV's "event" column) and Verb is the
// sentence after the actor's name, with {subject} standing for what the
// event is about.
type eventWords struct {
	Label string
	Verb  string
}

// auditWords gives every action code the code base appends its words. A
// test (audit_words_test.go) reads the code base for action codes and fails
// when one is missing here, so a new kind of event cannot reach the log as a
// bare code; EventLabel still says something readable if one does.
var auditWords = map[string]eventWords{
	"session.signed_in":              {"Signed in", "signed in"},
	"cycle.opened":                   {"Cycle opened", "opened cycle {subject}"},
	"cycle.closed":                   {"Cycle closed", "closed cycle {subject}"},
	"cycle.version_changed":          {"Cycle moved to another policy version", "moved cycle {subject} to another policy version"},
	"cycle.due_changed":              {"Cycle due date changed", "changed the due date of cycle {subject}"},
	"policy.published":               {"Policy version published", "published policy version {subject}"},
	"roster.imported":                {"Roster imported", "imported the roster"},
	"report.exported":                {"Completion report exported", "exported the completion report of cycle {subject}"},
	"certificates.exported":          {"Certificates exported", "exported the signed certificates of cycle {subject}"},
	"audit.exported":                 {"Audit log exported", "exported the audit log"},
	"hr.scope_set":                   {"HR agencies set", "set the agencies {subject} may see as HR"},
	"mail.address_retried":           {"E-mail address tried again", "asked for mail to {subject} to be tried again"},
	"log.witness_added":              {"Witness of the evidence log added", "added a witness of the evidence log"},
	"log.witness_removed":            {"Witness of the evidence log removed", "removed a witness of the evidence log"},
	"acknowledgment.paper_recorded":  {"Paper acknowledgment recorded", "recorded a paper acknowledgment for {subject}"},
	"acknowledgment.scan_downloaded": {"Scan of a paper form downloaded", "downloaded the scanned paper form of {subject}"},
	"assignment.due_extended":        {"Due date extended for one person", "extended the due date of {subject}"},
	"assignment.exempted":            {"Person exempted from a cycle", "exempted {subject} from signing in a cycle"},
	"assignment.exemption_ended":     {"Exemption ended", "ended the exemption of {subject}"},
	"mail.invitation_resent":         {"Invitation sent again", "sent the invitation to {subject} again"},
	"team.reminder_sent":             {"Reminder sent by a manager", "sent a reminder to {subject}"},
	"supervisor.designated":          {"Social Media Supervisor designated", "designated {subject} as their agency's Social Media Supervisor"},
	"supervisor.ended":               {"Social Media Supervisor designation ended", "ended the designation of {subject} as Social Media Supervisor"},
	"supervisor.ended_by_roster":     {"Supervisor designation ended by a roster change", "ended the designation of {subject} as Social Media Supervisor, after a roster change"},
	"account.created":                {"Agency account added to the registry", "added the agency account {subject} to the registry"},
	"account.changed":                {"Agency account changed", "changed the registry entry of the agency account {subject}"},
	"accounts.exported":              {"Agency accounts exported", "exported the supervisors and the registry of agency accounts"},
	"poster.authorized":              {"Poster authorized on an account", "authorized {subject} to post on an agency account"},
	"poster.revoked":                 {"Poster authorization revoked", "revoked an authorization of {subject} to post on an agency account"},
	"poster.authorization_ended":     {"Poster authorization ended by a roster change", "ended an authorization of {subject} to post, after a roster change"},
	"terms.published":                {"Terms of Comment published", "published a new version of the agency's Terms of Comment"},
	"terms.delivered":                {"Terms of Comment given to a poster", "gave the agency's Terms of Comment to {subject}"},
	"terms.received":                 {"Terms of Comment receipt confirmed", "confirmed receipt of the agency's Terms of Comment"},
	"api_token.created":              {"API token created", "created {subject}"},
	"api_token.revoked":              {"API token revoked", "revoked {subject}"},
	"api.called":                     {"API called", "answered a call of the API made with {subject}"},
}

// EventLabel names a kind of audit event in words. A code without words
// (one added without updating auditWords) is turned into words from the
// code itself: "person.exempted" reads "Person exempted".
func EventLabel(action string) string {
	if w, ok := auditWords[action]; ok {
		return w.Label
	}
	return codeWords(action)
}

// KnownEventLabel reports whether action has words of its own.
func KnownEventLabel(action string) bool {
	_, ok := auditWords[action]
	return ok
}

// codeWords makes a code readable: separators become spaces, the first
// letter a capital.
func codeWords(code string) string {
	s := strings.TrimSpace(strings.NewReplacer(".", " ", "_", " ", "-", " ").Replace(code))
	if s == "" {
		return "Unnamed event"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// EventKind is one kind of event for the audit log's filter.
type EventKind struct {
	Action string
	Label  string
}

// EventKinds lists every kind of event with words, by label.
func EventKinds() []EventKind {
	out := make([]EventKind, 0, len(auditWords))
	for code, w := range auditWords {
		out = append(out, EventKind{code, w.Label})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// ActorWords names who did it: the person, or the portal itself for what
// ran without anyone signed in (the command line, background jobs).
func (e *AuditEvent) ActorWords() string {
	if e.ActorName != "" {
		return e.ActorName
	}
	if e.ActorID != nil {
		return "person " + strconv.FormatInt(*e.ActorID, 10)
	}
	return "The portal"
}

// SubjectWords names what the event is about: a person's name and number,
// a cycle's name, a policy version's code.
func (e *AuditEvent) SubjectWords() string {
	if e.SubjectName != "" {
		if e.SubjectType == "cycle" {
			return "“" + e.SubjectName + "”"
		}
		if e.SubjectNumber != "" {
			return e.SubjectName + " (" + e.SubjectNumber + ")"
		}
		return e.SubjectName
	}
	if e.SubjectType == "" || e.SubjectID == 0 {
		return ""
	}
	return strings.ReplaceAll(e.SubjectType, "_", " ") + " " + strconv.FormatInt(e.SubjectID, 10)
}

// Sentence says the event in plain words: "Ana Ruiz signed in", "Hannah
// Roy closed cycle 2026 annual acknowledgment".
func (e *AuditEvent) Sentence() string {
	subject := e.SubjectWords()
	w, ok := auditWords[e.Action]
	if !ok {
		s := e.ActorWords() + ": " + strings.ToLower(codeWords(e.Action))
		if subject != "" {
			s += " (" + subject + ")"
		}
		return s
	}
	verb := w.Verb
	if subject == "" {
		subject = "(not recorded)"
	}
	return e.ActorWords() + " " + strings.ReplaceAll(verb, "{subject}", subject)
}
