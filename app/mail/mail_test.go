package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"portal/app"
	"portal/app/secret"
)

// smtpServer is a real SMTP server on 127.0.0.1 that keeps what it receives.
type smtpServer struct {
	mu       sync.Mutex
	messages []string
	rcpts    []string
	reject   int // reply code to refuse RCPT with, 0 to accept
	addr     string
}

func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }

type smtpSession struct{ s *smtpServer }

func (x *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.reject != 0 {
		return &smtp.SMTPError{Code: x.s.reject, Message: "mailbox unavailable"}
	}
	x.s.rcpts = append(x.s.rcpts, to)
	return nil
}
func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.messages = append(x.s.messages, string(b))
	return nil
}
func (x *smtpSession) Reset()        {}
func (x *smtpSession) Logout() error { return nil }

func startSMTP(t testing.TB) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) sender(t testing.TB) *SMTPSender {
	host, port, _ := net.SplitHostPort(s.addr)
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	snd := NewSMTPSender(SMTPConfig{Host: host, Port: p, TLS: "none", From: "Portal <portal@test.invalid>"})
	t.Cleanup(func() { snd.Close() })
	return snd
}

func TestSMTPSenderDelivers(t *testing.T) {
	srv := startSMTP(t)
	snd := srv.sender(t)
	tpl, err := ParseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.New([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	e := &app.Employee{FullName: "Zoë Côté\r\nBcc: victim@evil.example", Email: "zoe@agency.example"}
	m, err := (&SignInLinks{Sealer: keys}).SignInLink(e, "http://127.0.0.1:3000/signin/link/abc", 15)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "" || m.HTML != "" || strings.Contains(string(m.Sealed), "signin/link") {
		t.Fatal("a queued sign-in message holds its link in clear")
	}
	// The worker opens the link only when it sends the message.
	c := &Composer{Templates: tpl, Sealer: keys, LinkMinutes: 15}
	if skip, err := c.Compose(context.Background(), m); err != nil || skip != "" {
		t.Fatalf("compose: %q %v", skip, err)
	}
	other, _ := secret.New([]byte(strings.Repeat("o", 32)))
	if _, err := (&Composer{Templates: tpl, Sealer: other}).Compose(context.Background(), &app.Message{Kind: app.MailSignIn,
		DedupeKey: m.DedupeKey, Sealed: m.Sealed}); err == nil {
		t.Fatal("a link sealed with one secret opened with another")
	}
	for i := 0; i < 3; i++ { // one kept connection carries several messages
		if err := snd.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.messages) != 3 || len(srv.rcpts) != 3 || srv.rcpts[0] != "zoe@agency.example" {
		t.Fatalf("got %d messages to %v", len(srv.messages), srv.rcpts)
	}
	msg := srv.messages[0]
	head := msg[:strings.Index(msg, "\r\n\r\n")]
	for _, want := range []string{"Subject: Your sign-in link", "text/plain", "text/html", "/signin/link/abc"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if strings.Contains(head, "\r\nBcc:") || strings.Contains(head, "victim@evil.example>") && !strings.Contains(head, "=?") {
		t.Errorf("a name split the headers:\n%s", head)
	}
	if !strings.Contains(head, "=?UTF-8?") {
		t.Errorf("the accented name is not encoded:\n%s", head)
	}
}

func TestSMTPSenderPermanentFailure(t *testing.T) {
	srv := startSMTP(t)
	srv.reject = 550
	err := srv.sender(t).Send(context.Background(), &app.Message{ToAddr: "gone@agency.example", Subject: "x", Text: "x"})
	var se *app.SendError
	if !errors.As(err, &se) || se.Failure != app.SendRecipient || se.Stage != "rcpt" || !strings.HasPrefix(se.Reply, "550 ") {
		t.Fatalf("err %v: want a 550 to RCPT TO", err)
	}
	srv.reject = 451
	err = srv.sender(t).Send(context.Background(), &app.Message{ToAddr: "busy@agency.example", Subject: "x", Text: "x"})
	if !errors.As(err, &se) || se.Failure != app.SendTemporary {
		t.Fatalf("err %v: want a temporary SendError", err)
	}
}

// memStore is an in-memory outbox for the worker test.
type memStore struct {
	mu     sync.Mutex
	queued []*app.Message
	sent   []int64
	failed map[int64]bool
}

func (m *memStore) ClaimDue(_ context.Context, c app.Claim) ([]*app.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out, rest []*app.Message
	for _, msg := range m.queued {
		if (msg.Kind == app.MailSignIn) == (c.Lane == app.LaneSignIn) {
			out = append(out, msg)
		} else {
			rest = append(rest, msg)
		}
	}
	m.queued = rest
	return out, nil
}
func (m *memStore) MarkSent(_ context.Context, msg *app.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg.ID)
	return nil
}
func (m *memStore) MarkFailed(_ context.Context, id int64, _ string, _ time.Duration, permanent bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failed[id] = permanent
	return nil
}
func (m *memStore) MarkUnreachable(_ context.Context, id int64, _ string) error {
	return m.MarkFailed(context.Background(), id, "", 0, true)
}
func (m *memStore) RenewLeases(context.Context, string, time.Time) error   { return nil }
func (m *memStore) ReleaseExpired(context.Context, time.Time) (int, error) { return 0, nil }
func (m *memStore) ReleaseOwned(context.Context, string) error             { return nil }
func (m *memStore) ReleaseMessage(context.Context, int64, string) error    { return nil }
func (m *memStore) SetFault(context.Context, string, string) error         { return nil }
func (m *memStore) ClearFault(context.Context) (bool, error)               { return false, nil }

func TestWorkerDeliversAndStops(t *testing.T) {
	srv := startSMTP(t)
	store := &memStore{failed: map[int64]bool{}}
	for i := int64(1); i <= 5; i++ {
		store.queued = append(store.queued, &app.Message{ID: i, ToAddr: "a@agency.example", Subject: "s", Text: "t"})
	}
	w := NewWorker(store, srv.sender(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		store.mu.Lock()
		n := len(store.sent)
		store.mu.Unlock()
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 5 delivered", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker did not stop with its context")
	}
}

func (m *memStore) MarkSkipped(context.Context, int64, string) error { return nil }

// While people are signing, the worker holds its batches back, and sends them
// once signing eases or once it has waited YieldFor.
func TestWorkerYieldsToSigning(t *testing.T) {
	srv := startSMTP(t)
	sent := func(store *memStore) int {
		store.mu.Lock()
		defer store.mu.Unlock()
		return len(store.sent)
	}
	waitSent := func(store *memStore, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for sent(store) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d delivered", sent(store), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	run := func(busy func() bool, yieldFor time.Duration) (*memStore, context.CancelFunc) {
		store := &memStore{failed: map[int64]bool{}}
		for i := int64(1); i <= 3; i++ {
			store.queued = append(store.queued, &app.Message{ID: i, ToAddr: "a@agency.example", Subject: "s", Text: "t"})
		}
		w := NewWorker(store, srv.sender(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
		w.Busy, w.YieldFor = busy, yieldFor
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return store, cancel
	}

	t.Run("held while signing, sent when it eases", func(t *testing.T) {
		var signing atomic.Bool
		var asked atomic.Int64
		signing.Store(true)
		store, _ := run(func() bool { asked.Add(1); return signing.Load() }, time.Hour)
		// The worker asks again and again while people sign: after ten
		// answers of "busy" it has held its batch that long, and sent nothing.
		deadline := time.Now().Add(10 * time.Second)
		for asked.Load() < 10 {
			if time.Now().After(deadline) {
				t.Fatalf("the worker asked %d times whether people were signing", asked.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if n := sent(store); n != 0 {
			t.Fatalf("%d sent while people were signing", n)
		}
		signing.Store(false)
		waitSent(store, 3)
	})
	t.Run("sent after YieldFor however busy", func(t *testing.T) {
		store, _ := run(func() bool { return true }, 100*time.Millisecond)
		waitSent(store, 3)
	})
}
