package mail

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portal/app"
)

// scriptServer is a bare SMTP server on 127.0.0.1 that answers each command
// from a script, so that a test can refuse any step, or never answer one.
type scriptServer struct {
	addr    string
	dials   atomic.Int64
	replies map[string]string // command ("greeting", "EHLO", "HELO", "AUTH", "MAIL", "RCPT", "DATA", "." for the end of the data) → reply; "hang" never answers
	mu      sync.Mutex
	done    chan struct{}
	conns   []net.Conn
}

func startScript(t *testing.T, replies map[string]string) *scriptServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptServer{addr: ln.Addr().String(), replies: replies, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.dials.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		close(s.done)
		ln.Close()
		s.dropAll()
		wg.Wait()
	})
	return s
}

// dropAll closes every connection, as a server that closes idle ones does.
func (s *scriptServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *scriptServer) reply(cmd, def string) string {
	if r, ok := s.replies[cmd]; ok {
		return r
	}
	return def
}

func (s *scriptServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) bool {
		if line == "hang" {
			<-s.done
			return false
		}
		_, err := io.WriteString(c, line+"\r\n")
		return err == nil
	}
	if !say(s.reply("greeting", "220 script ready")) {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.Fields(line + " x")[0])
		var ok bool
		switch cmd {
		case "EHLO":
			ok = say(s.reply("EHLO", "250-script\r\n250-AUTH PLAIN\r\n250 8BITMIME"))
		case "DATA":
			resp := s.reply("DATA", "354 go ahead")
			if ok = say(resp); ok && strings.HasPrefix(resp, "354") {
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if l == ".\r\n" {
						break
					}
				}
				ok = say(s.reply(".", "250 queued"))
			}
		case "QUIT":
			say("221 bye")
			return
		default:
			ok = say(s.reply(cmd, "250 ok"))
		}
		if !ok {
			return
		}
	}
}

func (s *scriptServer) sender(t *testing.T, cfg SMTPConfig) *SMTPSender {
	host, port, _ := net.SplitHostPort(s.addr)
	cfg.Host, cfg.Port = host, mustAtoi(t, port)
	if cfg.TLS == "" {
		cfg.TLS = "none"
	}
	cfg.From = "Portal <portal@test.invalid>"
	return NewSMTPSender(cfg)
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var testMessage = &app.Message{ToAddr: "zoe@agency.example", ToName: "Zoë", Subject: "s", Text: "t"}

// Each refusal is known by the step it answered: before any recipient it
// refuses the portal (a configuration fault), at RCPT TO the address, at
// DATA the message; a 4xx is temporary whatever the step.
func TestSMTPSenderClassifiesRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies map[string]string
		cfg     SMTPConfig
		want    app.SendFailure
		stage   string
	}{
		{"554 greeting", map[string]string{"greeting": "554 no service for you"}, SMTPConfig{}, app.SendConfig, "connect"},
		{"550 to EHLO and HELO", map[string]string{"EHLO": "550 go away", "HELO": "550 go away"}, SMTPConfig{}, app.SendConfig, "ehlo"},
		{"no STARTTLS offered", nil, SMTPConfig{TLS: "starttls"}, app.SendConfig, "starttls"},
		{"535 to AUTH", map[string]string{"AUTH": "535 5.7.8 bad credentials"}, SMTPConfig{Username: "portal", Password: "pw"}, app.SendConfig, "auth"},
		{"no AUTH offered", map[string]string{"EHLO": "250 script"}, SMTPConfig{Username: "portal", Password: "pw"}, app.SendConfig, "auth"},
		{"530 to MAIL FROM", map[string]string{"MAIL": "530 5.7.0 Authentication required"}, SMTPConfig{}, app.SendConfig, "mail"},
		{"451 to MAIL FROM", map[string]string{"MAIL": "451 4.3.0 try later"}, SMTPConfig{}, app.SendTemporary, "mail"},
		{"550 to RCPT TO", map[string]string{"RCPT": "550 5.1.1 no such mailbox"}, SMTPConfig{}, app.SendRecipient, "rcpt"},
		{"450 to RCPT TO", map[string]string{"RCPT": "450 4.2.1 mailbox busy"}, SMTPConfig{}, app.SendTemporary, "rcpt"},
		{"554 to DATA", map[string]string{"DATA": "554 5.7.1 no data for you"}, SMTPConfig{}, app.SendRejected, "data"},
		{"552 after the data", map[string]string{".": "552 5.3.4 too big"}, SMTPConfig{}, app.SendRejected, "data"},
		{"421 greeting", map[string]string{"greeting": "421 busy"}, SMTPConfig{}, app.SendTemporary, "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startScript(t, tc.replies)
			err := s.sender(t, tc.cfg).Send(context.Background(), testMessage)
			var se *app.SendError
			if !errors.As(err, &se) || se.Failure != tc.want || se.Stage != tc.stage {
				t.Fatalf("err %v (%+v): want failure %d at %s", err, se, tc.want, tc.stage)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Fatalf("the error holds the password: %v", err)
			}
		})
	}
	t.Run("the server's answer is kept", func(t *testing.T) {
		s := startScript(t, map[string]string{"MAIL": "530 5.7.0 Authentication required"})
		var se *app.SendError
		if err := s.sender(t, SMTPConfig{}).Send(context.Background(), testMessage); !errors.As(err, &se) ||
			se.Reply != "530 5.7.0 Authentication required" {
			t.Fatalf("reply %q", se.Reply)
		}
	})
}

// A server that never answers costs one deadline and one connection per
// message: no second dial, no second try.
func TestSMTPSenderOneDeadlineOneDial(t *testing.T) {
	for _, step := range []string{"greeting", "MAIL", "RCPT", "."} {
		t.Run("hanging at "+step, func(t *testing.T) {
			s := startScript(t, map[string]string{step: "hang"})
			snd := s.sender(t, SMTPConfig{Timeout: 300 * time.Millisecond})
			err := snd.Send(context.Background(), testMessage)
			var se *app.SendError
			if !errors.As(err, &se) || se.Failure != app.SendTemporary {
				t.Fatalf("err %v: want a temporary failure", err)
			}
			if n := s.dials.Load(); n != 1 {
				t.Fatalf("%d connections for one message", n)
			}
		})
	}
	t.Run("a kept connection the server closed is dialled again, once", func(t *testing.T) {
		s := startScript(t, nil)
		snd := s.sender(t, SMTPConfig{})
		if err := snd.Send(context.Background(), testMessage); err != nil {
			t.Fatal(err)
		}
		s.dropAll()
		if err := snd.Send(context.Background(), testMessage); err != nil {
			t.Fatalf("after the server closed the idle connection: %v", err)
		}
		if n := s.dials.Load(); n != 2 {
			t.Fatalf("%d connections", n)
		}
	})
	t.Run("a cancelled context ends the step under way", func(t *testing.T) {
		s := startScript(t, map[string]string{"RCPT": "hang"})
		snd := s.sender(t, SMTPConfig{Timeout: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- snd.Send(ctx, testMessage) }()
		cancel()
		var se *app.SendError
		if err := <-errc; !errors.As(err, &se) || se.Failure != app.SendTemporary {
			t.Fatalf("err %v: want a temporary failure", err)
		}
	})
}
