package mail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	gomail "gopkg.in/mail.v2"

	"portal/app"
	"portal/app/evidence"
	"portal/app/store"
)

const benchMessages = 10_000

// benchBareSend is the raw limit: go-mail sending the same message over one
// persistent connection to the in-test SMTP server, nothing else.
func benchBareSend(b *testing.B, srv *smtpServer) float64 {
	host, port, _ := net.SplitHostPort(srv.addr)
	p, _ := strconv.Atoi(port)
	d := gomail.NewDialer(host, p, "", "")
	d.StartTLSPolicy = gomail.NoStartTLS
	sc, err := d.Dial()
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Close()
	m := gomail.NewMessage()
	m.SetHeader("From", "portal@test.invalid")
	m.SetAddressHeader("To", "zoe@agency.example", "Zoë Côté")
	m.SetHeader("Subject", "Reminder: 2026 annual acknowledgment")
	m.SetBody("text/plain", "Hello Zoë,\n\nA reminder: please sign.\n")
	m.AddAlternative("text/html", "<p>Hello Zoë,</p><p>A reminder: please sign.</p>")
	b.ResetTimer()
	for i := 0; i < benchMessages; i++ {
		if err := gomail.Send(sc, m); err != nil {
			b.Fatal(err)
		}
	}
	return float64(benchMessages) / b.Elapsed().Seconds()
}

// BenchmarkDrain sends 10,000 queued messages from the SQLite outbox through
// the worker and the SMTP sender's connection pool, after the bare go-mail
// loop in the same run, and reports the ratio of their rates.
func BenchmarkDrain(b *testing.B) {
	srv := startSMTP(b)
	var bare float64
	b.Run("bare-gomail-one-connection", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			bare = benchBareSend(b, srv)
		}
		b.ReportMetric(bare, "msgs/s")
	})
	b.Run("outbox-worker", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db, err := store.Open(filepath.Join(b.TempDir(), fmt.Sprint("drain", i, ".db")), store.Options{LogKey: benchKey(b)})
			if err != nil {
				b.Fatal(err)
			}
			outbox := store.NewOutbox(db)
			ctx := context.Background()
			for j := 0; j < benchMessages; j++ {
				if _, err := outbox.Enqueue(ctx, &app.Message{DedupeKey: fmt.Sprint("bench:", j), Kind: app.MailReminder, ToAddr: "zoe@agency.example",
					ToName: "Zoë Côté", Subject: "Reminder: 2026 annual acknowledgment", Text: "Hello Zoë,\n\nA reminder: please sign.\n",
					HTML: "<p>Hello Zoë,</p><p>A reminder: please sign.</p>"}); err != nil {
					b.Fatal(err)
				}
			}
			host, port, _ := net.SplitHostPort(srv.addr)
			p, _ := strconv.Atoi(port)
			sender := NewSMTPSender(SMTPConfig{Host: host, Port: p, TLS: "none", From: "portal@test.invalid", Connections: 2})
			w := NewWorker(outbox, sender, slog.New(slog.NewTextHandler(io.Discard, nil)))
			w.Concurrency = 2
			b.StartTimer()
			w.Drain(ctx)
			b.StopTimer()
			msgs, err := outbox.FindMessages(ctx, 1)
			if err != nil || msgs[0].Status != "sent" {
				b.Fatalf("not drained: %v", err)
			}
			sender.Close()
			db.Close()
			b.StartTimer()
		}
		rate := float64(benchMessages*b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "msgs/s")
		if bare > 0 {
			b.ReportMetric(rate/bare, "ratio_vs_bare")
		}
	})
}

func benchKey(b *testing.B) *evidence.Key {
	k, err := evidence.NewKey("bench.invalid/log")
	if err != nil {
		b.Fatal(err)
	}
	return k
}
