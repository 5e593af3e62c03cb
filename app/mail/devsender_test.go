package mail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"portal/app"
)

// devMessage is a message whose every part is recognisable.
func devMessage(i int) *app.Message {
	return &app.Message{Kind: app.MailSignIn, ToAddr: fmt.Sprintf("p%d@agency.example", i), ToName: "Zoë Côté",
		Subject: fmt.Sprintf("Your sign-in link %d", i),
		Text:    fmt.Sprintf("text %d: http://portal.example/signin/link/TOKEN-%d", i, i),
		HTML:    fmt.Sprintf(`<a href="http://portal.example/signin/link/TOKEN-%d">html %d</a>`, i, i),
		Attachments: []app.Attachment{{Name: "certificate.pdf", ContentType: "application/pdf",
			Data: []byte(fmt.Sprintf("attachment %d", i))}}}
}

func TestDevSender(t *testing.T) {
	t.Run("it logs that a message went, never what it says", func(t *testing.T) {
		var logs bytes.Buffer
		s := &DevSender{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Keep: 5}
		if err := s.Send(context.Background(), devMessage(1)); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"p1@agency.example", `"kind":"signin"`, "Your sign-in link 1"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the log does not say %q:\n%s", want, logs.String())
			}
		}
		for _, leak := range []string{"TOKEN", "/signin/link/", "text 1", "html 1", "attachment 1"} {
			if strings.Contains(logs.String(), leak) {
				t.Errorf("the log holds %q:\n%s", leak, logs.String())
			}
		}
	})

	t.Run("it keeps at most Keep messages, newest first, as they were sent", func(t *testing.T) {
		s := &DevSender{Logger: slog.New(slog.DiscardHandler), Keep: 3}
		sent := make([]*app.Message, 5)
		for i := range sent {
			sent[i] = devMessage(i)
			if err := s.Send(context.Background(), sent[i]); err != nil {
				t.Fatal(err)
			}
		}
		sent[4].Text = "changed after sending" // the mailbox holds a copy
		got := s.Messages()
		if len(got) != 3 {
			t.Fatalf("%d messages kept, want 3", len(got))
		}
		for i, m := range got {
			n := 4 - i
			if m.ToAddr != fmt.Sprintf("p%d@agency.example", n) || !strings.Contains(m.Text, fmt.Sprintf("TOKEN-%d", n)) || m.Status != "sent" {
				t.Errorf("message %d is to %s, %q, %s; want the message to p%d, sent", i, m.ToAddr, m.Text, m.Status, n)
			}
		}
	})

	t.Run("with Keep 0 it keeps nothing", func(t *testing.T) {
		s := &DevSender{Logger: slog.New(slog.DiscardHandler)}
		if err := s.Send(context.Background(), devMessage(1)); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Messages()); n != 0 {
			t.Fatalf("%d messages kept", n)
		}
	})

	t.Run("messages sent at once are kept up to Keep", func(t *testing.T) {
		s := &DevSender{Logger: slog.New(slog.DiscardHandler), Keep: 10}
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Send(context.Background(), devMessage(i)); err != nil {
					t.Error(err)
				}
				s.Messages()
			}()
		}
		wg.Wait()
		if n := len(s.Messages()); n != 10 {
			t.Fatalf("%d messages kept, want 10", n)
		}
	})
}
