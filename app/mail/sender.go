// Package mail delivers the portal's e-mail: the senders (SMTP, or a
// development mailbox), the outbox worker and the templates.
package mail

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"portal/app"
)

// DevSender is used when no SMTP server is configured: it delivers nothing
// and logs that a message went, never what it says (a sign-in link is a
// password). With Keep set it also keeps the newest messages in memory, and
// only there, for the development mailbox page.
type DevSender struct {
	Logger *slog.Logger
	Keep   int        // how many messages to keep in memory (0: none)
	Level  slog.Level // the level of the "mail not sent" line (Info by default)

	mu   sync.Mutex
	kept []*app.Message // oldest first
}

// Send logs m and keeps a copy in memory.
func (s *DevSender) Send(ctx context.Context, m *app.Message) error {
	s.Logger.Log(ctx, s.Level, "mail not sent (no SMTP server)", "to", m.ToAddr, "kind", m.Kind, "subject", m.Subject)
	if s.Keep <= 0 {
		return nil
	}
	c := *m
	c.Status, c.CreatedAt = "sent", time.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kept = append(s.kept, &c)
	if len(s.kept) > s.Keep {
		s.kept = append([]*app.Message(nil), s.kept[len(s.kept)-s.Keep:]...)
	}
	return nil
}

// Messages returns the messages kept in memory, newest first.
func (s *DevSender) Messages() []*app.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*app.Message, len(s.kept))
	for i, m := range s.kept {
		out[len(s.kept)-1-i] = m
	}
	return out
}

// headerSafe removes line breaks so a value cannot add headers.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
